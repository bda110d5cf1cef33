package query

import (
	"context"
	"fmt"
	"strings"
)

// Explanation says how a document's score for a query was computed: its
// Value, what the value is, and the values it was computed from, as
// Lucene's Explanation does. Values are float64; Search reports the total
// as a float32.
type Explanation struct {
	// Match is whether the document matches (the part of) the query.
	Match       bool
	Value       float64
	Description string
	Details     []*Explanation
}

// String renders the explanation as an indented tree, one value a line.
func (e *Explanation) String() string {
	var sb strings.Builder
	var write func(e *Explanation, depth int)
	write = func(e *Explanation, depth int) {
		sb.WriteString(strings.Repeat("  ", depth))
		if !e.Match && depth == 0 || !e.Match && e.Value == 0 {
			fmt.Fprintf(&sb, "no match: %s\n", e.Description)
		} else {
			fmt.Fprintf(&sb, "%.6g = %s\n", e.Value, e.Description)
		}
		for _, d := range e.Details {
			write(d, depth+1)
		}
	}
	write(e, 0)
	return sb.String()
}

// Explain explains the score of document doc of segment seg (a Hit's
// Segment and Doc) for q: the BM25 breakdown of each term and phrase, the
// sums of Booleans, boosts and constant scores. A document q does not
// match, or a deleted one, has Match false. The value of a match equals
// the score Search gives it.
func (s *Searcher) Explain(ctx context.Context, q Query, seg int, doc uint32) (*Explanation, error) {
	if seg < 0 || seg >= len(s.coll.segs) {
		return nil, fmt.Errorf("query: explain: segment %d of %d", seg, len(s.coll.segs))
	}
	src := s.coll.segs[seg]
	if doc >= src.NumDocs() {
		return nil, fmt.Errorf("query: explain: doc %d of segment %d, which has %d", doc, seg, src.NumDocs())
	}
	w, err := s.coll.weight(q)
	if err != nil {
		return nil, err
	}
	e, err := explainWeight(ctx, w, src, doc)
	if err != nil {
		return nil, s.segErr(seg, err)
	}
	if src.IsDeleted(doc) {
		return &Explanation{Description: "the document is deleted", Details: []*Explanation{e}}, nil
	}
	return e, nil
}

func noMatch(format string, args ...any) *Explanation {
	return &Explanation{Description: fmt.Sprintf(format, args...)}
}

func explainWeight(ctx context.Context, w weight, seg segmentSource, doc uint32) (*Explanation, error) {
	switch w := w.(type) {
	case *termWeight:
		return explainTerm(w, seg, doc)
	case *phraseWeight:
		return explainPhrase(ctx, w, seg, doc)
	case *boolWeight:
		return explainBool(ctx, w, seg, doc)
	case *boostedWeight:
		in, err := explainWeight(ctx, w.w, seg, doc)
		if err != nil || !in.Match {
			return in, err
		}
		return &Explanation{Match: true, Value: in.Value * w.boost, Description: "product of:", Details: []*Explanation{
			in, {Match: true, Value: w.boost, Description: "boost"}}}, nil
	}
	// Constant-score queries: whether the scorer reaches doc.
	desc := describeConstant(w)
	s, err := w.scorer(ctx, seg)
	if err != nil {
		return nil, err
	}
	if s == nil || s.advance(doc) != doc {
		return noMatch("%s", desc), nil
	}
	return &Explanation{Match: true, Value: s.score(), Description: "constant score, " + desc}, nil
}

func describeConstant(w weight) string {
	switch w := w.(type) {
	case allWeight:
		return "*:*"
	case *prefixWeight:
		return Prefix{Field: w.field, Prefix: string(w.prefix)}.String()
	case *rangeWeight:
		return "range on " + w.field
	case *termRangeWeight:
		return w.q.String()
	case *termsUnionWeight:
		return w.q.String()
	case *existsWeight:
		return w.q.String()
	}
	return fmt.Sprintf("%T", w)
}

