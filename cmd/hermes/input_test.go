package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/cmd/hermes/internal/jsonl"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// The tests of bad input to hermes index: what a user gets wrong, or what a
// broken file does, must give a clear error and lose nothing.

// An over-long line with --on-error skip is reported and skipped, and the
// lines around it are indexed.
func TestOverLongLineSkipped(t *testing.T) {
	lines, _ := corpus(6)
	lines[3] = `{"id":"doc-003","title":"huge","text":"` + strings.Repeat("x", 64<<20) + `"}` // line 4
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--on-error", "skip", "--schema", writeSchema(t))
	if r.code != 0 || !strings.Contains(r.stdout, "line 4: longer than 64 MiB") {
		t.Fatalf("index: %v", r)
	}
	if n := docCount(t, dir); n != 5 {
		t.Fatalf("index holds %d documents, want the 5 others", n)
	}
}

// A UTF-8 byte-order mark, as some editors write, is not a malformed line.
func TestByteOrderMarkAccepted(t *testing.T) {
	lines, _ := corpus(4)
	lines[0] = "\uFEFF" + lines[0]
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines)); r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	if n := docCount(t, dir); n != 4 {
		t.Fatalf("index holds %d documents, want 4", n)
	}
}

// A run that rejects every line has failed: it exits non-zero, and leaves
// no index behind if it was to create one.
func TestEveryLineRejectedFails(t *testing.T) {
	lines := []string{`{"id":"a","n":"x"}`, `not json`, `{"id":"b","n":"y"}`}
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--on-error", "skip", "--schema", writeSchema(t))
	if r.code != exitFailure || !strings.Contains(r.stderr, "every document was rejected") || !strings.Contains(r.stderr, "line 2:") {
		t.Fatalf("want a failure listing the rejected lines: %v", r)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the failed run left %s behind (%v)", dir, err)
	}
}

// A first run that fails leaves no index, so that the next run starts
// afresh (with its own inferred schema); in a directory that existed, it
// removes only what it created.
func TestFailedFirstRunLeavesNoIndex(t *testing.T) {
	lines, _ := corpus(5)
	bad := append([]string(nil), lines...)
	bad[2] = `{"id":"doc-002","title":` // line 3
	for _, existing := range []bool{false, true} {
		parent := t.TempDir()
		dir := filepath.Join(parent, "idx")
		if existing {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, bad), "--schema", writeSchema(t))
		if r.code != exitFailure || !strings.Contains(r.stderr, "line 3") {
			t.Fatalf("index: %v", r)
		}
		entries, err := os.ReadDir(dir)
		switch {
		case !existing && !os.IsNotExist(err):
			t.Fatalf("the failed first run left %s behind (%d entries, %v)", dir, len(entries), err)
		case existing && (err != nil || len(entries) != 1 || entries[0].Name() != "notes.txt"):
			t.Fatalf("the failed first run left %v in a directory that held only notes.txt (%v)", entries, err)
		}
		// The next run infers its schema: no leftover index with another one.
		if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines)); r.code != 0 {
			t.Fatalf("second run: %v", r)
		}
		if n := docCount(t, dir); n != 5 {
			t.Fatalf("index holds %d documents, want 5", n)
		}
	}
}

// A gzip member whose checksum does not match is found before any of its
// lines is committed, even with --commit-every.
func TestCorruptGzipMemberIsNotCommitted(t *testing.T) {
	lines, _ := corpus(12)
	var buf bytes.Buffer
	for _, part := range [][]string{lines[:6], lines[6:]} {
		// Stored, not compressed, so that a changed byte leaves the
		// stream decodable and only the checksum catches it.
		zw, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write([]byte(strings.Join(part, "\n") + "\n"))
		zw.Close()
	}
	data := buf.Bytes()
	i := bytes.LastIndex(data, []byte("Title doc-0"))
	data[i] = 'X' // in the second member: still valid JSON
	path := filepath.Join(t.TempDir(), "docs.jsonl.gz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", path, "--commit-every", "2", "--schema", writeSchema(t))
	if r.code != exitFailure || !strings.Contains(r.stderr, "checksum") {
		t.Fatalf("want a checksum failure: %v", r)
	}
	if n := docCount(t, dir); n != 6 {
		t.Fatalf("index holds %d documents, want the 6 of the intact first member", n)
	}
}

