package query

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"sync"
	"time"

	"github.com/hermes-search/hermes-go/segment"
)

// collection holds the segments of a searcher and their summed statistics.
type collection struct {
	schema *segment.Schema
	segs   []segmentSource

	mu     sync.Mutex
	fields map[string]fieldStat
}

type fieldStat struct{ docCount, sumTokens uint64 }

func newCollection(schema *segment.Schema, segs []segmentSource) *collection {
	return &collection{schema: schema, segs: segs, fields: make(map[string]fieldStat)}
}

// fieldStat sums a field's statistics over every segment, once.
func (c *collection) fieldStat(field string) fieldStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fs, ok := c.fields[field]; ok {
		return fs
	}
	var fs fieldStat
	for _, s := range c.segs {
		dc, st := s.FieldStats(field)
		fs.docCount += dc
		fs.sumTokens += st
	}
	c.fields[field] = fs
	return fs
}

func (c *collection) docFreq(field string, term []byte) (uint64, error) {
	var df uint64
	for _, s := range c.segs {
		n, err := s.DocFreq(field, term)
		if err != nil {
			return 0, fmt.Errorf("query: doc freq of %s:%s: %w", field, quoteTerm(string(term)), err)
		}
		df += uint64(n)
	}
	return df, nil
}

// weight is a query bound to the collection's statistics: it can make a
// scorer for each segment.
type weight interface {
	// scorer returns nil when nothing in the segment can match.
	scorer(ctx context.Context, seg segmentSource) (scorer, error)
}

func (c *collection) field(q Query, name string) (segment.Field, error) {
	f, ok := c.schema.Field(name)
	if !ok {
		return f, fmt.Errorf("query: %s: unknown field %q", q, name)
	}
	return f, nil
}

// weight validates q against the schema and binds it to statistics.
func (c *collection) weight(q Query) (weight, error) {
	switch q := q.(type) {
	case Term:
		f, err := c.field(q, q.Field)
		if err != nil {
			return nil, err
		}
		if !f.Indexed {
			return nil, fmt.Errorf("query: %s: field %q is not indexed", q, q.Field)
		}
		return c.termWeight(q.Field, []byte(q.Term))
	case Boolean:
		bw := &boolWeight{}
		for _, l := range []struct {
			qs []Query
			ws *[]weight
		}{{q.Must, &bw.must}, {q.Should, &bw.should}, {q.MustNot, &bw.mustNot}} {
			for _, sub := range l.qs {
				w, err := c.weight(sub)
				if err != nil {
					return nil, err
				}
				// A disjunction nested as a Should clause (a fuzzy term's
				// expansion) joins its parent: same matches, same sum, and
				// the parent stays runnable by block-max WAND.
				if in, ok := w.(*boolWeight); ok && l.ws == &bw.should && len(in.must) == 0 && len(in.mustNot) == 0 && len(in.should) > 0 {
					bw.should = append(bw.should, in.should...)
					continue
				}
				*l.ws = append(*l.ws, w)
			}
		}
		return bw, nil
	case Phrase:
		return c.phraseWeight(q)
	case Range:
		return c.rangeWeight(q)
	case Prefix:
		f, err := c.field(q, q.Field)
		if err != nil {
			return nil, err
		}
		if !f.Indexed {
			return nil, fmt.Errorf("query: %s: field %q is not indexed", q, q.Field)
		}
		return &prefixWeight{field: q.Field, prefix: []byte(q.Prefix)}, nil
	case All:
		return allWeight{}, nil
	case Fuzzy:
		return c.fuzzyWeight(q)
	case Wildcard:
		re, err := wildcardRegexp(q.Pattern)
		if err != nil {
			return nil, fmt.Errorf("query: %s: %w", q, err)
		}
		return c.multiTermWeight(q, q.Field, re, q.MaxExpansions)
	case Regexp:
		return c.multiTermWeight(q, q.Field, q.Pattern, q.MaxExpansions)
	case Exists:
		return c.existsWeight(q)
	case Boost:
		if q.Boost < 0 || math.IsNaN(q.Boost) || math.IsInf(q.Boost, 0) {
			return nil, fmt.Errorf("query: %s: boost %v; want a finite number >= 0", q, q.Boost)
		}
		w, err := c.weight(q.Query)
		if err != nil {
			return nil, err
		}
		return boostWeight(w, q.Boost), nil
	case nil:
		return nil, fmt.Errorf("query: nil query")
	}
	return nil, fmt.Errorf("query: unsupported query type %T", q)
}

