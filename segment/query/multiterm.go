package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	stdregexp "regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/vellum"
	"github.com/blevesearch/vellum/levenshtein"
	"github.com/hermes-search/hermes-go/segment"
)

// This file runs the queries that expand into many terms of the term
// dictionary (Fuzzy, Wildcard, Regexp), Exists, Boost, and ranges on
// indexed-only numeric fields. Expansion happens once per search, over
// every segment, so the expansion bound and the fuzzy top terms are the
// same whichever segments hold the terms.

// levBuilders holds vellum's Levenshtein automaton builders for edit
// distances 1 and 2, with transpositions counted as one edit (Lucene's
// default). Building one costs milliseconds, so it is done once.
var levBuilders struct {
	once sync.Once
	b    [3]*levenshtein.LevenshteinAutomatonBuilder
	err  error
}

func levenshteinDFA(term string, distance int) (*levenshtein.DFA, error) {
	levBuilders.once.Do(func() {
		for d := 1; d <= 2 && levBuilders.err == nil; d++ {
			levBuilders.b[d], levBuilders.err = levenshtein.NewLevenshteinAutomatonBuilder(uint8(d), true)
		}
	})
	if levBuilders.err != nil {
		return nil, levBuilders.err
	}
	return levBuilders.b[distance].BuildDfa(term, uint8(distance))
}

// indexedField checks that q can run on an indexed field.
func (c *collection) indexedField(q Query, name string) (segment.Field, error) {
	f, err := c.field(q, name)
	if err != nil {
		return f, err
	}
	if !f.Indexed {
		return f, fmt.Errorf("query: %s: field %q is not indexed", q, name)
	}
	return f, nil
}

// expandTerms returns the distinct terms of field that a accepts, over
// every segment, in byte order. With limit > 0, more than limit terms is
// an error wrapping ErrTooManyExpansions, and so is an automaton
// (segment.RegexpAutomaton) going over its budget.
func (c *collection) expandTerms(q Query, field string, a vellum.Automaton, start, end []byte, limit int) ([][]byte, error) {
	set := map[string]struct{}{}
	over := false
	for _, s := range c.segs {
		err := s.TermsMatching(field, a, start, end, func(t []byte) bool {
			if _, ok := set[string(t)]; !ok {
				if limit > 0 && len(set) >= limit {
					over = true
					return false
				}
				set[string(t)] = struct{}{}
			}
			return true
		})
		if b, ok := a.(interface{ Err() error }); ok && err == nil {
			err = b.Err()
		}
		if errors.Is(err, segment.ErrAutomatonBudget) {
			return nil, fmt.Errorf("%w: %s: %w", ErrTooManyExpansions, q, err)
		}
		if err != nil {
			return nil, fmt.Errorf("query: expanding %s: %w", q, err)
		}
		if over {
			return nil, fmt.Errorf("%w: %s matches more than %d terms; make it more selective or raise MaxExpansions", ErrTooManyExpansions, q, limit)
		}
	}
	terms := make([][]byte, 0, len(set))
	for t := range set {
		terms = append(terms, []byte(t))
	}
	sort.Slice(terms, func(i, j int) bool { return bytes.Compare(terms[i], terms[j]) < 0 })
	return terms, nil
}

// fuzzyWeight is Lucene's top-terms blended rewrite of a Fuzzy query: a
// disjunction of the closest terms, each scored with the largest document
// frequency among them and weighted by its similarity.
func (c *collection) fuzzyWeight(q Fuzzy) (weight, error) {
	if _, err := c.indexedField(q, q.Field); err != nil {
		return nil, err
	}
	if q.Distance < 0 || q.Distance > 2 {
		return nil, fmt.Errorf("query: %s: edit distance %d; want 0, 1 or 2", q, q.Distance)
	}
	if q.Distance == 0 {
		return c.termWeight(q.Field, []byte(q.Term))
	}
	fm, err := newFuzzyMatcher(q)
	if err != nil {
		return nil, err
	}
	terms, err := c.expandTerms(q, q.Field, fm.automaton(), nil, nil, 0)
	if err != nil {
		return nil, err
	}
	type scored struct {
		term  []byte
		boost float64
	}
	qlen := utf8.RuneCountInString(q.Term)
	var cands []scored
	for _, t := range terms {
		ok, ed := fm.match(string(t))
		if !ok {
			continue
		}
		if b := fuzzyBoost(ed, qlen, utf8.RuneCount(t)); b > 0 {
			cands = append(cands, scored{t, b})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].boost > cands[j].boost })
	limit := q.MaxExpansions
	if limit <= 0 {
		limit = DefaultFuzzyExpansions
	}
	cands = cands[:min(len(cands), limit)]
	dfs := make([]uint64, len(cands))
	var maxDF uint64
	for i, cd := range cands {
		if dfs[i], err = c.docFreq(q.Field, cd.term); err != nil {
			return nil, err
		}
		maxDF = max(maxDF, dfs[i])
	}
	fs := c.fieldStat(q.Field)
	blended := idf(fs.docCount, maxDF)
	bw := &boolWeight{}
	for i, cd := range cands {
		bw.should = append(bw.should, &termWeight{field: q.Field, term: cd.term, df: dfs[i],
			sim: newBM25(blended*cd.boost, fs.docCount, fs.sumTokens)})
	}
	return bw, nil
}

