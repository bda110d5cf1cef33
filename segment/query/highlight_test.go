package query

import (
	"fmt"
	"math/rand"
	"path"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hermes-search/hermes-go/segment/analysis"
)

func enTokenizer(t testing.TB) analysis.Tokenizer {
	t.Helper()
	tk, err := analysis.NewRegistry().Get("en")
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// hlVocab mixes inflections of one stem, stop words and case.
var hlVocab = []string{"run", "running", "Runs", "runner", "the", "quick", "Quick", "brown",
	"fox", "foxes", "jumped", "jumps", "over", "lazy", "dog", "Dogs", "a", "and", "ran", "fax"}

// hlModel is the brute-force highlighter: the text is words separated by
// punctuation and spaces, word i stands at position i, and its term is what
// the tokenizer makes of the word alone ("" for a stop word).
type hlModel struct {
	words  []string
	starts []int
	terms  []string
}

func newHLModel(tk analysis.Tokenizer, words []string, seps []string) (hlModel, string) {
	m := hlModel{words: words}
	var sb strings.Builder
	for i, w := range words {
		sb.WriteString(seps[i])
		m.starts = append(m.starts, sb.Len())
		sb.WriteString(w)
		term := ""
		tk.Tokenize(w, func(t analysis.Token) { term = string(t.Term) })
		m.terms = append(m.terms, term)
	}
	return m, sb.String()
}

// osa is the optimal-string-alignment distance in code points.
func osa(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// marks returns the indexes of the words q matches in field "f".
func (m hlModel) marks(q Query) map[int]bool {
	out := map[int]bool{}
	each := func(ok func(term string) bool) {
		for i, t := range m.terms {
			if t != "" && ok(t) {
				out[i] = true
			}
		}
	}
	switch q := q.(type) {
	case Boolean:
		for _, c := range append(append([]Query(nil), q.Must...), q.Should...) {
			for i := range m.marks(c) {
				out[i] = true
			}
		}
	case Boost:
		return m.marks(q.Query)
	case Term:
		if q.Field == "f" {
			each(func(t string) bool { return t == q.Term })
		}
	case Prefix:
		if q.Field == "f" {
			each(func(t string) bool { return strings.HasPrefix(t, q.Prefix) })
		}
	case Fuzzy:
		if q.Field == "f" {
			each(func(t string) bool {
				d := osa(t, q.Term)
				return d <= q.Distance && (d == 0 || d < min(utf8.RuneCountInString(t), utf8.RuneCountInString(q.Term)))
			})
		}
	case Wildcard:
		if q.Field == "f" {
			each(func(t string) bool { ok, _ := path.Match(q.Pattern, t); return ok })
		}
	case Phrase:
		if q.Field != "f" {
			break
		}
		// Every choice of one distinct word per phrase term.
		n := len(q.Terms)
		pick := make([]int, n)
		var rec func(k int)
		rec = func(k int) {
			if k == n {
				lo, hi := 1<<30, -1<<30
				for j, w := range pick {
					s := w - j
					lo, hi = min(lo, s), max(hi, s)
				}
				if hi-lo <= q.Slop {
					for _, w := range pick {
						out[w] = true
					}
				}
				return
			}
		next:
			for w, t := range m.terms {
				if t != q.Terms[k] {
					continue
				}
				for _, p := range pick[:k] {
					if p == w {
						continue next
					}
				}
				pick[k] = w
				rec(k + 1)
			}
		}
		rec(0)
	}
	return out
}

// randomHLQuery draws a query over terms of the vocabulary (as analysed).
func randomHLQuery(rng *rand.Rand, terms []string, depth int) Query {
	term := func() string { return terms[rng.Intn(len(terms))] }
	switch k := rng.Intn(8); {
	case k == 0 && depth < 2:
		var b Boolean
		for range 1 + rng.Intn(3) {
			b.Should = append(b.Should, randomHLQuery(rng, terms, depth+1))
		}
		if rng.Intn(2) == 0 {
			b.Must = append(b.Must, randomHLQuery(rng, terms, depth+1))
		}
		b.MustNot = []Query{Term{Field: "f", Term: term()}} // never marked
		return b
	case k == 1:
		return Prefix{Field: "f", Prefix: term()[:1+rng.Intn(2)]}
	case k == 2:
		return Fuzzy{Field: "f", Term: term(), Distance: 1}
	case k == 3:
		t := []byte(term())
		t[rng.Intn(len(t))] = "?*"[rng.Intn(2)]
		return Wildcard{Field: "f", Pattern: string(t)}
	case k == 4 || k == 5:
		p := Phrase{Field: "f", Slop: rng.Intn(3) * (k - 4)}
		for range 2 + rng.Intn(2) {
			p.Terms = append(p.Terms, term())
		}
		if rng.Intn(3) == 0 { // a repeated term
			p.Terms = append(p.Terms, p.Terms[rng.Intn(len(p.Terms))])
		}
		return p
	case k == 6:
		return Term{Field: "other", Term: term()} // another field: never marked
	default:
		return Boost{Query: Term{Field: "f", Term: term()}, Boost: 2}
	}
}

func TestHighlightMatchesModel(t *testing.T) {
	tk := enTokenizer(t)
	var terms []string
	for _, w := range hlVocab {
		tk.Tokenize(w, func(tok analysis.Token) { terms = append(terms, string(tok.Term)) })
	}
	seps := []string{" ", ", ", ". ", " -- ", "\n"}
	rng := rand.New(rand.NewSource(12))
	for iter := range 3000 {
		n := rng.Intn(14)
		words, sp := make([]string, n), make([]string, n)
		for i := range words {
			words[i], sp[i] = hlVocab[rng.Intn(len(hlVocab))], seps[rng.Intn(len(seps))]
		}
		m, text := newHLModel(tk, words, sp)
		q := randomHLQuery(rng, terms, 0)
		got, err := Matches(q, "f", text, tk)
		if err != nil {
			t.Fatalf("%d: %s: %v", iter, q, err)
		}
		var want []Span
		for i := range words {
			if m.marks(q)[i] {
				want = append(want, Span{m.starts[i], m.starts[i] + len(words[i])})
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d: query %s on %q:\n got  %v\n want %v", iter, q, text, got, want)
		}
		checkFragments(t, q, text, tk, got)
	}
}

// checkFragments checks the fragments of text against its matches: each
// is a piece of text within the size asked, cut at word boundaries, its
// matches are exactly the matches inside it, and the fragments are
// ordered by score.
func checkFragments(t *testing.T, q Query, text string, tk analysis.Tokenizer, all []Span) {
	t.Helper()
	size := 8 + len(text)%40
	frags, err := Highlight(q, "f", text, tk, HighlightOptions{FragmentSize: size, MaxFragments: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 && len(frags) != 0 {
		t.Fatalf("%s on %q: fragments %v without a match", q, text, frags)
	}
	covered := 0
	for i, f := range frags {
		if f.Text != text[f.Start:f.End] {
			t.Fatalf("%s on %q: fragment %q is not text[%d:%d]", q, text, f.Text, f.Start, f.End)
		}
		if len(f.Matches) == 0 || f.End-f.Start > size && len(f.Matches) != 1 {
			t.Fatalf("%s on %q: fragment %q of %d bytes (size %d) with %d matches", q, text, f.Text, f.End-f.Start, size, len(f.Matches))
		}
		if i > 0 && f.Score > frags[i-1].Score {
			t.Fatalf("%s on %q: fragment %d scores %v after %v", q, text, i, f.Score, frags[i-1].Score)
		}
		var inside []Span
		for _, s := range all {
			if s.Start >= f.Start && s.End <= f.End {
				inside = append(inside, Span{s.Start - f.Start, s.End - f.Start})
			}
		}
		if !reflect.DeepEqual(f.Matches, inside) {
			t.Fatalf("%s on %q: fragment %q matches %v, want %v", q, text, f.Text, f.Matches, inside)
		}
		covered += len(f.Matches)
	}
	if covered != len(all) {
		t.Fatalf("%s on %q: fragments hold %d matches of %d", q, text, covered, len(all))
	}
}

func TestHighlightFragments(t *testing.T) {
	tk := enTokenizer(t)
	text := strings.Repeat("filler words here. ", 20) + "The quick brown fox. " +
		strings.Repeat("more filler text. ", 20) + "A fox, a dog and the quick brown fox again."
	q := Boolean{Should: []Query{Term{Field: "f", Term: "fox"}, Phrase{Field: "f", Terms: []string{"quick", "brown"}}}}
	frags, err := Highlight(q, "f", text, tk, HighlightOptions{FragmentSize: 60, MaxFragments: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range frags {
		got = append(got, mark(f))
	}
	want := []string{
		"filler text. A [fox], a dog and the [quick] [brown] [fox] again.",
		"here. The [quick] [brown] [fox]. more filler text. more filler",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fragments:\n got  %q\n want %q", got, want)
	}
	// A text shorter than the fragment size is one fragment, whole.
	short := "  Some words, then a late fox.\n"
	if frags, _ := Highlight(Term{Field: "f", Term: "fox"}, "f", short, tk, HighlightOptions{FragmentSize: 40}); len(frags) != 1 ||
		mark(frags[0]) != "Some words, then a late [fox]." {
		t.Errorf("short text: got %+v", frags)
	}
	if frags, _ := Highlight(Term{Field: "f", Term: "cat"}, "f", text, tk, HighlightOptions{}); len(frags) != 0 {
		t.Errorf("no match: got %v", frags)
	}
	if _, err := Highlight(Regexp{Field: "f", Pattern: "^a"}, "f", text, tk, HighlightOptions{}); err == nil {
		t.Error("a regexp with an anchor: no error")
	}
}

// mark renders a fragment with its matches in brackets.
func mark(f Fragment) string {
	var sb strings.Builder
	last := 0
	for _, m := range f.Matches {
		sb.WriteString(f.Text[last:m.Start] + "[" + f.Text[m.Start:m.End] + "]")
		last = m.End
	}
	return sb.String() + f.Text[last:]
}

func ExampleHighlight() {
	en, _ := analysis.NewRegistry().Get("en") // stop words, then the English stemmer
	text := "Runners were running fast. Running water runs downhill; the runner ran."
	// What Parse makes of `running water` on a field indexed with "en": the
	// phrase's terms are stemmed, so it marks "Running water" and not
	// "running fast"; the term marks "Runners" and "runner", not "ran".
	q := Boolean{Should: []Query{
		Term{Field: "body", Term: "runner"},
		Phrase{Field: "body", Terms: []string{"run", "water"}},
	}}
	frags, err := Highlight(q, "body", text, en, HighlightOptions{FragmentSize: 40})
	if err != nil {
		panic(err)
	}
	for _, f := range frags {
		fmt.Printf("%.1f %s\n", f.Score, mark(f))
	}
	// Output:
	// 3.3 [Runners] were running fast. [Running] [water]
	// 1.1 runs downhill; the [runner] ran.
}