func (c *collection) termWeight(field string, term []byte) (*termWeight, error) {
	df, err := c.docFreq(field, term)
	if err != nil {
		return nil, err
	}
	fs := c.fieldStat(field)
	return &termWeight{field: field, term: term, df: df,
		sim: newBM25(idf(fs.docCount, df), fs.docCount, fs.sumTokens)}, nil
}

// termWeight scores a term with BM25 using collection-wide df, N and avgdl.
type termWeight struct {
	field string
	term  []byte
	df    uint64
	sim   bm25
}

func (w *termWeight) scorer(_ context.Context, seg segmentSource) (scorer, error) {
	if w.df == 0 {
		return nil, nil
	}
	p, err := seg.Postings(w.field, w.term)
	if err != nil || p == nil || p.Doc() == noMoreDocs {
		return nil, err
	}
	return &termScorer{p: p, sim: &w.sim, seg: seg, field: w.field, df: w.df}, nil
}

type boolWeight struct {
	must, should, mustNot []weight
}

func (w *boolWeight) scorer(ctx context.Context, seg segmentSource) (scorer, error) {
	if len(w.must) == 0 && len(w.should) == 0 && len(w.mustNot) == 0 {
		return nil, nil
	}
	var must, should, not []scorer
	for _, m := range w.must {
		s, err := m.scorer(ctx, seg)
		if err != nil || s == nil {
			return nil, err // a required clause matching nothing empties the conjunction
		}
		must = append(must, s)
	}
	for _, m := range w.should {
		s, err := m.scorer(ctx, seg)
		if err != nil {
			return nil, err
		}
		if s != nil {
			should = append(should, s)
		}
	}
	for _, m := range w.mustNot {
		s, err := m.scorer(ctx, seg)
		if err != nil {
			return nil, err
		}
		if s != nil {
			not = append(not, s)
		}
	}
	var req scorer
	switch {
	case len(must) > 0:
		req = newConj(must)
		if len(should) > 0 {
			req = &reqOptScorer{req: req, opt: newDisj(should)}
		}
	case len(should) > 0:
		req = newDisj(should)
	case len(w.should) > 0:
		return nil, nil // should clauses exist but none matches here
	default:
		req = newDocsScorer(seg.NumDocs(), nil) // only MustNot clauses: everything else
	}
	if len(not) > 0 {
		req = newExcl(req, not)
	}
	if req.doc() == noMoreDocs {
		return nil, nil
	}
	return req, nil
}

func (c *collection) phraseWeight(q Phrase) (weight, error) {
	f, err := c.field(q, q.Field)
	if err != nil {
		return nil, err
	}
	if q.Positions != nil && len(q.Positions) != len(q.Terms) {
		return nil, fmt.Errorf("query: %s: %d positions for %d terms", q, len(q.Positions), len(q.Terms))
	}
	if len(q.Terms) == 1 {
		return c.weight(Term{Field: q.Field, Term: q.Terms[0]})
	}
	if q.Slop < 0 {
		return nil, fmt.Errorf("query: %s: negative slop %d", q, q.Slop)
	}
	if !f.Positions {
		return nil, fmt.Errorf("query: %s: field %q has no positions indexed, so it cannot answer phrase queries", q, q.Field)
	}
	w := &phraseWeight{field: q.Field, slop: q.Slop}
	fs := c.fieldStat(q.Field)
	var sumIDF float64
	for i, t := range q.Terms {
		df, err := c.docFreq(q.Field, []byte(t))
		if err != nil {
			return nil, err
		}
		if df == 0 {
			w.empty = true
		}
		sumIDF += idf(fs.docCount, df)
		w.terms = append(w.terms, []byte(t))
		off := int64(i)
		if q.Positions != nil {
			off = int64(q.Positions[i]) - int64(q.Positions[0])
		}
		w.offsets = append(w.offsets, off)
	}
	w.sim = newBM25(sumIDF, fs.docCount, fs.sumTokens)
	w.rptGroups = repeatGroups(w.terms, w.offsets)
	return w, nil
}

