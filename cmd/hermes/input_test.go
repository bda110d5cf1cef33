package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
