package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// The copies of a corpus follow each other line by line; from the second
// on, each leading id is suffixed with the copy's number, also in a line
// longer than the reader's buffer, and a last line without its newline
// still ends before the next copy starts.
func TestRepeatReaderSuffixesIDsPerCopy(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	corpus := `{"id":"a","text":"one"}` + "\n" +
		`{"id":"b\"q","text":"` + long + `"}` + "\n" +
		`{"text":"no id first"}` + "\n" +
		`{"id":"c","text":"last"}`
	want := func(k string) string {
		return `{"id":"a` + k + `","text":"one"}` + "\n" +
			`{"id":"b\"q` + k + `","text":"` + long + `"}` + "\n" +
			`{"text":"no id first"}` + "\n" +
			`{"id":"c` + k + `","text":"last"}` + "\n"
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "c.jsonl")
	if err := os.WriteFile(plain, []byte(corpus), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(corpus))
	zw.Close()
	zipped := filepath.Join(dir, "c.jsonl.gz")
	if err := os.WriteFile(zipped, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{plain, zipped} {
		r := newRepeatReader(path, 3)
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if w := want("") + want("-2") + want("-3"); string(got) != w {
			t.Errorf("%s: read %d bytes, want %d; first difference at %d", path, len(got), len(w), firstDiff(string(got), w))
		}
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// hermes bench --repeat 2 indexes every document twice, under distinct ids,
// and says so.
func TestBenchRepeat(t *testing.T) {
	lines, _ := corpus(20)
	for i := range lines {
		lines[i] = strings.Replace(lines[i], fmt.Sprintf(`,"n":%d`, i), "", 1) // not in the benchmark schema
	}
	r := runHermes(t, "", "bench", "--input", writeFile(t, lines), "--repeat", "2", "--workers", "1")
	if r.code != 0 {
		t.Fatalf("bench: %v", r)
	}
	for _, want := range []string{"corpus 2x", "documents   40 in", "while indexing", "of it indexing", "docs per CPU second"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bench output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "rejected") {
		t.Errorf("bench rejected lines of the second copy:\n%s", r.stdout)
	}
}
