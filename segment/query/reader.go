package query

import (
	"github.com/blevesearch/vellum"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// NewSearcher returns a Searcher over readers, in that order (the order
// breaks ties between equal scores and numbers Hit.Segment). s is the
// schema the segments were built with; tokenizers are the fields'
// tokenizers (see segment.ResolveTokenizers), used by Searcher.Parse. The
// readers must stay open while the Searcher is in use.
func NewSearcher(readers []*segment.Reader, s *segment.Schema, tokenizers map[string]analysis.Tokenizer) *Searcher {
	srcs := make([]segmentSource, len(readers))
	ids := make([]segment.ID, len(readers))
	for i, r := range readers {
		srcs[i] = readerSource{r}
		ids[i] = r.ID()
	}
	rs := append([]*segment.Reader(nil), readers...)
	doc := func(seg int, d uint32) (*segment.Document, error) { return rs[seg].Document(d) }
	return newSearcher(srcs, ids, s, doc, tokenizers)
}

// readerSource adapts *segment.Reader to segmentSource.
type readerSource struct{ r *segment.Reader }

func (s readerSource) NumDocs() uint32                            { return s.r.NumDocs() }
func (s readerSource) IsDeleted(doc uint32) bool                  { return s.r.IsDeleted(doc) }
func (s readerSource) FieldNorm(f string, d uint32) uint32        { return s.r.FieldNorm(f, d) }
func (s readerSource) DocFreq(f string, t []byte) (uint32, error) { return s.r.DocFreq(f, t) }
func (s readerSource) Terms(f string, prefix []byte, fn func([]byte) bool) error {
	return s.r.Terms(f, prefix, fn)
}

func (s readerSource) TermsMatching(f string, a vellum.Automaton, start, end []byte, fn func([]byte) bool) error {
	return s.r.TermsMatching(f, a, start, end, fn)
}

func (s readerSource) FieldStats(f string) (uint64, uint64) {
	fs := s.r.FieldStats(f)
	return uint64(fs.DocCount), fs.SumTokens
}

func (s readerSource) Postings(f string, t []byte) (postingsIterator, error) {
	p, err := s.r.Postings(f, t)
	if err != nil || p == nil {
		return nil, err // never a typed nil in the interface
	}
	return p, nil
}

func (s readerSource) Fast(f string) (fastColumn, error) {
	c, err := s.r.Fast(f)
	if err != nil || c == nil {
		return nil, err
	}
	return c, nil
}