// phraseWeight is a phrase of two or more terms.
type phraseWeight struct {
	field     string
	terms     [][]byte
	offsets   []int64
	sim       bm25
	slop      int
	empty     bool    // a term occurs nowhere, or there are no terms
	rptGroups [][]int // terms that repeat (see repeatGroups), or nil
}

func (w *phraseWeight) scorer(_ context.Context, seg segmentSource) (scorer, error) {
	if w.empty || len(w.terms) == 0 {
		return nil, nil
	}
	its := make([]postingsIterator, len(w.terms))
	dfs := make([]uint64, len(w.terms))
	for i, t := range w.terms {
		p, err := seg.Postings(w.field, t)
		if err != nil || p == nil || p.Doc() == noMoreDocs {
			return nil, err
		}
		its[i] = p
		n, err := seg.DocFreq(w.field, t)
		if err != nil {
			return nil, err
		}
		dfs[i] = uint64(n)
	}
	s := newPhraseScorer(its, dfs, w.offsets, &w.sim, seg, w.field, w.slop, w.rptGroups)
	if s.doc() == noMoreDocs {
		return nil, nil
	}
	return s, nil
}

type allWeight struct{}

func (allWeight) scorer(_ context.Context, seg segmentSource) (scorer, error) {
	if seg.NumDocs() == 0 {
		return nil, nil
	}
	return newDocsScorer(seg.NumDocs(), nil), nil
}

// prefixWeight expands a prefix per segment into a bitset union.
type prefixWeight struct {
	field  string
	prefix []byte
}

func (w *prefixWeight) scorer(ctx context.Context, seg segmentSource) (scorer, error) {
	var terms [][]byte
	err := seg.Terms(w.field, w.prefix, func(t []byte) bool {
		terms = append(terms, append([]byte(nil), t...))
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("query: expanding %s:%s*: %w", w.field, quoteTerm(string(w.prefix)), err)
	}
	return unionPostings(ctx, seg, w.field, terms, Prefix{Field: w.field, Prefix: string(w.prefix)})
}

// rangeWeight holds a range converted to inclusive bounds in the field's
// own domain. A fast column holds one value per document, the first of an
// array; the term index holds them all. So a field that is indexed runs on
// the term index in a segment where some document has more than one value
// (its indexed values outnumber its documents), and on the fast column,
// which is quicker for wide ranges, where none has; a field that is fast
// but not indexed sees only the first value of an array.
type rangeWeight struct {
	field  string
	typ    segment.FieldType
	empty  bool
	terms  *termRangeWeight // when the field is indexed
	lo, hi uint64           // TypeU64
	ilo    int64            // TypeI64
	ihi    int64
	flo    float64 // TypeF64, with inclusivity
	fhi    float64
	floInc bool
	fhiInc bool
}

func (c *collection) rangeWeight(q Range) (weight, error) {
	f, err := c.field(q, q.Field)
	if err != nil {
		return nil, err
	}
	if !f.Fast && !f.Indexed {
		return nil, fmt.Errorf("query: %s: field %q is neither fast nor indexed, so it cannot answer range queries", q, q.Field)
	}
	w := &rangeWeight{field: q.Field, typ: f.Type.Storage()}
	switch w.typ {
	case segment.TypeU64, segment.TypeI64:
		dmin, dmax := new(big.Int), new(big.Int).SetUint64(math.MaxUint64)
		if w.typ == segment.TypeI64 {
			dmin.SetInt64(math.MinInt64)
			dmax.SetInt64(math.MaxInt64)
		}
		lo, hi := dmin, dmax
		if q.Min != nil {
			b, err := bigBound(q, q.Min)
			if err != nil {
				return nil, err
			}
			lo = intCeil(b, !q.MinInclusive)
		}
		if q.Max != nil {
			b, err := bigBound(q, q.Max)
			if err != nil {
				return nil, err
			}
			hi = intFloor(b, !q.MaxInclusive)
		}
		if lo.Cmp(dmin) < 0 {
			lo = dmin
		}
		if hi.Cmp(dmax) > 0 {
			hi = dmax
		}
		if lo.Cmp(hi) > 0 {
			w.empty = true
			return w, nil
		}
		if w.typ == segment.TypeU64 {
			w.lo, w.hi = lo.Uint64(), hi.Uint64()
		} else {
			w.ilo, w.ihi = lo.Int64(), hi.Int64()
		}
	case segment.TypeF64:
		w.flo, w.fhi = math.Inf(-1), math.Inf(1)
		w.floInc, w.fhiInc = true, true
		if q.Min != nil {
			b, err := bigBound(q, q.Min)
			if err != nil {
				return nil, err
			}
			w.flo, _ = b.Float64()
			w.floInc = q.MinInclusive
		}
		if q.Max != nil {
			b, err := bigBound(q, q.Max)
			if err != nil {
				return nil, err
			}
			w.fhi, _ = b.Float64()
			w.fhiInc = q.MaxInclusive
		}
	default:
		return nil, fmt.Errorf("query: %s: field %q has type %v; ranges need u64, i64 or f64", q, q.Field, f.Type)
	}
	if f.Indexed && !w.empty {
		w.terms = w.termRange(q)
		if !f.Fast {
			return w.terms, nil
		}
	}
	return w, nil
}

// bigBound converts a bound to an exact big.Float.
func bigBound(q Range, v any) (*big.Float, error) {
	f := new(big.Float).SetPrec(0)
	switch x := v.(type) {
	case int:
		f.SetInt64(int64(x))
	case int64:
		f.SetInt64(x)
	case uint64:
		f.SetUint64(x)
	case float64:
		if math.IsNaN(x) {
			return nil, fmt.Errorf("query: %s: field %q: NaN is not a valid bound", q, q.Field)
		}
		f.SetFloat64(x)
	case time.Time: // for a date field: its epoch milliseconds
		f.SetInt64(x.UnixMilli())
	default:
		return nil, fmt.Errorf("query: %s: field %q: bound %v has type %T; use int, int64, uint64, float64 or (dates) time.Time", q, q.Field, v, v)
	}
	return f, nil
}

// intCeil returns the smallest integer >= b (> b when strict). Infinite
// bounds map to values beyond every 64-bit domain.
func intCeil(b *big.Float, strict bool) *big.Int {
	if b.IsInf() {
		if b.Sign() > 0 {
			return new(big.Int).Lsh(big.NewInt(1), 65)
		}
		return new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 65))
	}
	t, acc := b.Int(nil) // truncates toward zero
	switch {
	case acc == big.Exact && strict:
		t.Add(t, big.NewInt(1))
	case acc == big.Below: // b > t: b positive with a fraction
		t.Add(t, big.NewInt(1))
	}
	return t
}

