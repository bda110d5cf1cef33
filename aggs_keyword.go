package hermes

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hermes-search/hermes-go/segment"
)

// keywordTermsCollector is a TermsAgg on a fast keyword field: it counts
// each segment's matches by ordinal in a dense array, then maps the
// ordinals counted to their strings and merges them into buckets. When
// only one segment has matches (an index merged into one segment, or a
// query matching in one), the top Size ordinals are picked from its
// counts directly and only their strings are read: ordinals are in the
// byte order of the values, so ties by ordinal are ties by value.
type keywordTermsCollector struct {
	field   segment.Field
	size    int
	sub     *subStats
	buckets map[string]*termBucket // merged from the segments before last
	last    *keywordSegment        // the segment being counted, merged when the next starts
	failure error
}

// keywordSegment is one segment's counts by ordinal, with the
// sub-aggregation accumulators of each ordinal.
type keywordSegment struct {
	id     segment.ID
	col    *segment.KeywordColumn
	nsub   int
	counts []int
	dense  []statsAcc            // ordinal*nsub + i
	sparse map[uint32][]statsAcc // when dense would be too large
}

// subs returns the accumulators of ordinal o, nil if it has none.
func (s *keywordSegment) subs(o uint32) []statsAcc {
	if s.dense != nil {
		return s.dense[int(o)*s.nsub : int(o+1)*s.nsub]
	}
	if s.sparse == nil {
		return nil
	}
	return s.sparse[o]
}

// maxDenseKeywordSubs bounds the per-segment array of sub-aggregation
// accumulators (ordinals × sub aggregations) counted densely; past it a
// map holds only the ordinals met.
const maxDenseKeywordSubs = 1 << 20

func (c *keywordTermsCollector) err() error { return c.failure }

func (c *keywordTermsCollector) segment(r *Reader, seg int) (func([]uint32), error) {
	c.flush()
	sr := r.view.readers[seg]
	col, err := sr.Keywords(c.field.Name)
	if err != nil {
		return nil, fmt.Errorf("hermes: segment %s: %w", sr.ID(), err)
	}
	subCols, err := c.sub.columns(r, seg)
	if err != nil {
		return nil, err
	}
	nsub := len(subCols)
	s := &keywordSegment{id: sr.ID(), col: col, nsub: nsub, counts: make([]int, col.OrdinalBound())}
	if nsub > 0 && len(s.counts)*nsub <= maxDenseKeywordSubs {
		s.dense = make([]statsAcc, len(s.counts)*nsub)
	} else if nsub > 0 {
		s.sparse = map[uint32][]statsAcc{}
	}
	c.last = s
	if nsub == 0 {
		return func(docs []uint32) {
			if err := col.CountOrds(docs, s.counts); err != nil {
				c.fail(fmt.Errorf("segment %s: %w", s.id, err))
			}
		}, nil
	}
	var ords []uint32
	return func(docs []uint32) {
		for _, doc := range docs {
			var err error
			if ords, err = col.Ords(doc, ords[:0]); err != nil {
				c.fail(fmt.Errorf("segment %s: %w", s.id, err))
				return
			}
			for _, o := range ords {
				s.counts[o]++
				accs := s.subs(o)
				if accs == nil {
					accs = make([]statsAcc, nsub)
					s.sparse[o] = accs
				}
				addSub(accs, subCols, doc)
			}
		}
	}, nil
}

// flush merges the last segment's counts into buckets.
func (c *keywordTermsCollector) flush() {
	s := c.last
	if s == nil {
		return
	}
	c.last = nil
	for o, n := range s.counts {
		if n == 0 {
			continue
		}
		term, err := s.col.Term(uint32(o))
		if err != nil {
			c.fail(fmt.Errorf("segment %s: %w", s.id, err))
			return
		}
		b := c.buckets[string(term)]
		if b == nil {
			b = &termBucket{sub: make([]statsAcc, s.nsub)}
			c.buckets[string(term)] = b
		}
		b.count += n
		for i, acc := range s.subs(uint32(o)) {
			b.sub[i].merge(&acc)
		}
	}
}

func (c *keywordTermsCollector) fail(err error) {
	if c.failure == nil {
		c.failure = err
	}
}

func (c *keywordTermsCollector) result() *AggResult {
	if len(c.buckets) == 0 && c.last != nil {
		return c.ordinalResult(c.last)
	}
	c.flush()
	keys := slices.Collect(maps.Keys(c.buckets))
	top := topN(c.size, upTo(len(keys)), func(i, j int) bool {
		ci, cj := c.buckets[keys[i]].count, c.buckets[keys[j]].count
		return ci > cj || ci == cj && keys[i] < keys[j]
	})
	res := &AggResult{}
	for _, b := range c.buckets {
		res.Other += b.count
	}
	for _, i := range top {
		b := c.buckets[keys[i]]
		res.Other -= b.count
		res.Buckets = append(res.Buckets, Bucket{Key: keys[i], Count: b.count, Sub: c.sub.results(b.sub)})
	}
	return res
}

// ordinalResult is the result when s is the only segment with matches:
// the top ordinals of its counts, and only their strings.
func (c *keywordTermsCollector) ordinalResult(s *keywordSegment) *AggResult {
	counts := s.counts
	res := &AggResult{}
	for o, n := range counts {
		if n > 0 && uint32(o) >= s.col.NumTerms() {
			_, err := s.col.Term(uint32(o)) // a corrupt column: the error names it
			c.fail(fmt.Errorf("segment %s: %w", s.id, err))
			return res
		}
		res.Other += n
	}
	counted := func(yield func(int) bool) {
		for o, n := range counts {
			if n > 0 && !yield(o) {
				return
			}
		}
	}
	top := topN(c.size, counted, func(i, j int) bool {
		return counts[i] > counts[j] || counts[i] == counts[j] && i < j
	})
	empty := make([]statsAcc, s.nsub)
	for _, o := range top {
		term, err := s.col.Term(uint32(o))
		if err != nil {
			c.fail(fmt.Errorf("segment %s: %w", s.id, err))
			return &AggResult{}
		}
		accs := s.subs(uint32(o))
		if accs == nil {
			accs = empty
		}
		res.Other -= counts[o]
		res.Buckets = append(res.Buckets, Bucket{Key: string(term), Count: counts[o], Sub: c.sub.results(accs)})
	}
	return res
}