// bm25Details lists the parts of a BM25 score.
func bm25Details(sim *bm25, idfText string, freq float64, freqText string, dl uint32) []*Explanation {
	return []*Explanation{
		{Match: true, Value: sim.idf, Description: idfText},
		{Match: true, Value: freq, Description: freqText},
		{Match: true, Value: float64(dl), Description: "dl, the field's length in tokens (as the index stores it)"},
		{Match: true, Value: sim.avgdl, Description: "avgdl, the field's mean length over the collection"},
		{Match: true, Value: bm25K1, Description: "k1"},
		{Match: true, Value: bm25B, Description: "b"},
	}
}

const bm25Formula = "idf * freq * (k1 + 1) / (freq + k1 * (1 - b + b * dl / avgdl))"

func explainTerm(w *termWeight, seg segmentSource, doc uint32) (*Explanation, error) {
	name := w.field + ":" + quoteTerm(string(w.term))
	if w.df == 0 {
		return noMatch("%s: in no document", name), nil
	}
	p, err := seg.Postings(w.field, w.term)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return noMatch("%s: not in this segment", name), nil
	}
	d := p.Doc()
	if d < doc {
		d = p.Advance(doc)
	}
	if d != doc {
		return noMatch("%s: not in the document", name), nil
	}
	tf, dl := p.Freq(), seg.FieldNorm(w.field, doc)
	return &Explanation{Match: true, Value: w.sim.score(tf, dl),
		Description: fmt.Sprintf("%s, BM25: %s", name, bm25Formula),
		Details: bm25Details(&w.sim, fmt.Sprintf("idf, ln(1 + (N - df + 0.5) / (df + 0.5)) with df = %d (times any boost; a fuzzy term's uses its expansion's largest df)", w.df),
			float64(tf), "freq, the term's occurrences in the field", dl)}, nil
}

func explainPhrase(ctx context.Context, w *phraseWeight, seg segmentSource, doc uint32) (*Explanation, error) {
	var terms []string
	for _, t := range w.terms {
		terms = append(terms, string(t))
	}
	name := Phrase{Field: w.field, Terms: terms, Slop: w.slop}.String()
	s, err := w.scorer(ctx, seg)
	if err != nil {
		return nil, err
	}
	if s == nil || s.advance(doc) != doc {
		return noMatch("%s: not in the document", name), nil
	}
	ps := s.(*phraseScorer)
	freq, freqText := float64(ps.freq), "freq, the phrase's occurrences in the field"
	if ps.slop > 0 {
		freq, freqText = ps.sloppy, "freq, the sum over the sloppy matches of 1/(distance+1)"
	}
	dl := seg.FieldNorm(w.field, doc)
	return &Explanation{Match: true, Value: s.score(),
		Description: fmt.Sprintf("%s, BM25: %s", name, bm25Formula),
		Details:     bm25Details(&w.sim, "idf, the sum of the terms' idf (times any boost)", freq, freqText, dl)}, nil
}

func explainBool(ctx context.Context, w *boolWeight, seg segmentSource, doc uint32) (*Explanation, error) {
	e := &Explanation{Match: true, Description: "sum of:"}
	for _, m := range w.must {
		d, err := explainWeight(ctx, m, seg, doc)
		if err != nil {
			return nil, err
		}
		if !d.Match {
			return &Explanation{Description: "a required clause does not match", Details: []*Explanation{d}}, nil
		}
		e.Value += d.Value
		e.Details = append(e.Details, d)
	}
	any := false
	for _, m := range w.should {
		d, err := explainWeight(ctx, m, seg, doc)
		if err != nil {
			return nil, err
		}
		if d.Match {
			any = true
			e.Value += d.Value
			e.Details = append(e.Details, d)
		}
	}
	for _, m := range w.mustNot {
		d, err := explainWeight(ctx, m, seg, doc)
		if err != nil {
			return nil, err
		}
		if d.Match {
			return &Explanation{Description: "an excluded clause matches", Details: []*Explanation{d}}, nil
		}
	}
	switch {
	case len(w.must) == 0 && len(w.should) == 0 && len(w.mustNot) == 0:
		return noMatch("the empty query"), nil
	case len(w.must) == 0 && len(w.should) == 0:
		return &Explanation{Match: true, Value: 1, Description: "constant score: no excluded clause matches"}, nil
	case len(w.must) == 0 && !any:
		return noMatch("no optional clause matches"), nil
	}
	return e, nil
}
