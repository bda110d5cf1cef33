package query

import (
	"context"
	"errors"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// These tests run the engine over in-memory segments with 4-doc blocks, so
// block-max WAND skips (and mis-skips, if it were wrong) constantly.

var (
	memOnce   sync.Once
	memSearch *Searcher
	memModel  *model
)

// memFixture builds (once per test binary) five in-memory segments, one
// empty and one with a single document. Searchers and models are only read.
func memFixture(t *testing.T) (*Searcher, *model) {
	t.Helper()
	memOnce.Do(func() {
		segs := zipfCorpus(1, []int{400, 1, 0, 700, 250})
		tk := analysis.SimpleTokenizer{}
		memSearch, memModel = memSearcher(segs, tk, 4), newModel(segs, tk, identityNorm)
	})
	return memSearch, memModel
}

func TestMemDisjunctionsPrunedEqualsExhaustiveAndModel(t *testing.T) {
	s, m := memFixture(t)
	g := &queryGen{r: rand.New(rand.NewSource(2)), m: m}
	for i := 0; i < 250; i++ {
		q := g.disjunction()
		k := []int{1, 3, 10, 50}[i%4]
		hits := searchBoth(t, s, q, k)
		checkAgainstModel(t, m, q, k, hits)
	}
}

func TestMemBooleansMatchModel(t *testing.T) {
	s, m := memFixture(t)
	checkMixedQueries(t, s, m, 3, 200)
}

// checkMixedQueries runs n seeded random booleans, phrases and leaf
// queries, at several k, through pruned and exhaustive search and Count,
// and checks each against the model.
func checkMixedQueries(t *testing.T, s *Searcher, m *model, seed int64, n int) {
	t.Helper()
	g := &queryGen{r: rand.New(rand.NewSource(seed)), m: m}
	ctx := context.Background()
	for i := 0; i < n; i++ {
		var q Query
		switch i % 3 {
		case 0:
			q = g.boolean(2)
		case 1:
			q = g.phrase()
		default:
			q = g.leaf()
		}
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

func TestSearchErrors(t *testing.T) {
	s, _ := memFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Phrase{Field: "body", Terms: []string{"w1", "w2"}}, `field "body" has no positions`},
		{Term{Field: "nosuch", Term: "x"}, `unknown field "nosuch"`},
		{Range{Field: "title", Min: 1}, `field "title" has type text; ranges need u64, i64 or f64`},
		{Range{Field: "year", Min: "1990"}, `field "year": bound 1990 has type string`},
		{Range{Field: "price", Max: 0.0 / zero()}, `field "price": NaN`},
		{Term{Field: "year", Term: "x"}, `field "year" is not indexed`},
		{Boolean{Should: []Query{Term{"title", "w1"}, nil}}, "nil query"},
	} {
		_, err := s.Search(ctx, tc.q, 10)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Search(%v): error %v, want one containing %q", tc.q, err, tc.want)
		}
	}
	if _, err := s.Search(ctx, All{}, 0); err == nil {
		t.Errorf("Search with k=0: no error")
	}
}

func zero() float64 { return 0 }

