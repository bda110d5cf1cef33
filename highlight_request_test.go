package hermes_test

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// hlWords mixes inflections of a few stems (the "en" tokenizer stems and
// lowercases them).
var hlWords = []string{"run", "running", "Runs", "runner", "quick", "Quick", "brown", "fox",
	"foxes", "jumped", "jumps", "lazy", "dog", "Dogs", "ran", "fax", "the", "a"}

// hlValue is one modelled stored value: its words, where each starts, and
// each word's term (the word analysed alone).
type hlValue struct {
	text   string
	words  []string
	starts []int
	terms  []string
}

func newHLValue(rng *rand.Rand, tk analysis.Tokenizer) hlValue {
	seps := []string{" ", ", ", ". ", " -- ", "\n"}
	var v hlValue
	var sb strings.Builder
	for i := range 1 + rng.Intn(30) {
		if i > 0 {
			sb.WriteString(seps[rng.Intn(len(seps))])
		}
		w := hlWords[rng.Intn(len(hlWords))]
		v.words = append(v.words, w)
		v.starts = append(v.starts, sb.Len())
		sb.WriteString(w)
		term := ""
		tk.Tokenize(w, func(t analysis.Token) { term = string(t.Term) })
		v.terms = append(v.terms, term)
	}
	v.text = sb.String()
	return v
}

// marks returns the byte ranges of the words a query of single words and
// phrases (each a list of terms) matches: a word whose term is a query
// term, or a run of consecutive words whose terms are a phrase's.
func (v hlValue) marks(terms []string, phrases [][]string) []query.Span {
	marked := make([]bool, len(v.words))
	for i, t := range v.terms {
		for _, q := range terms {
			marked[i] = marked[i] || t == q
		}
	}
	for _, p := range phrases {
		for i := 0; i+len(p) <= len(v.terms); i++ {
			if reflect.DeepEqual(v.terms[i:i+len(p)], p) {
				for k := range p {
					marked[i+k] = true
				}
			}
		}
	}
	var out []query.Span
	for i, m := range marked {
		if m {
			out = append(out, query.Span{Start: v.starts[i], End: v.starts[i] + len(v.words[i])})
		}
	}
	return out
}

