package query

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
)

// model answers queries by brute force straight from the documents' text,
// with its own BM25, sharing no code with the engine. Statistics count
// every document, deleted ones included, as the engine documents.
type model struct {
	segs [][]tdoc
	toks [][]map[string][]tok  // segment -> doc -> field -> tokens
	tfs  [][]map[fieldTerm]int // segment -> doc -> (field, term) -> freq
	// norm maps a true field length to the length the index scores with
	// (segment files quantize it to one byte, as Lucene does).
	norm func(uint32) uint32

	idfs  map[fieldTerm]float64
	stats map[string][2]float64
	memo  map[string]any // per-query results of the multi-term models
}

func newModel(segs [][]tdoc, tk analysis.Tokenizer, norm func(uint32) uint32) *model {
	m := &model{segs: segs, idfs: map[fieldTerm]float64{}, stats: map[string][2]float64{}, norm: norm}
	for _, docs := range segs {
		var ds []map[string][]tok
		var tfs []map[fieldTerm]int
		for i := range docs {
			f := map[string][]tok{"id": {{docs[i].id, 0}}}
			for _, name := range textFields {
				f[name] = analyze(tk, docs[i].text(name))
			}
			tf := map[fieldTerm]int{}
			for name, toks := range f {
				for _, t := range toks {
					tf[fieldTerm{name, t.term}]++
				}
			}
			ds = append(ds, f)
			tfs = append(tfs, tf)
		}
		m.toks = append(m.toks, ds)
		m.tfs = append(m.tfs, tfs)
	}
	return m
}

func identityNorm(n uint32) uint32 { return n }

type fieldTerm struct{ field, term string }

func (m *model) tf(seg, doc int, field, term string) int {
	return m.tfs[seg][doc][fieldTerm{field, term}]
}

// fieldStats returns the number of docs with the field and their mean length.
func (m *model) fieldStats(field string) (n, avgdl float64) {
	if st, ok := m.stats[field]; ok {
		return st[0], st[1]
	}
	defer func() { m.stats[field] = [2]float64{n, avgdl} }()
	var sum float64
	for s := range m.toks {
		for d := range m.toks[s] {
			if l := len(m.toks[s][d][field]); l > 0 {
				n++
				sum += float64(l)
			}
		}
	}
	if n == 0 {
		return 0, 1
	}
	return n, sum / n
}

func (m *model) idf(field, term string) float64 {
	if v, ok := m.idfs[fieldTerm{field, term}]; ok {
		return v
	}
	n, _ := m.fieldStats(field)
	df := 0.0
	for s := range m.toks {
		for d := range m.toks[s] {
			if m.tf(s, d, field, term) > 0 {
				df++
			}
		}
	}
	v := math.Log(1 + (n-df+0.5)/(df+0.5))
	m.idfs[fieldTerm{field, term}] = v
	return v
}

func (m *model) bm25(idf float64, tf, dl int, field string) float64 {
	_, avgdl := m.fieldStats(field)
	const k1, b = 1.2, 0.75
	l := float64(m.norm(uint32(dl)))
	return idf * (k1 + 1) * float64(tf) / (float64(tf) + k1*(1-b+b*l/avgdl))
}

// phraseFreq counts the start positions where the phrase occurs.
func (m *model) phraseFreq(seg, doc int, q Phrase) int {
	at := map[int]string{}
	for _, t := range m.toks[seg][doc][q.Field] {
		at[t.pos] = t.term
	}
	n := 0
	for _, t := range m.toks[seg][doc][q.Field] {
		ok := true
		for i, term := range q.Terms {
			off := i
			if q.Positions != nil {
				off = q.Positions[i] - q.Positions[0]
			}
			if at[t.pos+off] != term {
				ok = false
				break
			}
		}
		if ok {
			n++
		}
	}
	return n
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	}
	panic(fmt.Sprintf("bound %T", v))
}

func inRange(q Range, v float64) bool {
	if q.Min != nil {
		lo := toFloat(q.Min)
		if v < lo || (v == lo && !q.MinInclusive) {
			return false
		}
	}
	if q.Max != nil {
		hi := toFloat(q.Max)
		if v > hi || (v == hi && !q.MaxInclusive) {
			return false
		}
	}
	return true
}

