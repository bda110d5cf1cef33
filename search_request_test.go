package hermes_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// pageDoc is the brute-force model of one document.
type pageDoc struct {
	id       string
	words    []string
	price    float64 // a multiple of 0.25, so sums are exact
	hasPrice bool
	qty      int64
	cat      uint64
}

func (d *pageDoc) has(word string) bool { return slices.Contains(d.words, word) }

// pageIndex is a writer and its model.
type pageIndex struct {
	t    *testing.T
	w    *hermes.Writer
	rng  *rand.Rand
	docs map[string]*pageDoc
	gone map[string]bool // deleted ids, never reused
}

func newPageIndex(t *testing.T) *pageIndex {
	t.Helper()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "body", Type: segment.TypeText, Indexed: true},
		hermes.Field{Name: "price", Type: segment.TypeF64, Fast: true},
		hermes.Field{Name: "qty", Type: segment.TypeI64, Fast: true},
		hermes.Field{Name: "cat", Type: segment.TypeU64, Fast: true, Indexed: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(context.Background(), storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return &pageIndex{t: t, w: w, rng: rand.New(rand.NewSource(12)), docs: map[string]*pageDoc{}, gone: map[string]bool{}}
}

var pageWords = []string{"red", "green", "blue", "cyan"}

func (x *pageIndex) add(n int) {
	x.t.Helper()
	for range n {
		d := &pageDoc{id: fmt.Sprintf("d%05d", x.rng.Intn(100000)), qty: int64(x.rng.Intn(11) - 5), cat: uint64(x.rng.Intn(5))}
		if _, dup := x.docs[d.id]; dup || x.gone[d.id] {
			continue
		}
		for range 1 + x.rng.Intn(3) {
			d.words = append(d.words, pageWords[x.rng.Intn(len(pageWords))])
		}
		doc := new(hermes.Document).AddString("id", d.id).AddString("body", strings.Join(d.words, " ")).
			AddI64("qty", d.qty).AddU64("cat", d.cat)
		if x.rng.Intn(5) > 0 {
			d.price, d.hasPrice = float64(x.rng.Intn(40)-10)/4, true
			doc.AddF64("price", d.price)
		}
		if err := x.w.AddDocumentWait(context.Background(), doc); err != nil {
			x.t.Fatal(err)
		}
		x.docs[d.id] = d
	}
}

func (x *pageIndex) deleteSome(n int) {
	x.t.Helper()
	ids := x.ids()
	for range n {
		id := ids[x.rng.Intn(len(ids))]
		if x.docs[id] == nil {
			continue
		}
		if err := x.w.DeleteByKey(id); err != nil {
			x.t.Fatal(err)
		}
		delete(x.docs, id)
		x.gone[id] = true
	}
}

func (x *pageIndex) ids() []string {
	var ids []string
	for id := range x.docs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (x *pageIndex) commit() {
	x.t.Helper()
	if _, err := x.w.Commit(context.Background()); err != nil {
		x.t.Fatal(err)
	}
}

func (x *pageIndex) reader() *hermes.Reader {
	x.t.Helper()
	r, err := x.w.Reader()
	if err != nil {
		x.t.Fatal(err)
	}
	x.t.Cleanup(func() { r.Close() })
	return r
}

// byPriceQty is the model of Sort{price asc, qty desc}: missing prices
// last, ties by primary key.
func byPriceQty(a, b *pageDoc) int {
	if a.hasPrice != b.hasPrice {
		if a.hasPrice {
			return -1
		}
		return 1
	}
	if a.hasPrice && a.price != b.price {
		return cmp.Compare(a.price, b.price)
	}
	if a.qty != b.qty {
		return -cmp.Compare(a.qty, b.qty)
	}
	return strings.Compare(a.id, b.id)
}

// matching returns the model's documents with word, sorted by byPriceQty.
func (x *pageIndex) matching(word string) []*pageDoc {
	var out []*pageDoc
	for _, d := range x.docs {
		if d.has(word) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, byPriceQty)
	return out
}

func hitKeys(hits []hermes.Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.Key.Str
	}
	return ids
}

func docIDs(docs []*pageDoc) []string {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.id
	}
	return ids
}