// SearchRequest.Highlight marks, in every hit's stored values, exactly the
// words the model says the query matched: words that stem to a query word,
// and the words of a phrase only where they stand together. With fragments
// smaller than the text, each fragment marks exactly the model's matches
// inside it; the fields asked for come back in Hit.Stored, and the ones read
// only to highlight do not.
func TestSearchRequestHighlightMatchesModel(t *testing.T) {
	ctx := context.Background()
	tk, err := analysis.NewRegistry().Get("en")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "en"},
		hermes.Field{Name: "tags", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "en"},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rng := rand.New(rand.NewSource(12))
	model := map[string]map[string][]hlValue{} // id -> field -> values
	for i := range 60 {
		id := fmt.Sprintf("d%02d", i)
		doc := new(hermes.Document).AddString("id", id)
		model[id] = map[string][]hlValue{}
		for _, f := range []string{"body", "tags", "tags"} {
			v := newHLValue(rng, tk)
			doc.AddString(f, v.text)
			model[id][f] = append(model[id][f], v)
		}
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	stem := func(w string) string {
		s := ""
		tk.Tokenize(w, func(t analysis.Token) { s = string(t.Term) })
		return s
	}
	phraseWords := hlWords[:len(hlWords)-2] // no stop-like words in phrases
	marked, phraseMarked := 0, 0
	for iter := range 80 {
		var parts, terms []string
		var phrases [][]string
		for range 1 + rng.Intn(2) {
			if rng.Intn(2) == 0 {
				w := phraseWords[rng.Intn(len(phraseWords))]
				parts, terms = append(parts, w), append(terms, stem(w))
				continue
			}
			a, b := phraseWords[rng.Intn(len(phraseWords))], phraseWords[rng.Intn(len(phraseWords))]
			parts = append(parts, fmt.Sprintf("%q", a+" "+b))
			phrases = append(phrases, []string{stem(a), stem(b)})
		}
		qs := strings.Join(parts, " ")
		whole := iter%2 == 0 // one fragment per value, or small ones
		hl := &hermes.HighlightRequest{Pre: "<", Post: ">", MaxFragments: 1000, FragmentSize: 1 << 20}
		if !whole {
			hl.FragmentSize = 20 + rng.Intn(40)
		}
		if iter%3 == 0 {
			hl.Fields = []string{"tags"}
		}
		res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: qs, K: 100, Fields: []string{"id"}, Highlight: hl})
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		if len(res.Hits) == 0 {
			continue
		}
		for _, h := range res.Hits {
			id := h.Key.Str
			if h.Stored == nil || len(h.Stored.Values) != 1 || h.Stored.Values[0].Field != "id" || h.Stored.Values[0].Str != id {
				t.Fatalf("%s: hit %s: Stored %+v, want the id alone", qs, id, h.Stored)
			}
			for _, field := range []string{"body", "tags"} {
				frags := h.Highlights[field]
				if hl.Fields != nil && field == "body" {
					if frags != nil {
						t.Fatalf("%s: hit %s: body highlighted, not asked for", qs, id)
					}
					continue
				}
				got := make([][]query.Span, len(model[id][field]))
				for _, f := range frags {
					v := model[id][field][f.Value]
					if f.Text != v.text[f.Start:f.End] {
						t.Fatalf("%s: hit %s %s: fragment %q is not value %d [%d:%d]", qs, id, field, f.Text, f.Value, f.Start, f.End)
					}
					if !whole {
						// The fragment marks exactly the model's matches inside it.
						var inside []query.Span
						for _, s := range v.marks(terms, phrases) {
							if s.Start >= f.Start && s.End <= f.End {
								inside = append(inside, query.Span{Start: s.Start - f.Start, End: s.End - f.Start})
							}
						}
						if !reflect.DeepEqual(f.Matches, inside) {
							t.Fatalf("%s: hit %s %s: fragment %q marks %v, model %v", qs, id, field, f.Text, f.Matches, inside)
						}
					}
					marked += len(f.Matches)
					if len(phrases) > 0 {
						phraseMarked += len(f.Matches)
					}
					for _, m := range f.Matches {
						got[f.Value] = append(got[f.Value], query.Span{Start: f.Start + m.Start, End: f.Start + m.End})
					}
					if want := f.Mark("<", ">"); f.Marked != want {
						t.Fatalf("%s: Marked %q, want %q", qs, f.Marked, want)
					}
				}
				if !whole {
					continue
				}
				for vi, v := range model[id][field] {
					if want := v.marks(terms, phrases); !reflect.DeepEqual(got[vi], want) {
						t.Fatalf("%s: hit %s %s[%d] %q:\n marks %v\n model %v", qs, id, field, vi, v.text, got[vi], want)
					}
				}
			}
		}
	}
	if marked < 500 || phraseMarked < 100 {
		t.Fatalf("only %d words marked, %d for queries with phrases: the test checks too little", marked, phraseMarked)
	}
}

func TestSearchRequestHighlightErrors(t *testing.T) {
	ctx := context.Background()
	x := newPageIndex(t)
	x.add(10)
	x.commit()
	r := x.reader()
	for _, tc := range []struct {
		req  hermes.SearchRequest
		want string
	}{
		{hermes.SearchRequest{Query: "red", K: 1, Fields: []string{"nope"}}, `Fields: "nope" is not a stored field`},
		{hermes.SearchRequest{Query: "red", K: 1, Fields: []string{"body"}}, `Fields: "body" is not a stored field`},
		{hermes.SearchRequest{Query: "red", K: 1, Highlight: &hermes.HighlightRequest{Fields: []string{"body"}}}, `Highlight: "body" is not a stored field`},
		{hermes.SearchRequest{Query: "red", K: 1, Highlight: &hermes.HighlightRequest{MaxFragments: -1}}, `must not be negative`},
	} {
		if _, err := r.SearchRequest(ctx, tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tc.req, err, tc.want)
		}
	}
}