// eval returns whether a doc matches q and its score.
func (m *model) eval(q Query, seg, doc int) (bool, float64) {
	switch q := q.(type) {
	case Term:
		tf := m.tf(seg, doc, q.Field, q.Term)
		if tf == 0 {
			return false, 0
		}
		return true, m.bm25(m.idf(q.Field, q.Term), tf, len(m.toks[seg][doc][q.Field]), q.Field)
	case Phrase:
		if q.Slop > 0 && len(q.Terms) > 1 {
			return m.evalMultiTerm(q, seg, doc)
		}
		if len(q.Terms) == 1 {
			return m.eval(Term{q.Field, q.Terms[0]}, seg, doc)
		}
		pf := m.phraseFreq(seg, doc, q)
		if pf == 0 {
			return false, 0
		}
		var idf float64
		for _, t := range q.Terms {
			idf += m.idf(q.Field, t)
		}
		return true, m.bm25(idf, pf, len(m.toks[seg][doc][q.Field]), q.Field)
	case Prefix:
		for _, t := range m.toks[seg][doc][q.Field] {
			if strings.HasPrefix(t.term, q.Prefix) {
				return true, 1
			}
		}
		return false, 0
	case Range:
		d := m.segs[seg][doc]
		switch q.Field {
		case "year":
			return d.hasYear && inRange(q, float64(d.year)), 1
		case "price":
			return inRange(q, d.price), 1
		}
		panic(q.Field)
	case All:
		return true, 1
	case Boolean:
		for _, c := range q.MustNot {
			if ok, _ := m.eval(c, seg, doc); ok {
				return false, 0
			}
		}
		if len(q.Must) == 0 && len(q.Should) == 0 {
			return len(q.MustNot) > 0, 1
		}
		var score float64
		for _, c := range q.Must {
			ok, s := m.eval(c, seg, doc)
			if !ok {
				return false, 0
			}
			score += s
		}
		any := false
		for _, c := range q.Should {
			if ok, s := m.eval(c, seg, doc); ok {
				any = true
				score += s
			}
		}
		if len(q.Must) == 0 && !any {
			return false, 0
		}
		return true, score
	}
	return m.evalMultiTerm(q, seg, doc)
}

type modelHit struct {
	seg   int
	doc   uint32
	score float64
}

// all returns every live match, best first.
func (m *model) all(q Query) []modelHit {
	var out []modelHit
	for s := range m.segs {
		for d := range m.segs[s] {
			if m.segs[s][d].deleted {
				continue
			}
			if ok, score := m.eval(q, s, d); ok {
				out = append(out, modelHit{s, uint32(d), score})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}

func relClose(a, b float64) bool {
	return math.Abs(a-b) <= 1e-4*math.Max(math.Abs(a), math.Abs(b))+1e-9
}

// checkAgainstModel checks hits (for k) against the model's ranking: the
// same scores rank by rank, and each hit a real match with that score.
func checkAgainstModel(t *testing.T, m *model, q Query, k int, hits []Hit) {
	t.Helper()
	want := m.all(q)
	if len(want) > k {
		want = want[:k]
	}
	if len(hits) != len(want) {
		t.Fatalf("%s (k=%d): %d hits, model has %d", q, k, len(hits), len(want))
	}
	for i, h := range hits {
		if !relClose(float64(h.Score), want[i].score) {
			t.Fatalf("%s (k=%d): hit %d scores %v, model's hit %d scores %v", q, k, i, h.Score, i, want[i].score)
		}
		if m.segs[h.Segment][h.Doc].deleted {
			t.Fatalf("%s: hit %d is deleted doc %d/%d", q, i, h.Segment, h.Doc)
		}
		ok, s := m.eval(q, h.Segment, int(h.Doc))
		if !ok || !relClose(float64(h.Score), s) {
			t.Fatalf("%s: hit %d (%d/%d, %v): model says match=%v score=%v", q, i, h.Segment, h.Doc, h.Score, ok, s)
		}
	}
}

// --- corpora and query generators ---

// zipfCorpus generates seeded Zipfian text split into segments.
func zipfCorpus(seed int64, segSizes []int) [][]tdoc {
	r := rand.New(rand.NewSource(seed))
	z := rand.NewZipf(r, 1.1, 2, 3000)
	words := func(n int) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "w%d", z.Uint64())
		}
		return sb.String()
	}
	var segs [][]tdoc
	id := 0
	for _, n := range segSizes {
		var docs []tdoc
		for i := 0; i < n; i++ {
			d := tdoc{id: fmt.Sprintf("doc%d", id), title: words(1 + r.Intn(8)), body: words(r.Intn(120)),
				year: uint64(1950 + r.Intn(70)), hasYear: r.Intn(10) > 0, price: float64(r.Intn(10000)) / 100}
			if r.Intn(20) == 0 {
				d.title = "" // some docs lack a field
			}
			d.deleted = r.Intn(15) == 0
			docs = append(docs, d)
			id++
		}
		segs = append(segs, docs)
	}
	return segs
}

// queryGen draws random queries over a model's vocabulary.
type queryGen struct {
	r *rand.Rand
	m *model
}