// Paging by cursor over a sort by two fast fields, with adds, deletes,
// commits and merges between the pages: each page is exactly the next K
// hits after the cursor in the model of the index it was read from, and
// the pages together hold every document that was there throughout, once.
func TestSearchRequestPagesAcrossCommitsAndMerges(t *testing.T) {
	ctx := context.Background()
	x := newPageIndex(t)
	for range 3 {
		x.add(120)
		x.commit()
	}
	sortBy := []hermes.SortField{{Field: "price"}, {Field: "qty", Desc: true}}
	throughout := map[string]bool{}
	for _, d := range x.matching("red") {
		throughout[d.id] = true
	}
	seen := map[string]int{}
	var cursor string
	var last *pageDoc
	for page := 0; ; page++ {
		r := x.reader()
		res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: "red", K: 7, After: cursor, Sort: sortBy})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		want := x.matching("red")
		if res.Total != (hermes.TotalHits{Value: len(want), Relation: hermes.TotalEqual}) {
			t.Fatalf("page %d: total %+v, want %d exactly", page, res.Total, len(want))
		}
		if last != nil {
			want = slices.DeleteFunc(want, func(d *pageDoc) bool { return byPriceQty(d, last) <= 0 })
		}
		want = want[:min(7, len(want))]
		if got := hitKeys(res.Hits); !slices.Equal(got, docIDs(want)) {
			t.Fatalf("page %d after %v:\n got %v\nwant %v", page, last, got, docIDs(want))
		}
		if len(res.Hits) == 0 {
			break
		}
		for _, h := range res.Hits {
			seen[h.Key.Str]++
			if h.Cursor == "" {
				t.Fatalf("hit %s has no cursor", h.Key.Str)
			}
		}
		cursor, last = res.Hits[len(res.Hits)-1].Cursor, want[len(want)-1]
		// Change the index between pages.
		x.add(4)
		x.deleteSome(2)
		x.commit()
		if page%3 == 2 {
			if err := x.w.ForceMerge(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if page > 200 {
			t.Fatal("paging does not end")
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s returned on %d pages", id, n)
		}
	}
	for id := range throughout {
		if !x.gone[id] && seen[id] == 0 {
			t.Errorf("%s, matching throughout, never returned", id)
		}
	}
}

// Under the default score sort, SearchRequest agrees with Search; pages by
// cursor and by offset concatenate to the full list; the total is exact up
// to the threshold and a lower bound past it.
func TestSearchRequestScorePagesAndTotals(t *testing.T) {
	ctx := context.Background()
	x := newPageIndex(t)
	x.add(150)
	x.commit()
	x.add(150)
	x.deleteSome(20)
	x.commit()
	r := x.reader()
	const q = "red OR blue"
	n, err := r.Count(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	all, err := r.Search(ctx, q, n+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("Search returned %d of %d matches", len(all), n)
	}
	full, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: q, K: n + 10, After: ""})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hitKeys(full.Hits), hitKeys(all)) || full.Total != (hermes.TotalHits{Value: n}) {
		t.Fatalf("SearchRequest differs from Search: total %+v", full.Total)
	}
	for _, k := range []int{1, 5, 13} {
		var byCursor, byOffset []string
		cursor := ""
		for {
			res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: q, K: k, After: cursor})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) == 0 {
				break
			}
			byCursor = append(byCursor, hitKeys(res.Hits)...)
			cursor = res.Hits[len(res.Hits)-1].Cursor
		}
		for off := 0; off < n; off += k {
			res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: q, K: k, Offset: off})
			if err != nil {
				t.Fatal(err)
			}
			byOffset = append(byOffset, hitKeys(res.Hits)...)
		}
		if !slices.Equal(byCursor, hitKeys(all)) || !slices.Equal(byOffset, hitKeys(all)) {
			t.Fatalf("k=%d: pages do not concatenate to the full list", k)
		}
	}
	for _, tc := range []struct {
		k, threshold int
		want         hermes.TotalHits
	}{
		{10, 0, hermes.TotalHits{Value: 10, Relation: hermes.TotalAtLeast}},
		{10, 50, hermes.TotalHits{Value: 50, Relation: hermes.TotalAtLeast}},
		{10, n, hermes.TotalHits{Value: n, Relation: hermes.TotalEqual}},
		{10, n + 1, hermes.TotalHits{Value: n, Relation: hermes.TotalEqual}},
		{n + 1, 0, hermes.TotalHits{Value: n, Relation: hermes.TotalEqual}},
		{0, 0, hermes.TotalHits{Value: 0, Relation: hermes.TotalAtLeast}},
		{0, 7, hermes.TotalHits{Value: 7, Relation: hermes.TotalAtLeast}},
		{0, n, hermes.TotalHits{Value: n, Relation: hermes.TotalEqual}},
	} {
		res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: q, K: tc.k, TotalHitsThreshold: tc.threshold})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != tc.want || len(res.Hits) != min(tc.k, n) {
			t.Errorf("K %d threshold %d: total %+v with %d hits, want %+v", tc.k, tc.threshold, res.Total, len(res.Hits), tc.want)
		}
	}
}

