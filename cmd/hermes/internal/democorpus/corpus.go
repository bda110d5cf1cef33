// Package democorpus holds the small sample corpus that `hermes demo` indexes:
// passages of State of the Union addresses (public domain) and WordNet 3.0
// glosses (WordNet licence). README.md names the sources and the licences;
// gen/ regenerates the data from the project's benchmark corpus.
package democorpus

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
)

//go:generate go run ./gen -input ../../../../../shared/corpus/realmix.jsonl.gz -out demo.jsonl.gz

// Compressed is the corpus as embedded: gzip-compressed JSON lines, one
// document a line, with the fields id, title, text and (for speeches) year.
//
//go:embed demo.jsonl.gz
var Compressed []byte

// Notice is the licence notice of WordNet 3.0, whose glosses are part of the
// corpus; it must accompany every copy.
//
//go:embed LICENSE-WORDNET
var Notice string

// Open returns the corpus as uncompressed JSON lines.
func Open() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(Compressed))
}