// hermes index hands runs of documents to the writer at once; what it
// commits, rejects and stops at must be, line by line, what adding one at
// a time gives: a model over random inputs of good, duplicate, malformed
// and mistyped lines, with random --commit-every, --limit and --on-error,
// and a queue of 2 so that runs keep finding it full.
func TestIndexRunsAddAsLineByLine(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	schema, err := segment.ParseSchema([]byte(`{"fields":[
		{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},
		{"name":"title","type":"text","indexed":true,"stored":true},
		{"name":"n","type":"f64","stored":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for round := range 12 {
		n := 1 + rng.Intn(300)
		commitEvery, limit := []int{0, 7, 64, 100}[rng.Intn(4)], []int{0, 0, 1 + rng.Intn(n)}[rng.Intn(3)]
		skip := rng.Intn(3) > 0
		var lines []string
		kinds := make([]int, n)
		for i := range n {
			kinds[i] = rng.Intn(20)
			if i == 0 {
				kinds[i] = 19 // one good line, so that the run never rejects everything
			}
			switch kinds[i] {
			case 0:
				lines = append(lines, `{"id":"x","title":`) // malformed
			case 1:
				lines = append(lines, fmt.Sprintf(`{"id":"k%d","n":"one"}`, i)) // wrong type
			case 2:
				lines = append(lines, fmt.Sprintf(`{"id":"k%d","title":"again"}`, rng.Intn(i+1))) // maybe a duplicate
			default:
				lines = append(lines, fmt.Sprintf(`{"id":"k%d","title":"line %d","n":%d}`, i, i+1, i))
			}
		}
		// The model: one line at a time.
		seen := map[string]bool{}
		var wantRejected []int
		total, pending, committed, stopLine := 0, 0, 0, 0
		for i, line := range lines {
			if limit > 0 && total >= limit {
				break
			}
			var d struct{ ID string }
			good := kinds[i] > 1 && json.Unmarshal([]byte(line), &d) == nil && !seen[d.ID]
			if good {
				seen[d.ID] = true
				total++
				pending++
			} else if !skip {
				stopLine = i + 1
				break
			} else {
				wantRejected = append(wantRejected, i+1)
			}
			if commitEvery > 0 && pending >= commitEvery {
				committed += pending
				pending = 0
			}
		}
		if stopLine == 0 {
			committed += pending
		}

		dir := filepath.Join(t.TempDir(), fmt.Sprint(round))
		in, err := jsonl.NewReader("input", strings.NewReader(strings.Join(lines, "\n")), -1)
		if err != nil {
			t.Fatal(err)
		}
		job := indexJob{dir: dir, schema: schema, cfg: hermes.Config{Workers: 1, QueueCapacity: 2},
			commitEvery: commitEvery, skip: skip, limit: limit, quiet: true, log: io.Discard}
		res, err := job.run(context.Background(), in)
		what := fmt.Sprintf("round %d: %d lines, --commit-every %d --limit %d skip %v", round, n, commitEvery, limit, skip)
		if stopLine > 0 {
			holds := fmt.Sprintf("holds what was committed: %s of this run", plural(committed, "document", "documents"))
			if committed == 0 {
				holds = "nothing was committed"
			}
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d:", stopLine)) || !strings.Contains(err.Error(), holds) {
				t.Fatalf("%s: got %v, want a stop at line %d, and %q", what, err, stopLine, holds)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var gotRejected []int
		for _, rj := range res.rejected {
			gotRejected = append(gotRejected, rj.line)
		}
		if res.docs != int64(committed) || fmt.Sprint(gotRejected) != fmt.Sprint(wantRejected) {
			t.Fatalf("%s: committed %d, rejected lines %v; want %d, %v", what, res.docs, gotRejected, committed, wantRejected)
		}
	}
}

// failingAfter reads its lines, then fails as a broken disk or pipe does.
type failingAfter struct{ r io.Reader }

func (f *failingAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("input/output error")
	}
	return n, err
}

// --limit N stops at the Nth document and commits it, whatever follows in
// the input: it reads no further than it must, so that neither an input
// that breaks after those lines nor one that waits for more (a pipe left
// open) stops it from committing them. The lines end the first batch here,
// so the next thing the loop sees is the read error.
func TestIndexLimitCommitsBeforeLaterInputError(t *testing.T) {
	schema, err := segment.ParseSchema([]byte(`{"fields":[{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var lines strings.Builder
	for i := range 5 {
		fmt.Fprintf(&lines, "{\"id\":\"k%d\"}\n", i)
	}
	in, err := jsonl.NewReader("input", &failingAfter{strings.NewReader(lines.String())}, -1)
	if err != nil {
		t.Fatal(err)
	}
	job := indexJob{dir: t.TempDir(), schema: schema, cfg: hermes.Config{Workers: 1}, limit: 5, quiet: true, log: io.Discard}
	res, err := job.run(context.Background(), in)
	if err != nil {
		t.Fatalf("--limit 5 over 5 good lines and a read error after them: %v; want the 5 committed", err)
	}
	if res.docs != 5 {
		t.Fatalf("--limit 5 over 5 good lines: %d documents committed", res.docs)
	}
}

// The same from a pipe that stays open after the lines: --limit 2 commits
// the two and returns, rather than wait for a third line that never comes.
func TestIndexLimitReturnsWithPipeLeftOpen(t *testing.T) {
	schema, err := segment.ParseSchema([]byte(`{"fields":[{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	defer pw.Close() // ends the feeder's read, after the run
	go pw.Write([]byte("{\"id\":\"a\"}\n{\"id\":\"b\"}\n"))
	in, err := jsonl.NewReader("input", pr, -1)
	if err != nil {
		t.Fatal(err)
	}
	job := indexJob{dir: t.TempDir(), schema: schema, cfg: hermes.Config{Workers: 1}, limit: 2, quiet: true, log: io.Discard}
	type result struct {
		docs int64
		err  error
	}
	done := make(chan result, 1)
	go func() {
		res, err := job.run(context.Background(), in)
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{docs: res.docs}
	}()
	select {
	case r := <-done:
		if r.err != nil || r.docs != 2 {
			t.Fatalf("--limit 2 from an open pipe: %v, %d documents committed; want 2", r.err, r.docs)
		}
	case <-time.After(30 * time.Second): // a bound on a hang, not a wait for something to happen
		t.Fatal("--limit 2 from an open pipe: still running after 30 s, waiting for more input")
	}
}

// Every document indexed holds exactly its line's values, however the
// batches of lines were decoded: decoders reuse their memory batch after
// batch, so a document handed on before the writer copied it would hold a
// later line's text.
func TestIndexedDocumentsAreTheirLines(t *testing.T) {
	rng := rand.New(rand.NewSource(14))
	words := []string{"alpha", "beta", "gamma", "délta", "ε", "中文", "tab\\there", "quote\\\"d", "line\\nbreak", "x"}
	want := map[string]string{}
	var lines []string
	for i := range 3000 {
		var text strings.Builder
		for range rng.Intn(400) {
			text.WriteString(words[rng.Intn(len(words))])
			text.WriteByte(' ')
		}
		id := fmt.Sprintf("k%d", i)
		line := fmt.Sprintf(`{"id":%q,"title":"common %d","text":"%s"}`, id, i, text.String())
		var d struct{ Text string }
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		want[id] = fmt.Sprintf("common %d|%s", i, d.Text)
		lines = append(lines, line)
	}
	dir := t.TempDir()
	in, err := jsonl.NewReader("input", strings.NewReader(strings.Join(lines, "\n")), -1)
	if err != nil {
		t.Fatal(err)
	}
	job := indexJob{dir: dir, schema: benchSchema(false), cfg: hermes.Config{Workers: 2, QueueCapacity: 64},
		quiet: true, log: io.Discard}
	if _, err := job.run(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	fs, err := storage.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := hermes.OpenReader(context.Background(), fs, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hits, err := r.Search(context.Background(), "title:common", 2*len(lines))
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != len(lines) {
		t.Fatalf("%d documents found, want %d", len(hits), len(lines))
	}
	for _, h := range hits {
		d, err := h.Document(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, v := range d.Values {
			got[v.Field] = v.Str
		}
		if w := want[got["id"]]; got["title"]+"|"+got["text"] != w {
			t.Fatalf("document %q holds %.60q | %.60q, want %.80q", got["id"], got["title"], got["text"], w)
		}
	}
}