func TestSearchRequestErrors(t *testing.T) {
	ctx := context.Background()
	x := newPageIndex(t)
	x.add(20)
	x.commit()
	r := x.reader()
	res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: "red", K: 2, Sort: []hermes.SortField{{Field: "qty"}}})
	if err != nil || len(res.Hits) == 0 {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req  hermes.SearchRequest
		want string
	}{
		{hermes.SearchRequest{Query: "red", K: 1, Sort: []hermes.SortField{{Field: "body"}}}, "not a fast field"},
		{hermes.SearchRequest{Query: "red", K: 1, Sort: []hermes.SortField{{Field: "nope"}}}, "unknown field"},
		{hermes.SearchRequest{Query: "red", K: -1}, "negative"},
		{hermes.SearchRequest{Query: "red", K: 1, After: "garbage!"}, "bad cursor"},
		{hermes.SearchRequest{Query: "red", K: 1, After: res.Hits[0].Cursor}, "another sort"},
		{hermes.SearchRequest{Query: "red", Aggs: map[string]hermes.Aggregation{"h": &hermes.HistogramAgg{Field: "qty"}}}, "interval"},
		{hermes.SearchRequest{Query: "red", Aggs: map[string]hermes.Aggregation{"s": &hermes.StatsAgg{Field: "body"}}}, "not a fast field"},
	} {
		_, err := r.SearchRequest(ctx, tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one with %q", tc.req, err, tc.want)
		}
	}
	_, err = r.SearchRequest(ctx, hermes.SearchRequest{Query: "red", K: 1, After: "garbage"})
	if !errors.Is(err, hermes.ErrBadCursor) {
		t.Errorf("bad cursor: %v, want ErrBadCursor", err)
	}
}

// modelStats is the brute-force StatsAgg.
func modelStats(vals []float64) hermes.FieldStats {
	s := hermes.FieldStats{Count: len(vals), Min: math.NaN(), Max: math.NaN(), Avg: math.NaN()}
	for i, v := range vals {
		if i == 0 || v < s.Min {
			s.Min = v
		}
		if i == 0 || v > s.Max {
			s.Max = v
		}
		s.Sum += v
	}
	if len(vals) > 0 {
		s.Avg = s.Sum / float64(len(vals))
	}
	return s
}

func sameStats(a, b hermes.FieldStats) bool {
	eq := func(x, y float64) bool { return x == y || (x != x && y != y) }
	return a.Count == b.Count && eq(a.Min, b.Min) && eq(a.Max, b.Max) && eq(a.Sum, b.Sum) && eq(a.Avg, b.Avg)
}