func TestRangeBoundsExact(t *testing.T) {
	// Bounds of any numeric type select exactly the values a reader of the
	// bound would expect, including fractions and negative numbers.
	docs := []tdoc{}
	for y := 0; y < 10; y++ {
		docs = append(docs, tdoc{id: "d", year: uint64(y), hasYear: true, price: float64(y) - 4.5})
	}
	s := memSearcher([][]tdoc{docs}, analysis.SimpleTokenizer{}, 4)
	ctx := context.Background()
	for _, tc := range []struct {
		q    Range
		want int
	}{
		{Range{Field: "year", Min: 3, Max: 5, MinInclusive: true, MaxInclusive: true}, 3},
		{Range{Field: "year", Min: 3, Max: 5}, 1},
		{Range{Field: "year", Min: 2.5, Max: 5.5}, 3},
		{Range{Field: "year", Min: 2.5, Max: 5.5, MinInclusive: true, MaxInclusive: true}, 3},
		{Range{Field: "year", Min: -7, MinInclusive: true}, 10},
		{Range{Field: "year", Max: -1, MaxInclusive: true}, 0},
		{Range{Field: "year", Min: uint64(1 << 63)}, 0},
		{Range{Field: "year", Min: 9, MinInclusive: true, Max: 1e300}, 1},
		{Range{Field: "year", Min: int64(5), Max: int64(5), MinInclusive: true, MaxInclusive: true}, 1},
		{Range{Field: "year", Min: 5, Max: 4, MinInclusive: true, MaxInclusive: true}, 0},
		{Range{Field: "price", Min: -1, Max: 1, MinInclusive: true, MaxInclusive: true}, 2},
		{Range{Field: "price", Min: -0.5, Max: 0.5, MinInclusive: true, MaxInclusive: true}, 2},
		{Range{Field: "price", Min: -0.5, Max: 0.5}, 0},
		{Range{Field: "price"}, 10},
	} {
		n, err := s.Count(ctx, tc.q)
		if err != nil {
			t.Fatalf("%v: %v", tc.q, err)
		}
		if n != tc.want {
			t.Errorf("Count(%v) = %d, want %d", tc.q, n, tc.want)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	s, _ := memFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, q := range []Query{All{}, Term{"body", "w2"}, Boolean{Should: []Query{Term{"body", "w2"}, Term{"title", "w3"}}}} {
		if _, err := s.Search(ctx, q, 10); !errors.Is(err, context.Canceled) {
			t.Errorf("Search(%s) on a cancelled context: %v", q, err)
		}
		if _, err := s.SearchExhaustive(ctx, q, 10); !errors.Is(err, context.Canceled) {
			t.Errorf("SearchExhaustive(%s) on a cancelled context: %v", q, err)
		}
	}
}

func TestDocumentChecksHit(t *testing.T) {
	s, _ := memFixture(t)
	hits, err := s.Search(context.Background(), Term{"id", "doc3"}, 1)
	if err != nil || len(hits) != 1 {
		t.Fatalf("id lookup: %v %v", hits, err)
	}
	d, err := s.Document(hits[0])
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Get("id"); v.Str != "doc3" {
		t.Errorf("Document(%+v) has id %q", hits[0], v.Str)
	}
	bad := hits[0]
	bad.SegmentID[0] ^= 1
	if _, err := s.Document(bad); err == nil {
		t.Errorf("Document accepted a hit with the wrong segment id")
	}
	bad = hits[0]
	bad.Segment = 99
	if _, err := s.Document(bad); err == nil {
		t.Errorf("Document accepted a hit with an out-of-range segment")
	}
}

// failingSource hands out postings that stop after their first document
// and then report corruption through Err, as *segment.Postings does.
type failingSource struct{ *memSegment }

func (f failingSource) Postings(field string, term []byte) (postingsIterator, error) {
	p, err := f.memSegment.Postings(field, term)
	if p == nil || err != nil {
		return p, err
	}
	return &failingIter{p.(*memIter)}, nil
}

type failingIter struct{ *memIter }

func (f *failingIter) Next() uint32            { f.i = len(f.ps); return noMoreDocs }
func (f *failingIter) Advance(t uint32) uint32 { return f.Next() }
func (f *failingIter) Err() error {
	if f.i >= len(f.ps) && len(f.ps) > 1 {
		return errors.New("corrupt block")
	}
	return nil
}

func TestPostingsErrorFailsSearch(t *testing.T) {
	segs := zipfCorpus(5, []int{300})
	src := failingSource{newMemSegment(segs[0], analysis.SimpleTokenizer{}, 4)}
	s := newSearcher([]segmentSource{src}, []segment.ID{{1}}, testSchema(), nil, nil)
	ctx := context.Background()
	q := Boolean{Should: []Query{Term{"body", "w2"}, Term{"body", "w3"}}}
	if _, err := s.Search(ctx, q, 10); err == nil || !strings.Contains(err.Error(), "corrupt block") {
		t.Errorf("Search: %v, want the postings' error", err)
	}
	if _, err := s.SearchExhaustive(ctx, q, 10); err == nil || !strings.Contains(err.Error(), "corrupt block") {
		t.Errorf("SearchExhaustive: %v, want the postings' error", err)
	}
	if _, err := s.Count(ctx, q); err == nil || !strings.Contains(err.Error(), "corrupt block") {
		t.Errorf("Count: %v, want the postings' error", err)
	}
}
