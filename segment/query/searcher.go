package query

import (
	"context"
	"fmt"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// Hit is one search result.
type Hit struct {
	// Segment is the index of the segment in the Searcher's reader list.
	Segment int
	// SegmentID identifies that segment.
	SegmentID segment.ID
	// Doc is the document's id within the segment.
	Doc uint32
	// Score is the document's score; higher is better.
	Score float32
}

// Searcher runs queries over a fixed list of segments. Term statistics
// (document count, document frequency, average field length) are summed
// over all its segments, as Lucene's IndexSearcher does, so a document
// scores the same whichever segment holds it. Statistics count deleted
// documents until a merge drops them (as in Lucene); deleted documents are
// never returned. A Searcher is safe for concurrent use.
type Searcher struct {
	coll       *collection
	ids        []segment.ID
	doc        func(seg int, doc uint32) (*segment.Document, error)
	tokenizers map[string]analysis.Tokenizer
}

func newSearcher(segs []segmentSource, ids []segment.ID, s *segment.Schema,
	doc func(int, uint32) (*segment.Document, error), tokenizers map[string]analysis.Tokenizer) *Searcher {
	return &Searcher{coll: newCollection(s, segs), ids: ids, doc: doc, tokenizers: tokenizers}
}

// Parse parses a query string with the searcher's schema and tokenizers;
// see the package-level Parse.
func (s *Searcher) Parse(input string, defaultFields []string) (Query, error) {
	return Parse(input, s.coll.schema, defaultFields, s.tokenizers)
}

// Search returns the k best hits for q, best first; hits with equal scores
// are ordered by segment, then doc. Disjunctions of terms (a Term, or a
// Boolean of Should terms with optional MustNot clauses, which is what a
// query string of plain words parses to) use block-max WAND, which skips
// documents that cannot enter the top k; other queries score every match.
// The result is the same as SearchExhaustive's.
func (s *Searcher) Search(ctx context.Context, q Query, k int) ([]Hit, error) {
	return s.search(ctx, q, k, true)
}

// SearchExhaustive is Search without pruning: it scores every match. It
// exists to check Search and to measure what pruning saves.
func (s *Searcher) SearchExhaustive(ctx context.Context, q Query, k int) ([]Hit, error) {
	return s.search(ctx, q, k, false)
}

func (s *Searcher) search(ctx context.Context, q Query, k int, prune bool) ([]Hit, error) {
	if k <= 0 {
		return nil, fmt.Errorf("query: search for %d hits: k must be positive", k)
	}
	w, err := s.coll.weight(q)
	if err != nil {
		return nil, err
	}
	top := &topK{k: k}
	terms, excl, wand := wandable(w)
	for i, src := range s.coll.segs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seg := &trackSource{segmentSource: src}
		hit := func(doc uint32, score float64) Hit {
			return Hit{Segment: i, SegmentID: s.ids[i], Doc: doc, Score: float32(score)}
		}
		if prune && wand {
			if err := wandSearch(ctx, seg, hit, terms, excl, top); err != nil {
				return nil, s.segErr(i, err)
			}
			if err := seg.err(); err != nil {
				return nil, s.segErr(i, err)
			}
			seg.release()
			continue
		}
		sc, err := w.scorer(ctx, seg)
		if err != nil {
			return nil, s.segErr(i, err)
		}
		if sc == nil {
			continue
		}
		n := 0
		for d := sc.doc(); d != noMoreDocs; d = sc.next() {
			if n++; n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if !seg.IsDeleted(d) {
				top.offer(hit(d, sc.score()))
			}
		}
		if err := seg.err(); err != nil {
			return nil, s.segErr(i, err)
		}
		seg.release()
	}
	return top.sorted(), nil
}

// trackSource remembers the postings a search opens in one segment, so
// that an iterator that stopped early on corrupt data (and reports it
// through Err, as *segment.Postings does) fails the search instead of
// silently truncating its results.
type trackSource struct {
	segmentSource
	opened []interface{ Err() error }
}

func (t *trackSource) Postings(field string, term []byte) (postingsIterator, error) {
	p, err := t.segmentSource.Postings(field, term)
	if e, ok := p.(interface{ Err() error }); ok && err == nil {
		t.opened = append(t.opened, e)
	}
	return p, err
}

func (t *trackSource) err() error {
	for _, e := range t.opened {
		if err := e.Err(); err != nil {
			return err
		}
	}
	return nil
}

// release hands the iterators back for reuse by later searches (see
// segment.Postings.Release). Call it only once the segment's scorers are
// done with, and only on paths that checked err: an early return simply
// leaves them to the garbage collector.
func (t *trackSource) release() {
	for _, e := range t.opened {
		if r, ok := e.(interface{ Release() }); ok {
			r.Release()
		}
	}
	t.opened = t.opened[:0]
}

func (s *Searcher) segErr(i int, err error) error {
	if err == context.Canceled || err == context.DeadlineExceeded {
		return err
	}
	return fmt.Errorf("query: segment %s: %w", s.ids[i], err)
}

// wandable reports whether w is a disjunction of terms that block-max WAND
// can run, and returns its terms and excluded clauses.
func wandable(w weight) ([]*termWeight, []weight, bool) {
	switch w := w.(type) {
	case *termWeight:
		return []*termWeight{w}, nil, true
	case *boolWeight:
		if len(w.must) > 0 || len(w.should) == 0 {
			return nil, nil, false
		}
		terms := make([]*termWeight, len(w.should))
		for i, sw := range w.should {
			tw, ok := sw.(*termWeight)
			if !ok {
				return nil, nil, false
			}
			terms[i] = tw
		}
		return terms, w.mustNot, true
	}
	return nil, nil, false
}

// Count returns the number of live documents q matches.
func (s *Searcher) Count(ctx context.Context, q Query) (int, error) {
	w, err := s.coll.weight(q)
	if err != nil {
		return 0, err
	}
	total := 0
	for i, src := range s.coll.segs {
		seg := &trackSource{segmentSource: src}
		sc, err := w.scorer(ctx, seg)
		if err != nil {
			return 0, s.segErr(i, err)
		}
		if sc == nil {
			continue
		}
		n := 0
		for d := sc.doc(); d != noMoreDocs; d = sc.next() {
			if n++; n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return 0, err
				}
			}
			if !seg.IsDeleted(d) {
				total++
			}
		}
		if err := seg.err(); err != nil {
			return 0, s.segErr(i, err)
		}
		seg.release()
	}
	return total, nil
}

// Document returns the stored fields of a hit's document.
func (s *Searcher) Document(h Hit) (*segment.Document, error) {
	if h.Segment < 0 || h.Segment >= len(s.ids) {
		return nil, fmt.Errorf("query: hit names segment #%d, but the searcher has %d segments", h.Segment, len(s.ids))
	}
	if h.SegmentID != s.ids[h.Segment] {
		return nil, fmt.Errorf("query: hit names segment %s at #%d, but the searcher has %s there", h.SegmentID, h.Segment, s.ids[h.Segment])
	}
	return s.doc(h.Segment, h.Doc)
}
