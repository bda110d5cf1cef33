package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blevesearch/vellum"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// This file checks Fuzzy, Wildcard, Regexp, Exists, Boost and sloppy
// phrases against brute-force models that share no code with the engine:
// edit distances by dynamic programming, wildcards by backtracking, regular
// expressions with Go's regexp package, sloppy matches by trying every
// combination of positions.

// memoized returns fn's result, computed once per key.
func memoized[T any](m *model, key string, fn func() T) T {
	if m.memo == nil {
		m.memo = map[string]any{}
	}
	if v, ok := m.memo[key]; ok {
		return v.(T)
	}
	v := fn()
	m.memo[key] = v
	return v
}

// vocab returns the distinct terms of field over every document, sorted.
func (m *model) vocab(field string) []string {
	return memoized(m, "vocab "+field, func() []string { return m.vocabUncached(field) })
}

func (m *model) vocabUncached(field string) []string {
	set := map[string]bool{}
	for s := range m.toks {
		for d := range m.toks[s] {
			for _, t := range m.toks[s][d][field] {
				set[t.term] = true
			}
		}
	}
	var out []string
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (m *model) df(field, term string) int {
	n := 0
	for s := range m.toks {
		for d := range m.toks[s] {
			if m.tf(s, d, field, term) > 0 {
				n++
			}
		}
	}
	return n
}

// osaDistance is the optimal string alignment distance (Levenshtein plus
// transpositions of adjacent characters) in code points.
func osaDistance(a, b string) int {
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

// fuzzyTerms is the model's top-terms rewrite: the terms within the
// distance, weighted 1 - edits/min(lengths) (dropped when <= 0), the best
// MaxExpansions by weight then term order, and the largest df among them.
func (m *model) fuzzyTerms(q Fuzzy) (map[string]float64, int) {
	type cand struct {
		term  string
		boost float64
	}
	var cands []cand
	qlen := utf8.RuneCountInString(q.Term)
	for _, t := range m.vocab(q.Field) {
		if d := utf8.RuneCountInString(t) - qlen; d > q.Distance || -d > q.Distance {
			continue // the distance is at least the difference in length
		}
		ed := osaDistance(q.Term, t)
		if ed > q.Distance {
			continue
		}
		b := 1.0
		if ed > 0 {
			b = 1 - float64(ed)/float64(min(utf8.RuneCountInString(q.Term), utf8.RuneCountInString(t)))
		}
		if b > 0 {
			cands = append(cands, cand{t, b})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].boost > cands[j].boost })
	limit := q.MaxExpansions
	if limit == 0 {
		limit = DefaultFuzzyExpansions
	}
	if len(cands) > limit {
		cands = cands[:limit]
	}
	out := map[string]float64{}
	maxDF := 0
	for _, c := range cands {
		out[c.term] = c.boost
		maxDF = max(maxDF, m.df(q.Field, c.term))
	}
	return out, maxDF
}

// globMatch matches a wildcard pattern against s by backtracking.
func globMatch(p, s []rune) bool {
	if len(p) == 0 {
		return len(s) == 0
	}
	switch {
	case p[0] == '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case p[0] == '?':
		return len(s) > 0 && globMatch(p[1:], s[1:])
	case p[0] == '\\' && len(p) > 1:
		p = p[1:]
	}
	return len(s) > 0 && s[0] == p[0] && globMatch(p[1:], s[1:])
}

// sloppyMatches reports whether some choice of one position per term puts
// the shifted positions within slop of each other, where the occurrences
// of a repeated term (the same group >= 0) take different positions.
func sloppyMatches(lists [][]int, offsets, group []int, slop int) bool {
	used := map[[2]int]bool{} // (group, position) taken
	var try func(i, lo, hi int) bool
	try = func(i, lo, hi int) bool {
		if i > 0 && hi-lo > slop {
			return false
		}
		if i == len(lists) {
			return true
		}
		for _, p := range lists[i] {
			k := [2]int{group[i], p}
			if group[i] >= 0 && used[k] {
				continue
			}
			used[k] = true
			v := p - offsets[i]
			ok := try(i+1, min(lo, v), max(hi, v))
			delete(used, k)
			if ok {
				return true
			}
		}
		return false
	}
	return try(0, math.MaxInt, math.MinInt)
}

// termGroups gives the terms that occur more than once a group number
// each (the same for equal terms), and -1 to the others.
func termGroups(terms []string) []int {
	count := map[string]int{}
	for _, t := range terms {
		count[t]++
	}
	ids := map[string]int{}
	group := make([]int, len(terms))
	for i, t := range terms {
		group[i] = -1
		if count[t] > 1 {
			if _, ok := ids[t]; !ok {
				ids[t] = len(ids)
			}
			group[i] = ids[t]
		}
	}
	return group
}

// sloppyFreqModel is Lucene's SloppyPhraseScorer.phraseFreq written over
// plain sorted slices, following Lucene's code line by line, repeats
// included (initComplex's advanceRepeatGroups, advanceRpts, collide and
// lesser).
func sloppyFreqModel(lists [][]int, offsets, group []int, slop int) float64 {
	type pp struct{ i, pos, off, ord int }
	pps := make([]*pp, len(lists))
	for k := range lists {
		pps[k] = &pp{0, lists[k][0] - offsets[k], offsets[k], k}
	}
	nextPosition := func(p *pp) bool {
		p.i++
		if p.i == len(lists[p.ord]) {
			return false
		}
		p.pos = lists[p.ord][p.i] - p.off
		return true
	}
	// Repeat groups, each sorted by offset; the j-th starts j positions on.
	groups := map[int][]*pp{}
	var gids []int
	for k := range pps {
		if g := group[k]; g >= 0 {
			if groups[g] == nil {
				gids = append(gids, g)
			}
			groups[g] = append(groups[g], pps[k])
		}
	}
	for _, g := range gids {
		rg := groups[g]
		sort.SliceStable(rg, func(a, b int) bool { return rg[a].off < rg[b].off })
		for j := 1; j < len(rg); j++ {
			for k := 0; k < j; k++ {
				if !nextPosition(rg[j]) {
					return 0
				}
			}
		}
	}
	end := math.MinInt
	for _, p := range pps {
		end = max(end, p.pos)
	}
	advancePP := func(p *pp) bool {
		if !nextPosition(p) {
			return false
		}
		end = max(end, p.pos)
		return true
	}
	advanceRpts := func(p *pp) bool {
		if group[p.ord] < 0 {
			return true
		}
		rg := groups[group[p.ord]]
		for {
			var other *pp
			for _, q := range rg {
				if q != p && q.pos+q.off == p.pos+p.off {
					other = q
					break
				}
			}
			if other == nil {
				return true
			}
			if !(p.pos < other.pos || p.pos == other.pos && p.off < other.off) {
				p = other // the lesser advances
			}
			if !advancePP(p) {
				return false
			}
		}
	}
	queue := append([]*pp(nil), pps...)
	sortQ := func() {
		sort.Slice(queue, func(a, b int) bool {
			x, y := queue[a], queue[b]
			if x.pos != y.pos {
				return x.pos < y.pos
			}
			if x.off != y.off {
				return x.off < y.off
			}
			return x.ord < y.ord
		})
	}
	pop := func() *pp { sortQ(); p := queue[0]; queue = queue[1:]; return p }
	top := func() *pp { sortQ(); return queue[0] }
	freq := 0.0
	p := pop()
	matchLength := end - p.pos
	next := top().pos
	for advancePP(p) {
		if !advanceRpts(p) {
			break
		}
		if p.pos > next {
			if matchLength <= slop {
				freq += 1 / float64(matchLength+1)
			}
			queue = append(queue, p)
			p = pop()
			next = top().pos
			matchLength = end - p.pos
		} else if ml := end - p.pos; ml < matchLength {
			matchLength = ml
		}
	}
	if matchLength <= slop {
		freq += 1 / float64(matchLength+1)
	}
	return freq
}

func (m *model) evalMultiTerm(q Query, seg, doc int) (bool, float64) {
	toks := m.toks[seg][doc]
	switch q := q.(type) {
	case Fuzzy:
		type fz struct {
			terms map[string]float64
			maxDF int
		}
		r := memoized(m, fmt.Sprintf("fuzzy %#v", q), func() fz { t, d := m.fuzzyTerms(q); return fz{t, d} })
		terms, maxDF := r.terms, r.maxDF
		n, _ := m.fieldStats(q.Field)
		idf := math.Log(1 + (n-float64(maxDF)+0.5)/(float64(maxDF)+0.5))
		ok, score := false, 0.0
		seen := map[string]bool{}
		for _, t := range toks[q.Field] {
			if b, in := terms[t.term]; in && !seen[t.term] {
				seen[t.term] = true
				ok = true
				score += m.bm25(idf*b, m.tf(seg, doc, q.Field, t.term), len(toks[q.Field]), q.Field)
			}
		}
		return ok, score
	case Wildcard:
		for _, t := range toks[q.Field] {
			if globMatch([]rune(q.Pattern), []rune(t.term)) {
				return true, 1
			}
		}
		return false, 0
	case Regexp:
		re := memoized(m, "regexp "+q.Pattern, func() *regexp.Regexp { return regexp.MustCompile(`^(?:` + q.Pattern + `)$`) })
		for _, t := range toks[q.Field] {
			if re.MatchString(t.term) {
				return true, 1
			}
		}
		return false, 0
	case Exists:
		switch q.Field {
		case "year":
			return m.segs[seg][doc].hasYear, 1
		case "price":
			return true, 1
		}
		return len(toks[q.Field]) > 0, 1
	case Boost:
		ok, s := m.eval(q.Query, seg, doc)
		return ok, s * q.Boost
	case Phrase: // sloppy (eval handles exact phrases)
		lists := make([][]int, len(q.Terms))
		offsets := make([]int, len(q.Terms))
		for i, term := range q.Terms {
			offsets[i] = i
			if q.Positions != nil {
				offsets[i] = q.Positions[i] - q.Positions[0]
			}
			for _, t := range toks[q.Field] {
				if t.term == term {
					lists[i] = append(lists[i], t.pos)
				}
			}
			if len(lists[i]) == 0 {
				return false, 0
			}
		}
		group := termGroups(q.Terms)
		if !sloppyMatches(lists, offsets, group, q.Slop) {
			return false, 0
		}
		var idf float64
		for _, t := range q.Terms {
			idf += m.idf(q.Field, t)
		}
		freq := sloppyFreqModel(lists, offsets, group, q.Slop)
		_, avgdl := m.fieldStats(q.Field)
		const k1, b = 1.2, 0.75
		l := float64(m.norm(uint32(len(toks[q.Field]))))
		return true, idf * (k1 + 1) * freq / (freq + k1*(1-b+b*l/avgdl))
	}
	panic(fmt.Sprintf("model: %T", q))
}

// multiTermLeaf draws one of the new query kinds from the corpus words.
func (g *queryGen) multiTermLeaf() Query {
	f := g.field()
	w := g.word(f)
	switch g.r.Intn(7) {
	case 0:
		return Fuzzy{Field: f, Term: w, Distance: 1 + g.r.Intn(2), MaxExpansions: []int{0, 3}[g.r.Intn(2)]}
	case 1: // a wildcard: some characters become '?', a run becomes '*'
		rs := []rune(w)
		for i := range rs {
			if g.r.Intn(4) == 0 {
				rs[i] = '?'
			}
		}
		if len(rs) > 1 && g.r.Intn(2) == 0 {
			i := g.r.Intn(len(rs))
			j := i + g.r.Intn(len(rs)-i)
			rs = append(append(append([]rune(nil), rs[:i]...), '*'), rs[j:]...)
		}
		return Wildcard{Field: f, Pattern: string(rs)}
	case 2:
		rs := []rune(w)
		i := 1 + g.r.Intn(len(rs))
		pat := regexp.QuoteMeta(string(rs[:i])) + []string{"[0-9]+", ".", ".*", "(1|2)?"}[g.r.Intn(4)]
		return Regexp{Field: f, Pattern: pat}
	case 3:
		return Exists{Field: []string{"title", "body", "year", "price", "id"}[g.r.Intn(5)]}
	case 4:
		return Boost{Query: g.leaf(), Boost: []float64{0, 0.5, 2, 3}[g.r.Intn(4)]}
	default:
		p, ok := g.phrase().(Phrase)
		if !ok {
			return g.term()
		}
		if g.r.Intn(3) == 0 { // a repeated term
			p.Terms = append(p.Terms, p.Terms[g.r.Intn(len(p.Terms))])
			if p.Positions != nil {
				p.Positions = append(p.Positions, p.Positions[len(p.Positions)-1]+1)
			}
		}
		p.Slop = 1 + g.r.Intn(4)
		if g.r.Intn(3) == 0 { // out of order
			p.Terms[0], p.Terms[1] = p.Terms[1], p.Terms[0]
		}
		return p
	}
}

func (g *queryGen) multiTermQuery() Query {
	switch g.r.Intn(4) {
	case 0:
		return g.multiTermLeaf()
	case 1: // a disjunction, as parsed words
		return Boolean{Should: []Query{g.multiTermLeaf(), g.term(), g.multiTermLeaf()}}
	case 2:
		return Boost{Query: Boolean{Must: []Query{g.multiTermLeaf()}, Should: []Query{g.term()}}, Boost: 1.5}
	}
	return Boolean{Must: []Query{g.multiTermLeaf()}, MustNot: []Query{g.multiTermLeaf()}}
}

func checkMultiTermQueries(t *testing.T, s *Searcher, m *model, seed int64, n int) {
	t.Helper()
	g := &queryGen{r: rand.New(rand.NewSource(seed)), m: m}
	ctx := context.Background()
	for i := 0; i < n; i++ {
		q := g.multiTermQuery()
		k := []int{1, 10, 100000}[i%3]
		hits := searchBoth(t, s, q, k)
		checkAgainstModel(t, m, q, k, hits)
		got, err := s.Count(ctx, q)
		if err != nil {
			t.Fatalf("Count(%s): %v", q, err)
		}
		if want := len(m.all(q)); got != want {
			t.Fatalf("Count(%s) = %d, model %d", q, got, want)
		}
	}
}

func TestMemMultiTermQueriesMatchModel(t *testing.T) {
	s, m := memFixture(t)
	checkMultiTermQueries(t, s, m, 21, 80)
}

func TestRealMultiTermQueriesMatchModel(t *testing.T) {
	f := realSearcher(t)
	checkMultiTermQueries(t, f.s, f.m, 22, 30)
}

func TestSloppyPhraseExamples(t *testing.T) {
	// Lucene's documented cases: the frequency of each match is
	// 1/(distance+1).
	for _, tc := range []struct {
		pos     [][]int
		slop    int
		want    float64
		matches bool
		terms   []string // for repeats; nil: all distinct
	}{
		{[][]int{{0}, {1}}, 1, 1, true, nil},            // "a b": exact
		{[][]int{{0}, {2}}, 1, 0.5, true, nil},          // "a x b"~1
		{[][]int{{0}, {3}}, 1, 0, false, nil},           // "a x x b"~1: too far
		{[][]int{{1}, {0}}, 2, 1.0 / 3, true, nil},      // "b a"~2: reversed costs 2
		{[][]int{{1}, {0}}, 1, 0, false, nil},           // "b a"~1
		{[][]int{{0, 5}, {1, 7}}, 1, 1.5, true, nil},    // "a b x x x a x b": 1 + 1/2
		{[][]int{{0}, {1}, {2}}, 0, 1, true, nil},       // "a b c"~0
		{[][]int{{0}, {2}, {1}}, 2, 1.0 / 3, true, nil}, // "a c b" for "a b c"~2
		// A repeated term takes a different position for each occurrence.
		{[][]int{{0, 2}, {0, 2}}, 1, 0.5, true, []string{"a", "a"}},           // "a x a" for "a a"~1
		{[][]int{{0, 1}, {0, 1}}, 1, 1, true, []string{"a", "a"}},             // "a a" for "a a"~1
		{[][]int{{0}, {0}}, 3, 0, false, []string{"a", "a"}},                  // "a" for "a a"~3
		{[][]int{{0, 3}, {1}, {0, 3}}, 1, 0.5, true, []string{"a", "b", "a"}}, // "a b x a" for "a b a"~1
		{[][]int{{0, 5}, {1}, {0, 5}}, 2, 0, false, []string{"a", "b", "a"}},  // "a b x x x a" for "a b a"~2
	} {
		offsets := make([]int, len(tc.pos))
		for i := range offsets {
			offsets[i] = i
		}
		group := make([]int, len(tc.pos))
		for i := range group {
			group[i] = -1
		}
		if tc.terms != nil {
			group = termGroups(tc.terms)
		}
		if got := sloppyMatches(tc.pos, offsets, group, tc.slop); got != tc.matches {
			t.Errorf("%v ~%d: matches %v, want %v", tc.pos, tc.slop, got, tc.matches)
		}
		if got := sloppyFreqModel(tc.pos, offsets, group, tc.slop); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%v ~%d: model frequency %v, want %v", tc.pos, tc.slop, got, tc.want)
		}
	}
}