// intFloor returns the largest integer <= b (< b when strict).
func intFloor(b *big.Float, strict bool) *big.Int {
	if b.IsInf() {
		return intCeil(b, false)
	}
	t, acc := b.Int(nil)
	switch {
	case acc == big.Exact && strict:
		t.Sub(t, big.NewInt(1))
	case acc == big.Above: // b < t: b negative with a fraction
		t.Sub(t, big.NewInt(1))
	}
	return t
}

func (w *rangeWeight) scorer(ctx context.Context, seg segmentSource) (scorer, error) {
	if w.empty || seg.NumDocs() == 0 {
		return nil, nil
	}
	if w.terms != nil {
		if docs, values := seg.FieldStats(w.field); values > docs {
			return w.terms.scorer(ctx, seg)
		}
	}
	col, err := seg.Fast(w.field)
	if err != nil {
		return nil, fmt.Errorf("query: range on %q: %w", w.field, err)
	}
	if col == nil {
		return nil, nil
	}
	var match func(uint32) bool
	switch w.typ {
	case segment.TypeU64:
		match = func(d uint32) bool {
			v, ok := col.U64(d)
			return ok && v >= w.lo && v <= w.hi
		}
	case segment.TypeI64:
		match = func(d uint32) bool {
			v, ok := col.I64(d)
			return ok && v >= w.ilo && v <= w.ihi
		}
	default:
		match = func(d uint32) bool {
			v, ok := col.F64(d)
			if !ok {
				return false
			}
			if v < w.flo || (v == w.flo && !w.floInc) {
				return false
			}
			return v < w.fhi || (v == w.fhi && w.fhiInc)
		}
	}
	s := newDocsScorer(seg.NumDocs(), match)
	if s.doc() == noMoreDocs {
		return nil, nil
	}
	return s, nil
}
