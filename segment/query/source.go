package query

import (
	"math"

	"github.com/blevesearch/vellum"
)

// noMoreDocs is the doc id an exhausted iterator reports (segment.NoMoreDocs).
const noMoreDocs = math.MaxUint32

// segmentSource is what the engine needs from one segment. The Searcher
// adapts *segment.Reader to it; tests also run the algorithms over an
// in-memory implementation.
type segmentSource interface {
	// NumDocs is the number of doc ids, deleted ones included.
	NumDocs() uint32
	IsDeleted(doc uint32) bool
	// FieldStats returns the number of documents with the field, and the
	// sum of their token counts.
	FieldStats(field string) (docCount uint64, sumTokens uint64)
	DocFreq(field string, term []byte) (uint32, error)
	// Postings returns nil, nil when the term is absent. The iterator is
	// positioned on its first document.
	Postings(field string, term []byte) (postingsIterator, error)
	// Terms calls fn for each term of field starting with prefix, in order,
	// until fn returns false. The slice is only valid during the call.
	Terms(field string, prefix []byte, fn func(term []byte) bool) error
	// TermsMatching calls fn for each term of field that a accepts, with
	// start <= term < end (nil bounds are open), in order, until fn returns
	// false. The slice is only valid during the call.
	TermsMatching(field string, a vellum.Automaton, start, end []byte, fn func(term []byte) bool) error
	FieldNorm(field string, doc uint32) uint32
	// Fast returns the fast column of field.
	Fast(field string) (fastColumn, error)
}

// postingsIterator walks one term's postings in increasing doc order.
type postingsIterator interface {
	Doc() uint32
	Next() uint32
	Advance(target uint32) uint32
	Freq() uint32
	Positions(buf []uint32) []uint32
	// BlockMax returns the upper bounds of the block of postings holding
	// target: its last doc, the largest frequency and the smallest field
	// length in it. ok is false when no block holds target. It does not
	// move the iterator.
	BlockMax(target uint32) (lastDoc, maxFreq, minNorm uint32, ok bool)
}

// fastColumn reads one numeric value per document.
type fastColumn interface {
	U64(doc uint32) (uint64, bool)
	I64(doc uint32) (int64, bool)
	F64(doc uint32) (float64, bool)
}
