package query

import (
	"context"
	"math/rand"
	"strings"
	"testing"
)

// TestExplainAgreesWithSearchAndModel checks that Explain's value is the
// score Search gives every hit, and that for random documents it matches
// exactly when the model says the document matches, with the model's score.
func TestExplainAgreesWithSearchAndModel(t *testing.T) {
	s, m := memFixture(t)
	g := &queryGen{r: rand.New(rand.NewSource(31)), m: m}
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		var q Query
		switch i % 4 {
		case 0:
			q = g.boolean(2)
		case 1:
			q = g.multiTermQuery()
		case 2:
			q = g.disjunction()
		default:
			q = g.phrase()
		}
		hits, err := s.SearchExhaustive(ctx, q, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			e, err := s.Explain(ctx, q, h.Segment, h.Doc)
			if err != nil {
				t.Fatalf("Explain(%s, %d/%d): %v", q, h.Segment, h.Doc, err)
			}
			if !e.Match || !relClose(e.Value, float64(h.Score)) {
				t.Fatalf("Explain(%s, %d/%d) = %v, %v; Search scored it %v\n%s", q, h.Segment, h.Doc, e.Match, e.Value, h.Score, e)
			}
		}
		for j := 0; j < 20; j++ {
			seg := g.r.Intn(len(m.segs))
			if len(m.segs[seg]) == 0 {
				continue
			}
			doc := g.r.Intn(len(m.segs[seg]))
			e, err := s.Explain(ctx, q, seg, uint32(doc))
			if err != nil {
				t.Fatal(err)
			}
			ok, score := m.eval(q, seg, doc)
			ok = ok && !m.segs[seg][doc].deleted
			if e.Match != ok || ok && !relClose(e.Value, score) {
				t.Fatalf("Explain(%s, %d/%d) = %v, %v; model %v, %v\n%s", q, seg, doc, e.Match, e.Value, ok, score, e)
			}
		}
	}
}

func TestExplainText(t *testing.T) {
	s, m := memFixture(t)
	ctx := context.Background()
	// A document holding w1 in its title: the breakdown names the term and
	// the BM25 parts.
	for seg := range m.segs {
		for doc := range m.segs[seg] {
			if m.segs[seg][doc].deleted || m.tf(seg, doc, "title", "w1") == 0 {
				continue
			}
			q := Boolean{Should: []Query{Boost{Query: Term{Field: "title", Term: "w1"}, Boost: 2}, Term{Field: "title", Term: "zzz"}}}
			e, err := s.Explain(ctx, q, seg, uint32(doc))
			if err != nil {
				t.Fatal(err)
			}
			text := e.String()
			for _, want := range []string{"sum of:", "title:w1, BM25", "idf", "freq", "avgdl", "k1"} {
				if !strings.Contains(text, want) {
					t.Errorf("explanation lacks %q:\n%s", want, text)
				}
			}
			return
		}
	}
	t.Fatal("no document holds w1 in its title")
}