// fuzzyBoost is Lucene's FuzzyQuery term weight, 1 - edits/min(lengths) in
// code points; a term as far from the query as it is long (0 or less) is
// no misspelling of it and is dropped.
func fuzzyBoost(edits, qlen, tlen int) float64 {
	if edits == 0 {
		return 1
	}
	m := min(qlen, tlen)
	if m == 0 {
		return 0
	}
	return 1 - float64(edits)/float64(m)
}

// wildcardRegexp translates a wildcard pattern into a regular expression.
func wildcardRegexp(pattern string) (string, error) {
	if !utf8.ValidString(pattern) {
		return "", fmt.Errorf("the pattern is not valid UTF-8")
	}
	var sb strings.Builder
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		i += n
		switch {
		case r == '\\' && i < len(pattern):
			r, n = utf8.DecodeRuneInString(pattern[i:])
			i += n
			sb.WriteString(stdregexp.QuoteMeta(string(r)))
		case r == '*':
			sb.WriteString("(?s:.*)")
		case r == '?':
			sb.WriteString("(?s:.)")
		default:
			sb.WriteString(stdregexp.QuoteMeta(string(r)))
		}
	}
	return sb.String(), nil
}

// multiTermWeight is the constant-score rewrite of a Wildcard or Regexp.
func (c *collection) multiTermWeight(q Query, field, pattern string, maxExp int) (weight, error) {
	if _, err := c.indexedField(q, field); err != nil {
		return nil, err
	}
	if err := checkRegexp(pattern); err != nil {
		return nil, fmt.Errorf("query: %s: %w", q, err)
	}
	a, err := segment.NewRegexpAutomaton(pattern, segment.RegexpLimits{})
	if err != nil {
		return nil, fmt.Errorf("query: %s: building its automaton: %w", q, err)
	}
	if maxExp <= 0 {
		maxExp = DefaultMaxExpansions
	}
	terms, err := c.expandTerms(q, field, a, nil, nil, maxExp)
	if err != nil {
		return nil, err
	}
	return &termsUnionWeight{q: q, field: field, terms: terms}, nil
}

// termsUnionWeight matches the documents holding any of terms, with
// score 1.
type termsUnionWeight struct {
	q     Query
	field string
	terms [][]byte
}

func (w *termsUnionWeight) scorer(ctx context.Context, seg segmentSource) (scorer, error) {
	return unionPostings(ctx, seg, w.field, w.terms, w.q)
}

// unionPostings ORs the postings of terms (absent ones skipped) into a
// bitset, with score 1.
func unionPostings(ctx context.Context, seg segmentSource, field string, terms [][]byte, q fmt.Stringer) (scorer, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	words := make([]uint64, (uint64(seg.NumDocs())+63)/64)
	var count uint64
	for i, t := range terms {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p, err := seg.Postings(field, t)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		for d := p.Doc(); d != noMoreDocs; d = p.Next() {
			if int(d>>6) >= len(words) {
				return nil, fmt.Errorf("query: %s: doc %d beyond the segment's %d docs", q, d, seg.NumDocs())
			}
			if words[d>>6]&(1<<(d&63)) == 0 {
				words[d>>6] |= 1 << (d & 63)
				count++
			}
		}
	}
	if count == 0 {
		return nil, nil
	}
	return newBitsetScorer(words, count), nil
}

// existsWeight matches documents with a value in the field.
type existsWeight struct {
	q Exists
	f segment.Field
}

func (c *collection) existsWeight(q Exists) (weight, error) {
	f, err := c.field(q, q.Field)
	if err != nil {
		return nil, err
	}
	if !f.Indexed && !f.Fast {
		return nil, fmt.Errorf("query: %s: field %q is neither indexed nor fast", q, q.Field)
	}
	return &existsWeight{q: q, f: f}, nil
}