// Each aggregation equals its brute-force computation over the model's
// matching documents, with deletes and several segments.
func TestSearchRequestAggregations(t *testing.T) {
	ctx := context.Background()
	x := newPageIndex(t)
	for range 3 {
		x.add(200)
		x.deleteSome(15)
		x.commit()
	}
	r := x.reader()
	ranges := []hermes.NumericRange{{From: math.Inf(-1), To: 0}, {Name: "mid", From: 0, To: 5}, {From: 2.5, To: math.Inf(1)}}
	for _, q := range []string{"red", "green AND -blue", "nothingmatches"} {
		res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: q, K: 3, Sort: []hermes.SortField{{Field: "cat"}}, Aggs: map[string]hermes.Aggregation{
			"cats":   &hermes.TermsAgg{Field: "cat", Size: 3, Sub: map[string]*hermes.StatsAgg{"p": {Field: "price"}}},
			"prices": &hermes.RangeAgg{Field: "price", Ranges: ranges},
			"qty":    &hermes.HistogramAgg{Field: "qty", Interval: 3},
			"price":  &hermes.StatsAgg{Field: "price"},
			"pterms": &hermes.TermsAgg{Field: "price", Size: 1000}, // a wide column: counted in a hash table
			"ptop":   &hermes.TermsAgg{Field: "price", Size: 4, Sub: map[string]*hermes.StatsAgg{"q": {Field: "qty"}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		// The model.
		var match []*pageDoc
		for _, d := range x.docs {
			ok := d.has("red")
			switch q {
			case "green AND -blue":
				ok = d.has("green") && !d.has("blue")
			case "nothingmatches":
				ok = false
			}
			if ok {
				match = append(match, d)
			}
		}
		if res.Total.Value != len(match) {
			t.Fatalf("%s: total %d, model %d", q, res.Total.Value, len(match))
		}
		prices := func(docs []*pageDoc) []float64 {
			var out []float64
			for _, d := range docs {
				if d.hasPrice {
					out = append(out, d.price)
				}
			}
			return out
		}
		if got, want := *res.Aggs["price"].Stats, modelStats(prices(match)); !sameStats(got, want) {
			t.Errorf("%s: stats %+v, model %+v", q, got, want)
		}
		byCat := map[uint64][]*pageDoc{}
		for _, d := range match {
			byCat[d.cat] = append(byCat[d.cat], d)
		}
		var cats []uint64
		for c := range byCat {
			cats = append(cats, c)
		}
		slices.SortFunc(cats, func(a, b uint64) int {
			if c := -cmp.Compare(len(byCat[a]), len(byCat[b])); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		terms := res.Aggs["cats"]
		other := 0
		for i, c := range cats {
			if i >= 3 {
				other += len(byCat[c])
				continue
			}
			b := terms.Buckets[i]
			if b.Key != fmt.Sprint(c) || b.Count != len(byCat[c]) || !sameStats(*b.Sub["p"], modelStats(prices(byCat[c]))) {
				t.Errorf("%s: terms bucket %d = %+v %+v, model %d: %d docs", q, i, b, *b.Sub["p"], c, len(byCat[c]))
			}
		}
		if len(terms.Buckets) != min(3, len(cats)) || terms.Other != other {
			t.Errorf("%s: %d terms buckets, other %d; model %d, %d", q, len(terms.Buckets), terms.Other, min(3, len(cats)), other)
		}
		priceCounts := map[string]int{}
		for _, p := range prices(match) {
			priceCounts[fmt.Sprint(p)]++
		}
		if len(res.Aggs["pterms"].Buckets) != len(priceCounts) {
			t.Errorf("%s: %d price terms, model %d", q, len(res.Aggs["pterms"].Buckets), len(priceCounts))
		}
		for _, b := range res.Aggs["pterms"].Buckets {
			if priceCounts[b.Key] != b.Count {
				t.Errorf("%s: price %s has %d docs, model %d", q, b.Key, b.Count, priceCounts[b.Key])
			}
		}
		// The top prices, with qty stats per price, ties by price.
		byPrice := map[float64][]*pageDoc{}
		for _, d := range match {
			if d.hasPrice {
				byPrice[d.price] = append(byPrice[d.price], d)
			}
		}
		var topPrices []float64
		for p := range byPrice {
			topPrices = append(topPrices, p)
		}
		slices.SortFunc(topPrices, func(a, b float64) int {
			if c := -cmp.Compare(len(byPrice[a]), len(byPrice[b])); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		ptop, other := res.Aggs["ptop"], 0
		for i, p := range topPrices {
			if i >= 4 {
				other += len(byPrice[p])
				continue
			}
			var qtys []float64
			for _, d := range byPrice[p] {
				qtys = append(qtys, float64(d.qty))
			}
			b := ptop.Buckets[i]
			if b.From != p || b.Count != len(byPrice[p]) || !sameStats(*b.Sub["q"], modelStats(qtys)) {
				t.Errorf("%s: price terms bucket %d = %+v %+v, model %v: %d docs", q, i, b, *b.Sub["q"], p, len(byPrice[p]))
			}
		}
		if len(ptop.Buckets) != min(4, len(topPrices)) || ptop.Other != other {
			t.Errorf("%s: %d price terms buckets, other %d; model %d, %d", q, len(ptop.Buckets), ptop.Other, min(4, len(topPrices)), other)
		}
		for i, rg := range ranges {
			n := 0
			for _, p := range prices(match) {
				if p >= rg.From && p < rg.To {
					n++
				}
			}
			if b := res.Aggs["prices"].Buckets[i]; b.Count != n {
				t.Errorf("%s: range %s has %d docs, model %d", q, b.Key, b.Count, n)
			}
		}
		hist := map[int64]int{}
		for _, d := range match {
			hist[int64(math.Floor(float64(d.qty)/3))*3]++
		}
		if len(res.Aggs["qty"].Buckets) != len(hist) {
			t.Errorf("%s: %d histogram buckets, model %d", q, len(res.Aggs["qty"].Buckets), len(hist))
		}
		for i, b := range res.Aggs["qty"].Buckets {
			if i > 0 && b.From <= res.Aggs["qty"].Buckets[i-1].From {
				t.Errorf("%s: histogram out of order", q)
			}
			if hist[int64(b.From)] != b.Count {
				t.Errorf("%s: histogram bucket %s has %d docs, model %d", q, b.Key, b.Count, hist[int64(b.From)])
			}
		}
	}
	// Aggregations alone (K 0) and over every document.
	res, err := r.SearchRequest(ctx, hermes.SearchRequest{Parsed: query.All{}, Aggs: map[string]hermes.Aggregation{"q": &hermes.StatsAgg{Field: "qty"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 0 || res.Aggs["q"].Stats.Count != len(x.docs) || res.Total.Value != len(x.docs) {
		t.Errorf("match all: %d hits, qty count %d, total %+v; want 0, %d", len(res.Hits), res.Aggs["q"].Stats.Count, res.Total, len(x.docs))
	}
}

// Sorts mixing fields, directions and the score, paged by cursor and by
// offset on one reader, equal the model's order: the sort values, then the
// primary key. Scores come from the default score search.
func TestSearchRequestMixedSorts(t *testing.T) {
	ctx := context.Background()
	x := newPageIndex(t)
	for range 2 {
		x.add(150)
		x.deleteSome(10)
		x.commit()
	}
	r := x.reader()
	const q = "red OR cyan"
	all, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: q, K: 1000})
	if err != nil {
		t.Fatal(err)
	}
	score := map[string]float32{}
	for _, h := range all.Hits {
		score[h.Key.Str] = h.Score
	}
	var match []*pageDoc
	for _, d := range x.docs {
		if d.has("red") || d.has("cyan") {
			match = append(match, d)
		}
	}
	if len(match) != len(all.Hits) {
		t.Fatalf("%d hits, model %d", len(all.Hits), len(match))
	}
	for _, tc := range []struct {
		sort  []hermes.SortField
		model func(a, b *pageDoc) int
	}{
		{[]hermes.SortField{{Field: "cat", Desc: true}, {Field: "_score", Desc: true}}, func(a, b *pageDoc) int {
			return cmp.Or(-cmp.Compare(a.cat, b.cat), -cmp.Compare(score[a.id], score[b.id]))
		}},
		{[]hermes.SortField{{Field: "_score"}}, func(a, b *pageDoc) int { return cmp.Compare(score[a.id], score[b.id]) }},
		{[]hermes.SortField{{Field: "qty"}, {Field: "price", Desc: true}}, func(a, b *pageDoc) int {
			if c := cmp.Compare(a.qty, b.qty); c != 0 {
				return c
			}
			if a.hasPrice != b.hasPrice { // missing last, also descending
				if a.hasPrice {
					return -1
				}
				return 1
			}
			return -cmp.Compare(a.price, b.price)
		}},
	} {
		want := slices.Clone(match)
		slices.SortFunc(want, func(a, b *pageDoc) int { return cmp.Or(tc.model(a, b), strings.Compare(a.id, b.id)) })
		var byCursor, byOffset []string
		cursor := ""
		for off := 0; off < len(want)+5; off += 9 {
			res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: q, K: 9, After: cursor, Sort: tc.sort})
			if err != nil {
				t.Fatal(err)
			}
			byCursor = append(byCursor, hitKeys(res.Hits)...)
			if len(res.Hits) > 0 {
				cursor = res.Hits[len(res.Hits)-1].Cursor
			}
			res, err = r.SearchRequest(ctx, hermes.SearchRequest{Query: q, K: 9, Offset: off, Sort: tc.sort})
			if err != nil {
				t.Fatal(err)
			}
			byOffset = append(byOffset, hitKeys(res.Hits)...)
		}
		if !slices.Equal(byCursor, docIDs(want)) || !slices.Equal(byOffset, docIDs(want)) {
			t.Errorf("sort %v:\n cursor %v\n offset %v\n  model %v", tc.sort, byCursor, byOffset, docIDs(want))
		}
	}
}
