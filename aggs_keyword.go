package hermes

import (
	"fmt"
	"sort"

	"github.com/hermes-search/hermes-go/segment"
)

// keywordTermsCollector is a TermsAgg on a fast keyword field: it counts
// each segment's matches by ordinal in a dense array, then maps the
// ordinals counted to their strings and merges them into buckets.
type keywordTermsCollector struct {
	field   segment.Field
	size    int
	sub     *subStats
	buckets map[string]*termBucket
	flush   func() // adds the last segment's counts to buckets
	failure error
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
	counts := make([]int, col.OrdinalBound())
	var dense []statsAcc             // ordinal*nsub + i
	var sparse map[uint32][]statsAcc // when dense would be too large
	if nsub > 0 && len(counts)*nsub <= maxDenseKeywordSubs {
		dense = make([]statsAcc, len(counts)*nsub)
	} else if nsub > 0 {
		sparse = map[uint32][]statsAcc{}
	}
	subsOf := func(o uint32) []statsAcc {
		if dense != nil {
			return dense[int(o)*nsub : int(o+1)*nsub]
		}
		if sparse == nil {
			return nil
		}
		return sparse[o]
	}
	c.flush = func() {
		c.flush = func() {}
		for o, n := range counts {
			if n == 0 {
				continue
			}
			term, err := col.Term(uint32(o))
			if err != nil {
				c.fail(fmt.Errorf("segment %s: %w", sr.ID(), err))
				return
			}
			b := c.buckets[string(term)]
			if b == nil {
				b = &termBucket{sub: make([]statsAcc, nsub)}
				c.buckets[string(term)] = b
			}
			b.count += n
			for i, acc := range subsOf(uint32(o)) {
				b.sub[i].merge(&acc)
			}
		}
	}
	if nsub == 0 {
		return func(docs []uint32) {
			if err := col.CountOrds(docs, counts); err != nil {
				c.fail(fmt.Errorf("segment %s: %w", sr.ID(), err))
			}
		}, nil
	}
	var ords []uint32
	return func(docs []uint32) {
		for _, doc := range docs {
			var err error
			if ords, err = col.Ords(doc, ords[:0]); err != nil {
				c.fail(fmt.Errorf("segment %s: %w", sr.ID(), err))
				return
			}
			for _, o := range ords {
				counts[o]++
				accs := subsOf(o)
				if accs == nil {
					accs = make([]statsAcc, nsub)
					sparse[o] = accs
				}
				addSub(accs, subCols, doc)
			}
		}
	}, nil
}

func (c *keywordTermsCollector) fail(err error) {
	if c.failure == nil {
		c.failure = err
	}
}

func (c *keywordTermsCollector) result() *AggResult {
	c.flush()
	keys := make([]string, 0, len(c.buckets))
	for k := range c.buckets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ci, cj := c.buckets[keys[i]].count, c.buckets[keys[j]].count
		if ci != cj {
			return ci > cj
		}
		return keys[i] < keys[j]
	})
	res := &AggResult{}
	for i, k := range keys {
		b := c.buckets[k]
		if i >= c.size {
			res.Other += b.count
			continue
		}
		res.Buckets = append(res.Buckets, Bucket{Key: k, Count: b.count, Sub: c.sub.results(b.sub)})
	}
	return res
}