func (w *existsWeight) scorer(ctx context.Context, seg segmentSource) (scorer, error) {
	name := w.f.Name
	var match func(uint32) bool
	switch {
	case w.f.Type == segment.TypeText && w.f.Indexed:
		// A text field's norm counts its tokens: non-zero exactly when the
		// document holds a term of the field.
		match = func(d uint32) bool { return seg.FieldNorm(name, d) > 0 }
	case w.f.FastNumeric():
		col, err := seg.Fast(name)
		if err != nil {
			return nil, fmt.Errorf("query: %s: %w", w.q, err)
		}
		if col == nil {
			return nil, nil
		}
		switch w.f.Type.Storage() {
		case segment.TypeU64:
			match = func(d uint32) bool { _, ok := col.U64(d); return ok }
		case segment.TypeI64:
			match = func(d uint32) bool { _, ok := col.I64(d); return ok }
		default:
			match = func(d uint32) bool { _, ok := col.F64(d); return ok }
		}
	default:
		var terms [][]byte
		err := seg.Terms(name, nil, func(t []byte) bool {
			terms = append(terms, bytes.Clone(t))
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("query: %s: %w", w.q, err)
		}
		return unionPostings(ctx, seg, name, terms, w.q)
	}
	s := newDocsScorer(seg.NumDocs(), match)
	if s.doc() == noMoreDocs {
		return nil, nil
	}
	return s, nil
}

// termRangeWeight is a numeric range on an indexed field (see rangeWeight):
// the terms of the field's order-preserving encoding between two bounds.
type termRangeWeight struct {
	q          Range
	start, end []byte // start <= term < end
	skip       []byte // an excluded lower bound (f64 only), or nil
}

// termRange turns a range, already resolved to the field's domain, into
// bounds on the encoded terms.
func (w *rangeWeight) termRange(q Range) *termRangeWeight {
	tr := &termRangeWeight{q: q}
	after := func(t []byte) []byte { return append(t, 0) } // the least term above t
	switch w.typ {
	case segment.TypeU64:
		tr.start, tr.end = segment.U64Term(w.lo), after(segment.U64Term(w.hi))
	case segment.TypeI64:
		tr.start, tr.end = segment.I64Term(w.ilo), after(segment.I64Term(w.ihi))
	default:
		tr.start, tr.end = segment.F64Term(w.flo), segment.F64Term(w.fhi)
		if !w.floInc {
			tr.skip = tr.start
		}
		if w.fhiInc {
			tr.end = after(tr.end)
		}
	}
	return tr
}

func (w *termRangeWeight) scorer(ctx context.Context, seg segmentSource) (scorer, error) {
	if bytes.Compare(w.start, w.end) >= 0 {
		return nil, nil // an empty range
	}
	var terms [][]byte
	err := seg.TermsMatching(w.q.Field, &vellum.AlwaysMatch{}, w.start, w.end, func(t []byte) bool {
		if !bytes.Equal(t, w.skip) {
			terms = append(terms, bytes.Clone(t))
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("query: %s: %w", w.q, err)
	}
	return unionPostings(ctx, seg, w.q.Field, terms, w.q)
}

// boostWeight scales the weight's scores by b. Term and phrase weights
// fold the boost into their idf, which keeps them runnable by block-max
// WAND; a Boolean boosts its scoring clauses; anything else is wrapped.
func boostWeight(w weight, b float64) weight {
	if b > 0 {
		switch w := w.(type) {
		case *termWeight:
			c := *w
			c.sim.idf *= b
			return &c
		case *phraseWeight:
			c := *w
			c.sim.idf *= b
			return &c
		case *boolWeight:
			if len(w.must)+len(w.should) == 0 {
				break
			}
			c := &boolWeight{mustNot: w.mustNot}
			for _, m := range w.must {
				c.must = append(c.must, boostWeight(m, b))
			}
			for _, s := range w.should {
				c.should = append(c.should, boostWeight(s, b))
			}
			return c
		}
	}
	return &boostedWeight{w: w, boost: b}
}

type boostedWeight struct {
	w     weight
	boost float64
}

func (w *boostedWeight) scorer(ctx context.Context, seg segmentSource) (scorer, error) {
	s, err := w.w.scorer(ctx, seg)
	if err != nil || s == nil {
		return nil, err
	}
	return &boostedScorer{scorer: s, boost: w.boost}, nil
}

type boostedScorer struct {
	scorer
	boost float64
}

func (s *boostedScorer) score() float64 { return s.scorer.score() * s.boost }