// word picks a term of field from a random document (frequent terms are
// picked more often, as in real queries), or now and then a missing one.
func (g *queryGen) word(field string) string {
	if g.r.Intn(25) == 0 {
		return "zzzmissing"
	}
	for {
		s := g.r.Intn(len(g.m.toks))
		if len(g.m.toks[s]) == 0 {
			continue
		}
		toks := g.m.toks[s][g.r.Intn(len(g.m.toks[s]))][field]
		if len(toks) > 0 {
			return toks[g.r.Intn(len(toks))].term
		}
	}
}

func (g *queryGen) field() string { return textFields[g.r.Intn(len(textFields))] }

func (g *queryGen) term() Term {
	f := g.field()
	return Term{Field: f, Term: g.word(f)}
}

// disjunction is the common case: 1-5 words, maybe on both fields, maybe
// with an excluded term.
func (g *queryGen) disjunction() Query {
	n := 1 + g.r.Intn(5)
	b := Boolean{}
	for i := 0; i < n; i++ {
		t := g.term()
		b.Should = append(b.Should, t)
		if g.r.Intn(3) == 0 {
			other := "body"
			if t.Field == "body" {
				other = "title"
			}
			b.Should = append(b.Should, Term{Field: other, Term: t.Term})
		}
	}
	if g.r.Intn(5) == 0 {
		b.MustNot = append(b.MustNot, g.term())
	}
	if len(b.Should) == 1 && len(b.MustNot) == 0 && g.r.Intn(2) == 0 {
		return b.Should[0]
	}
	return b
}

func (g *queryGen) phrase() Query {
	f := "title" // the field with positions
	for {
		s := g.r.Intn(len(g.m.toks))
		if len(g.m.toks[s]) == 0 {
			continue
		}
		toks := g.m.toks[s][g.r.Intn(len(g.m.toks[s]))][f]
		if len(toks) < 2 {
			continue
		}
		n := 2 + g.r.Intn(2)
		i := g.r.Intn(len(toks))
		q := Phrase{Field: f}
		for j := i; j < len(toks) && j < i+n; j++ {
			q.Terms = append(q.Terms, toks[j].term)
		}
		if len(q.Terms) < 2 {
			continue
		}
		if g.r.Intn(4) == 0 {
			q.Terms[g.r.Intn(len(q.Terms))] = g.word(f) // often no longer occurs
		}
		return q
	}
}

func (g *queryGen) rangeQ() Query {
	if g.r.Intn(2) == 0 {
		lo := 1950 + g.r.Intn(70)
		q := Range{Field: "year", Min: lo, Max: lo + g.r.Intn(20), MinInclusive: g.r.Intn(2) == 0, MaxInclusive: g.r.Intn(2) == 0}
		if g.r.Intn(4) == 0 {
			q.Min = nil
		}
		return q
	}
	lo := g.r.Float64() * 100
	return Range{Field: "price", Min: lo, Max: lo + g.r.Float64()*30, MinInclusive: true}
}

func (g *queryGen) leaf() Query {
	switch g.r.Intn(10) {
	case 0:
		return g.phrase()
	case 1:
		return g.rangeQ()
	case 2:
		f := g.field()
		w := g.word(f)
		return Prefix{Field: f, Prefix: w[:min(len(w), 1+g.r.Intn(3))]}
	case 3:
		if g.r.Intn(4) == 0 {
			return All{}
		}
	}
	return g.term()
}

// boolean is a random nested boolean query.
func (g *queryGen) boolean(depth int) Query {
	b := Boolean{}
	n := 1 + g.r.Intn(4)
	for i := 0; i < n; i++ {
		var c Query
		if depth > 0 && g.r.Intn(3) == 0 {
			c = g.boolean(depth - 1)
		} else {
			c = g.leaf()
		}
		switch g.r.Intn(6) {
		case 0, 1:
			b.Must = append(b.Must, c)
		case 2:
			b.MustNot = append(b.MustNot, c)
		default:
			b.Should = append(b.Should, c)
		}
	}
	return b
}

// searchBoth runs Search and SearchExhaustive and requires identical hits.
func searchBoth(t *testing.T, s *Searcher, q Query, k int) []Hit {
	t.Helper()
	ctx := context.Background()
	pruned, err := s.Search(ctx, q, k)
	if err != nil {
		t.Fatalf("Search(%s): %v", q, err)
	}
	full, err := s.SearchExhaustive(ctx, q, k)
	if err != nil {
		t.Fatalf("SearchExhaustive(%s): %v", q, err)
	}
	if len(pruned) != len(full) {
		t.Fatalf("%s k=%d: Search returned %d hits, SearchExhaustive %d", q, k, len(pruned), len(full))
	}
	for i := range pruned {
		if pruned[i] != full[i] {
			t.Fatalf("%s k=%d: hit %d differs: Search %+v, SearchExhaustive %+v", q, k, i, pruned[i], full[i])
		}
	}
	return pruned
}
