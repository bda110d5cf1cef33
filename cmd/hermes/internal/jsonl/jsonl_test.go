package jsonl

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type line struct {
	text string
	no   int
}

func readAll(t *testing.T, r *Reader) []line {
	t.Helper()
	var out []line
	for {
		b, no, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, line{string(b), no})
	}
}

// input has blank lines, a CRLF line and no final newline, so the line
// numbers of the returned lines are 1, 3, 4 and 6.
const input = "{\"id\":\"1\"}\n\n{\"id\":\"2\"}\r\n{\"id\":\"3\"}\n   \n{\"id\":\"4\"}"

var want = []line{{`{"id":"1"}`, 1}, {`{"id":"2"}`, 3}, {`{"id":"3"}`, 4}, {`{"id":"4"}`, 6}}

func check(t *testing.T, got []line) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d lines %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPlainFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docs.jsonl")
	if err := os.WriteFile(path, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != int64(len(input)) {
		t.Errorf("Size = %d, want %d", r.Size(), len(input))
	}
	check(t, readAll(t, r))
	if r.Bytes() != int64(len(input)) || r.Consumed() != int64(len(input)) {
		t.Errorf("Bytes = %d, Consumed = %d, want both %d", r.Bytes(), r.Consumed(), len(input))
	}
}

// Gzip is recognized by content: the name does not matter.
func TestGzipFileWhateverItsName(t *testing.T) {
	data := gz(t, input)
	for _, name := range []string{"docs.jsonl.gz", "docs.jsonl"} {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		check(t, readAll(t, r))
		if r.Size() != int64(len(data)) || r.Consumed() != int64(len(data)) {
			t.Errorf("%s: Size = %d, Consumed = %d, want both the compressed size %d", name, r.Size(), r.Consumed(), len(data))
		}
		if r.Bytes() != int64(len(input)) {
			t.Errorf("%s: Bytes = %d, want the uncompressed size %d", name, r.Bytes(), len(input))
		}
		r.Close()
	}
}

func TestStdin(t *testing.T) {
	for _, data := range [][]byte{[]byte(input), gz(t, input)} {
		r, err := Open("-", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if r.Name() != "stdin" || r.Size() != -1 {
			t.Errorf("Name = %q, Size = %d; want stdin, -1", r.Name(), r.Size())
		}
		check(t, readAll(t, r))
	}
}

func TestEmptyInput(t *testing.T) {
	r, err := Open("-", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, r); len(got) != 0 {
		t.Fatalf("got %+v from empty input", got)
	}
}

// Lines longer than the read buffer come back whole.
func TestLongLine(t *testing.T) {
	long := `{"text":"` + strings.Repeat("x", 3<<20) + `"}`
	r, err := Open("-", strings.NewReader("{}\n"+long+"\n{}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != 3 || got[1].text != long || got[1].no != 2 || got[2].no != 3 {
		t.Fatalf("got %d lines, line 2 of %d bytes numbered %d", len(got), len(got[1].text), got[1].no)
	}
}

func TestTruncatedGzipNamesTheLine(t *testing.T) {
	data := gz(t, strings.Repeat("{\"id\":\"x\"}\n", 1000))
	r, err := Open("-", bytes.NewReader(data[:len(data)-10]))
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for {
		_, _, err := r.Next()
		if err != nil {
			last = err
			break
		}
	}
	if last == io.EOF {
		t.Fatal("a truncated gzip stream read to a clean EOF")
	}
	if !errors.Is(last, io.ErrUnexpectedEOF) || !strings.Contains(last.Error(), "after line") {
		t.Fatalf("err = %v, want an unexpected EOF naming the line", last)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope.jsonl"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
}

func TestByteOrderMarkIsSkipped(t *testing.T) {
	for _, data := range [][]byte{[]byte("\uFEFF" + input), gz(t, "\uFEFF"+input)} {
		r, err := Open("-", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		check(t, readAll(t, r))
	}
	// Only at the start: elsewhere it is the line's content.
	r, _ := Open("-", strings.NewReader("{}\n\uFEFF{}\n"))
	if got := readAll(t, r); len(got) != 2 || got[1].text != "\uFEFF{}" {
		t.Fatalf("got %+v", got)
	}
}

// A line over the limit is reported with its number and skipped; the lines
// around it are read.
func TestLongLineIsSkipped(t *testing.T) {
	for _, tail := range []string{"\n{\"id\":\"3\"}\n", ""} { // with and without a line after it
		long := `{"text":"` + strings.Repeat("x", 3<<20) + `"}`
		r, err := Open("-", strings.NewReader("{\"id\":\"1\"}\n"+long+tail))
		if err != nil {
			t.Fatal(err)
		}
		r.SetMaxLine(1 << 20)
		if b, no, err := r.Next(); err != nil || no != 1 || string(b) != `{"id":"1"}` {
			t.Fatalf("line 1: %q %d %v", b, no, err)
		}
		_, _, err = r.Next()
		var le *LongLineError
		if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), "line 2: longer than 1 MiB") {
			t.Fatalf("line 2: err = %v, want a LongLineError for line 2", err)
		}
		if tail != "" {
			if b, no, err := r.Next(); err != nil || no != 3 || string(b) != `{"id":"3"}` {
				t.Fatalf("line 3: %q %d %v", b, no, err)
			}
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("end: %v", err)
		}
	}
}

// gzMembers concatenates one gzip member per part, stored uncompressed so
// that a test can change a byte of the data and keep the stream decodable.
func gzMembers(t *testing.T, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts {
		zw, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// Verified covers the lines of the members read to their end, and a
// member whose checksum does not match is an error at its end.
func TestGzipMembersAreVerified(t *testing.T) {
	first := strings.Repeat("{\"id\":\"a\"}\n", 3)
	second := strings.Repeat("{\"id\":\"b\"}\n", 3)
	r, err := Open("-", bytes.NewReader(gzMembers(t, first, second)))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != 6 || r.Verified() != int64(len(first+second)) {
		t.Fatalf("read %d lines, verified %d bytes; want 6 and %d", len(got), r.Verified(), len(first+second))
	}

	data := gzMembers(t, first, second)
	i := bytes.LastIndex(data, []byte(`"b"`))
	data[i+1] = 'c' // the second member's data no longer matches its CRC
	r, err = Open("-", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for last == nil {
		_, _, last = r.Next()
		if last == nil && r.Bytes() > int64(len(first)) && r.Verified() > int64(len(first)) {
			t.Fatalf("a line of the corrupt member counts as verified")
		}
	}
	if !errors.Is(last, gzip.ErrChecksum) || r.Verified() != int64(len(first)) {
		t.Fatalf("err = %v, verified %d; want a checksum error and the first member verified", last, r.Verified())
	}
}