func TestExpansionLimit(t *testing.T) {
	s, _ := memFixture(t)
	ctx := context.Background()
	for _, q := range []Query{
		Wildcard{Field: "body", Pattern: "w*", MaxExpansions: 10},
		Regexp{Field: "body", Pattern: "w[0-9]+", MaxExpansions: 10},
	} {
		_, err := s.Search(ctx, q, 10)
		if !errors.Is(err, ErrTooManyExpansions) || !strings.Contains(err.Error(), "10 terms") {
			t.Errorf("Search(%s) error = %v, want ErrTooManyExpansions naming the limit", q, err)
		}
	}
	// Fuzzy keeps its best terms instead of failing.
	if _, err := s.Search(ctx, Fuzzy{Field: "body", Term: "w12", Distance: 2, MaxExpansions: 2}, 10); err != nil {
		t.Errorf("fuzzy past its expansions: %v", err)
	}
}

// A fuzzy term too long for a Levenshtein DFA (about 70 KB per character
// at distance 2, so a pasted 20,000-character word would take gigabytes)
// runs in bounded memory; one longer than MaxFuzzyTermRunes, which no
// indexed term can be within 2 edits of, is refused.
func TestFuzzyTermLengthBounded(t *testing.T) {
	s, _ := memFixture(t)
	ctx := context.Background()
	long := strings.Repeat("x", 20000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	hits, err := s.Search(ctx, Fuzzy{Field: "body", Term: long, Distance: 2}, 10)
	runtime.ReadMemStats(&after)
	if err != nil || len(hits) != 0 {
		t.Errorf("fuzzy term of %d characters: %d hits, error %v; want none, no error", len(long), len(hits), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("fuzzy term of %d characters allocated %d MB", len(long), alloc>>20)
	}
	if _, err := s.Search(ctx, Fuzzy{Field: "body", Term: strings.Repeat("x", MaxFuzzyTermRunes), Distance: 2}, 10); err != nil {
		t.Errorf("fuzzy term of %d characters: %v", MaxFuzzyTermRunes, err)
	}
	tooLong := Fuzzy{Field: "body", Term: strings.Repeat("é", MaxFuzzyTermRunes+1), Distance: 2}
	_, err = s.Search(ctx, tooLong, 10)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("fuzzy term of %d characters; at most %d", MaxFuzzyTermRunes+1, MaxFuzzyTermRunes)) {
		t.Errorf("fuzzy term of %d characters: error %v, want one saying it is too long", MaxFuzzyTermRunes+1, err)
	}
	if _, err := Highlight(tooLong, "body", "some text", analysis.SimpleTokenizer{}, HighlightOptions{}); err == nil {
		t.Errorf("highlighting a fuzzy term of %d characters: no error", MaxFuzzyTermRunes+1)
	}
}

// boundedOSADistance equals the model's full-table distance, capped at
// max+1, and the Levenshtein DFA used for short terms agrees with it.
func TestBoundedOSADistanceMatchesModelAndDFA(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	alphabet := []rune("abé")
	word := func(n int) string {
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(rs)
	}
	for i := range 3000 {
		a, b := word(rng.Intn(9)), word(rng.Intn(9))
		if rng.Intn(3) == 0 { // close pairs: b is a with an edit or two
			b = editWord(rng, a, 1+rng.Intn(2), alphabet)
		}
		max := rng.Intn(4)
		want := min(osaDistance(a, b), max+1)
		if got := boundedOSADistance([]rune(a), []rune(b), max); got != want {
			t.Fatalf("boundedOSADistance(%q, %q, %d) = %d, want %d", a, b, max, got, want)
		}
		if (max == 1 || max == 2) && i%4 == 0 { // building a DFA costs about a millisecond
			dfa, err := levenshteinDFA(a, max)
			if err != nil {
				t.Fatal(err)
			}
			ok, d := dfa.MatchAndDistance(b)
			if ok != (want <= max) || (ok && int(d) != want) {
				t.Fatalf("DFA(%q, %d) on %q: %v %d; OSA distance %d", a, max, b, ok, d, want)
			}
		}
	}
}

// editWord applies n random edits (insert, delete, substitute, transpose)
// to w.
func editWord(rng *rand.Rand, w string, n int, alphabet []rune) string {
	rs := []rune(w)
	for range n {
		i := rng.Intn(len(rs) + 1)
		switch op := rng.Intn(4); {
		case op == 0 || len(rs) == 0:
			rs = slices.Insert(rs, i, alphabet[rng.Intn(len(alphabet))])
		case op == 1 && i < len(rs):
			rs = slices.Delete(rs, i, i+1)
		case op == 2 && i < len(rs):
			rs[i] = alphabet[rng.Intn(len(alphabet))]
		case i+1 < len(rs):
			rs[i], rs[i+1] = rs[i+1], rs[i]
		}
	}
	return string(rs)
}

// vellum's Levenshtein DFA for "ab" repeated 9 times at distance 1 does
// not accept the term itself; such a term is matched without the DFA.
func TestFuzzyTermTheDFAMisses(t *testing.T) {
	term := strings.Repeat("ab", 9)
	dfa, err := levenshteinDFA(term, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := dfa.MatchAndDistance(term); ok {
		t.Log("vellum's DFA now accepts the term: this test no longer covers the fallback")
	}
	segs := [][]tdoc{{{id: "a", body: term}, {id: "b", body: term[1:]}, {id: "c", body: "ab"}}}
	tk := analysis.SimpleTokenizer{}
	s, m := memSearcher(segs, tk, 4), newModel(segs, tk, identityNorm)
	for _, d := range []int{1, 2} {
		q := Fuzzy{Field: "body", Term: term, Distance: d}
		hits := searchBoth(t, s, q, 10)
		if len(hits) != 2 {
			t.Errorf("%s: %d hits, want 2", q, len(hits))
		}
		checkAgainstModel(t, m, q, 10, hits)
	}
}

// Fuzzy queries on terms longer than the DFA takes (fuzzyDFARunes) find
// the terms within their distance and score them as the model does, over
// segments of long words a few edits apart, with multibyte characters.
func TestLongFuzzyTermsMatchModel(t *testing.T) {
	rng := rand.New(rand.NewSource(14))
	alphabet := []rune("abcéжz")
	base := make([]rune, fuzzyDFARunes+60)
	for i := range base {
		base[i] = alphabet[rng.Intn(len(alphabet))]
	}
	var words []string
	for range 40 {
		words = append(words, editWord(rng, string(base), rng.Intn(4), alphabet))
	}
	words = append(words, string(base[:fuzzyDFARunes-1]), string(base[:fuzzyDFARunes+1]), "w1", "w2")
	var segs [][]tdoc
	id := 0
	for _, n := range []int{30, 0, 25} {
		var docs []tdoc
		for range n {
			var body []string
			for range 1 + rng.Intn(4) {
				body = append(body, words[rng.Intn(len(words))])
			}
			docs = append(docs, tdoc{id: fmt.Sprintf("doc%d", id), title: "t", body: strings.Join(body, " "), deleted: rng.Intn(10) == 0})
			id++
		}
		segs = append(segs, docs)
	}
	tk := analysis.SimpleTokenizer{}
	s, m := memSearcher(segs, tk, 4), newModel(segs, tk, identityNorm)
	for i := range 30 {
		term := words[rng.Intn(len(words))]
		if i%3 == 0 {
			term = editWord(rng, term, 1+rng.Intn(2), alphabet)
		}
		q := Fuzzy{Field: "body", Term: term, Distance: 1 + rng.Intn(2), MaxExpansions: []int{0, 3}[rng.Intn(2)]}
		hits := searchBoth(t, s, q, 10)
		checkAgainstModel(t, m, q, 10, hits)
	}
}

// Patterns whose whole DFA is huge (every Unicode letter, nested
// repetitions) run lazily and agree with the model.
func TestHostileRegexpsMatchModel(t *testing.T) {
	s, m := memFixture(t)
	f := realSearcher(t)
	for _, p := range []string{`\pL{2,5}`, `(?i)W\pL*1`, `(\pL|\pN)*7(\pL|\pN){3}`} {
		for _, fx := range []struct {
			s *Searcher
			m *model
		}{{s, m}, {f.s, f.m}} {
			q := Regexp{Field: "body", Pattern: p, MaxExpansions: 1 << 20}
			checkAgainstModel(t, fx.m, q, 10, searchBoth(t, fx.s, q, 10))
		}
	}
}

// Sloppy phrases that repeat a term, drawn from the most frequent words so
// that many documents match, equal the model: each occurrence takes its own
// position, and the frequency is Lucene's.
func TestSloppyRepeatsMatchModel(t *testing.T) {
	mem, mm := memFixture(t)
	real := realSearcher(t)
	ctx := context.Background()
	r := rand.New(rand.NewSource(31))
	words := []string{"w0", "w1", "w2", "w3"}
	matched := 0
	for i := 0; i < 60; i++ {
		p := Phrase{Field: "title", Slop: 1 + r.Intn(6)}
		for n := 2 + r.Intn(3); len(p.Terms) < n; {
			p.Terms = append(p.Terms, words[r.Intn(len(words))])
		}
		if !slices.ContainsFunc(termGroups(p.Terms), func(g int) bool { return g >= 0 }) {
			p.Terms[len(p.Terms)-1] = p.Terms[0]
		}
		var q Query = p
		if i%4 == 0 {
			q = Boolean{Should: []Query{p, Term{Field: "title", Term: words[r.Intn(len(words))]}}}
		}
		s, m := mem, mm
		if i%3 == 0 {
			s, m = real.s, real.m
		}
		k := []int{1, 10, 100000}[i%3]
		checkAgainstModel(t, m, q, k, searchBoth(t, s, q, k))
		got, err := s.Count(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want := len(m.all(p))
		if got != want {
			t.Fatalf("Count(%s) = %d, model %d", p, got, want)
		}
		if want > 0 {
			matched++
		}
	}
	if matched < 15 {
		t.Fatalf("only %d of 60 phrases matched anything: the test checks too little", matched)
	}
}

// The osaAutomaton, walking a term dictionary, accepts exactly the terms
// within the distance (as boundedOSADistance counts it), for queries of
// any length and multibyte or invalid UTF-8 terms; and it prunes: a query
// far from every term visits few states.
func TestOSAAutomatonMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewSource(15))
	alphabet := []rune("abcéжz")
	var words []string
	seen := map[string]bool{}
	for len(words) < 3000 {
		rs := make([]rune, 1+rng.Intn(12))
		for i := range rs {
			rs[i] = alphabet[rng.Intn(len(alphabet))]
		}
		w := string(rs)
		if rng.Intn(50) == 0 {
			w += "\xff" // not UTF-8: never a match
		}
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	slices.Sort(words)
	var buf bytes.Buffer
	b, err := vellum.New(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range words {
		if err := b.Insert([]byte(w), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	fst, err := vellum.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	walk := func(a vellum.Automaton) []string {
		var got []string
		it, err := fst.Search(a, nil, nil)
		for err == nil {
			k, _ := it.Current()
			got = append(got, string(k))
			err = it.Next()
		}
		return got
	}
	for i := range 300 {
		q := words[rng.Intn(len(words))]
		if i%2 == 0 {
			q = editWord(rng, q, rng.Intn(3), alphabet)
		}
		if !utf8.ValidString(q) {
			continue
		}
		max := 1 + rng.Intn(2)
		var want []string
		for _, w := range words {
			if utf8.ValidString(w) && boundedOSADistance([]rune(q), []rune(w), max) <= max {
				want = append(want, w)
			}
		}
		a := newOSAAutomaton([]rune(q), max)
		if got := walk(a); !slices.Equal(got, want) {
			t.Fatalf("%q within %d: walk found %q, want %q", q, max, got, want)
		}
	}
	// A long query far from every term: the walk leaves each path within
	// a few code points, so it builds far fewer states than the
	// dictionary has terms (130 here).
	a := newOSAAutomaton([]rune(strings.Repeat("q", 300)), 2)
	if got := walk(a); len(got) != 0 {
		t.Fatalf("far query matched %q", got)
	}
	if n := len(a.meta); n > len(words)/10 {
		t.Errorf("a far query built %d states over %d terms: the walk is not pruned", n, len(words))
	}
}
