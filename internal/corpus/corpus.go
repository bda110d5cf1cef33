// Package corpus loads the project's benchmark corpus for benchmarks in any
// package.
package corpus

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
)

// realmixPath is where the corpus lies relative to a directory above the
// benchmark: beside the repository (or beside its worktrees' directory).
const realmixPath = "shared/corpus/realmix.jsonl.gz"

// Schema is realmix's schema: id a stored keyword (the primary key if
// primary), title and text stored text.
func Schema(primary bool) *segment.Schema {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: primary},
		segment.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true},
	)
	if err != nil {
		panic(err) // fixed fields: a bug
	}
	return s
}

// Realmix decodes the first n documents of realmix with s and returns them
// with their total size in bytes. It skips tb when the corpus is not found
// in a parent of the working directory.
func Realmix(tb testing.TB, s *segment.Schema, n int) ([]*segment.Document, int64) {
	f, err := openRealmix()
	if err != nil {
		tb.Skip("benchmark corpus not found:", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var docs []*segment.Document
	var bytes int64
	for sc.Scan() && len(docs) < n {
		d, err := s.DecodeJSON(sc.Bytes())
		if err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, d)
		bytes += int64(d.SizeBytes())
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return docs, bytes
}

// openRealmix opens the corpus in the nearest parent directory that has it.
func openRealmix() (*os.File, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		f, err := os.Open(filepath.Join(dir, realmixPath))
		if err == nil || filepath.Dir(dir) == dir {
			return f, err
		}
		dir = filepath.Dir(dir)
	}
}
