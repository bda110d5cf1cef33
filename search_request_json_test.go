package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// shopReader is a small committed index of products with every field type
// the README's JSON examples use.
func shopReader(t testing.TB) *hermes.Reader {
	t.Helper()
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "en"},
		hermes.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "en"},
		hermes.Field{Name: "price", Type: segment.TypeF64, Fast: true, Stored: true},
		hermes.Field{Name: "stock", Type: segment.TypeI64, Fast: true},
		hermes.Field{Name: "shop", Type: segment.TypeU64, Fast: true},
		hermes.Field{Name: "created", Type: segment.TypeDate, Fast: true},
		hermes.Field{Name: "colour", Type: segment.TypeKeyword, Indexed: true, Fast: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	titles := []string{"Blue mug", "Red mug", "Blue cup", "Ceramic mugs, blue"}
	colours := []string{"blue", "red", "blue", "blue"}
	for i := range 40 {
		doc := new(hermes.Document).AddString("id", fmt.Sprintf("p%02d", i)).
			AddString("title", titles[i%len(titles)]).
			AddString("body", fmt.Sprintf("A ceramic %s for the kitchen, number %d. Blue glaze, big mug.", titles[i%len(titles)], i)).
			AddF64("price", float64(i%7)*2.5).AddI64("stock", int64(i*13%200)).AddU64("shop", uint64(i%5)).
			AddDate("created", time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i*20)).
			AddString("colour", colours[i%len(colours)])
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
	t.Cleanup(func() { r.Close() })
	return r
}

// readmeJSONExamples returns the ```json blocks of the README's section on
// the JSON search request, in order.
func readmeJSONExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "### The JSON search request")
	if start < 0 {
		t.Fatal("README has no section on the JSON search request")
	}
	s = s[start+4:]
	s = s[:strings.Index(s, "\n### ")]
	var out []string
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Each JSON example of the README decodes to the Go request it documents,
// and runs.
func TestSearchRequestJSONReadmeExamples(t *testing.T) {
	ctx := context.Background()
	r := shopReader(t)
	parse := func(s string) query.Query {
		q, err := r.ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	jan2024 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	want := []hermes.SearchRequest{
		{Query: "title:mug", K: 20, Sort: []hermes.SortField{{Field: "price", Desc: true}, {Field: "stock"}},
			TotalHitsThreshold: 1000, Fields: []string{"title", "price"}},
		{Parsed: query.Boolean{
			Must: []query.Query{parse("blue mugs"),
				query.Range{Field: "created", Min: jan2024, MinInclusive: true}},
			MustNot: []query.Query{query.Term{Field: "title", Term: "cup"}},
		}, K: 10, Offset: 10},
		{Query: `"blue mug"~1 ceramic`, K: 5,
			Highlight: &hermes.HighlightRequest{Fields: []string{"body"}, FragmentSize: 80, MaxFragments: 2, Pre: "<em>", Post: "</em>"}},
		{Parsed: query.All{}, Aggs: map[string]hermes.Aggregation{
			"shops": &hermes.TermsAgg{Field: "shop", Size: 5, Sub: map[string]*hermes.StatsAgg{"price": {Field: "price"}}},
			"prices": &hermes.RangeAgg{Field: "price", Ranges: []hermes.NumericRange{
				{Name: "cheap", From: math.Inf(-1), To: 10}, {Name: "dear", From: 10, To: math.Inf(1)}}},
			"stock":      &hermes.HistogramAgg{Field: "stock", Interval: 50},
			"all_prices": &hermes.StatsAgg{Field: "price"},
		}},
		{Query: "mug", Aggs: map[string]hermes.Aggregation{
			"colours": &hermes.TermsAgg{Field: "colour", Sub: map[string]*hermes.StatsAgg{"price": {Field: "price"}}},
			"quarters": &hermes.DateHistogramAgg{Field: "created", Interval: "1q",
				Sub: map[string]*hermes.StatsAgg{"stock": {Field: "stock"}}},
			"age": &hermes.DateRangeAgg{Field: "created", Ranges: []hermes.DateRange{
				{Name: "2023", To: "2024-01-01"}, {From: "2024-01-01", To: "2024-07-01T00:00:00Z"},
				{Name: "later", From: "1719792000000"}}},
		}},
	}
	examples := readmeJSONExamples(t)
	if len(examples) != len(want) {
		t.Fatalf("the README has %d JSON examples, the test models %d", len(examples), len(want))
	}
	for i, ex := range examples {
		req, err := r.DecodeSearchRequest(strings.NewReader(ex))
		if err != nil {
			t.Fatalf("example %d: %v\n%s", i+1, err, ex)
		}
		if !reflect.DeepEqual(req, want[i]) {
			t.Fatalf("example %d decodes to\n%#v\nwant\n%#v", i+1, req, want[i])
		}
		res, err := r.SearchRequest(ctx, req)
		if err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		if len(res.Hits) == 0 && len(res.Aggs) == 0 {
			t.Errorf("example %d finds nothing", i+1)
		}
		for name, a := range res.Aggs {
			if len(a.Buckets) == 0 && (a.Stats == nil || a.Stats.Count == 0) {
				t.Errorf("example %d: aggregation %q is empty: %+v", i+1, name, a)
			}
		}
		if req.Highlight != nil && (len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Highlights["body"][0].Marked, "<em>")) {
			t.Errorf("example %d: no highlights in %+v", i+1, res.Hits)
		}
	}
}

// Bad JSON requests are errors naming the JSON path of what is wrong.
func TestSearchRequestJSONErrors(t *testing.T) {
	r := shopReader(t)
	for _, tc := range []struct{ in, want string }{
		{``, `$: invalid JSON`},
		{`{"query": "a",}`, `invalid JSON at byte`},
		{`[]`, `$: want an object, got an array`},
		{`{"k": 1}`, `$: no "query"`},
		{`{"query": "a", "k": 1} {}`, `$: data after the request object`},
		{`{"query": "a", "colour": 1}`, `$.colour: unknown member (want one of query, k,`},
		{`{"query": "a", "k": 1, "k": 2}`, `$.k: repeated member`},
		{`{"query": "a", "k": "10"}`, `$.k: want a non-negative integer, got string "10"`},
		{`{"query": "a", "k": 1.5}`, `$.k: want a non-negative integer, got number 1.5`},
		{`{"query": "a", "offset": -1}`, `$.offset: want a non-negative integer, got number -1`},
		{`{"query": 3}`, `$.query: want a query string or a structured query object, got number 3`},
		{`{"query": "a", "sort": [{"field": "price"}, {"field": "nope"}]}`, `$.sort[1].field: the schema has no field "nope"`},
		{`{"query": "a", "sort": [{"field": "price", "desc": "yes"}]}`, `$.sort[0].desc: want true or false, got string "yes"`},
		{`{"query": "a", "fields": ["title", 2]}`, `$.fields[1]: want a string, got number 2`},
		{`{"query": "a", "highlight": {"fields": ["body"], "pre": null}}`, `$.highlight.pre: want a string, got null`},
		{`{"query": "a", "aggs": {"by shop": {"terms": {"field": "shop", "size": "ten"}}}}`, `$.aggs["by shop"].terms.size: want a non-negative integer, got string "ten"`},
		{`{"query": "a", "aggs": {"x": {"median": {"field": "price"}}}}`, `$.aggs.x.median: unknown member (want one of terms, range, histogram, date_histogram, date_range, stats)`},
		{`{"query": "a", "aggs": {"x": {"terms": {"field": "shop"}, "stats": {"field": "price"}}}}`, `$.aggs.x: want an object with exactly one member`},
		{`{"query": "a", "aggs": {"x": {"range": {"field": "price", "ranges": [{"from": "1"}]}}}}`, `$.aggs.x.range.ranges[0].from: want a number, got string "1"`},
		{`{"query": "a", "aggs": {"x": {"terms": {"size": 3}}}}`, `$.aggs.x.terms: no "field"`},
		{`{"query": "a", "aggs": {"x": {"date_histogram": {"field": "created", "interval": "1 day"}}}}`, `$.aggs.x.date_histogram.interval: interval "1 day": unknown unit " day"`},
		{`{"query": "a", "aggs": {"x": {"date_histogram": {"field": "created", "interval": 86400000}}}}`, `$.aggs.x.date_histogram.interval: want a string, got number 86400000`},
		{`{"query": "a", "aggs": {"x": {"date_histogram": {"field": "created"}}}}`, `$.aggs.x.date_histogram: no "interval"`},
		{`{"query": "a", "aggs": {"x": {"date_histogram": {"field": "price", "interval": "1d"}}}}`, `$.aggs.x.date_histogram.field: field "price" is a f64 field, not a date`},
		{`{"query": "a", "aggs": {"x": {"date_histogram": {"field": "created", "interval": "1d", "sub": {"s": {"field": "nope"}}}}}}`, `$.aggs.x.date_histogram.sub.s.field: the schema has no field "nope"`},
		{`{"query": "a", "aggs": {"x": {"date_range": {"field": "created", "ranges": [{"to": "2024-01-01"}, {"from": "last year"}]}}}}`, `$.aggs.x.date_range.ranges[1].from: `},
		{`{"query": "a", "aggs": {"x": {"date_range": {"field": "created", "ranges": [{"from": 1.5}]}}}}`, `$.aggs.x.date_range.ranges[0].from: want a date string, integer epoch milliseconds or null, got number 1.5`},
		{`{"query": "a", "aggs": {"x": {"date_range": {"field": "created", "ranges": [{"to": ""}]}}}}`, `$.aggs.x.date_range.ranges[0].to: an empty date (null is an open end)`},
		{`{"query": "a", "aggs": {"x": {"date_range": {"field": "created", "ranges": [{"upto": "2024"}]}}}}`, `$.aggs.x.date_range.ranges[0].upto: unknown member (want one of name, from, to)`},
		{`{"query": "a", "aggs": {"x": {"date_range": {"field": "created", "ranges": {}}}}}`, `$.aggs.x.date_range.ranges: want an array`},
		{`{"query": "a", "aggs": {"x": {"date_range": {"field": "created", "interval": "1d"}}}}`, `$.aggs.x.date_range.interval: unknown member (want one of field, ranges, sub)`},
		{`{"query": "a", "aggs": {"x": {"terms": {"field": "colour", "sub": {"s": {"terms": {"field": "shop"}}}}}}}`, `$.aggs.x.terms.sub.s.terms: unknown member (want one of field)`},
		{`{"query": {"boolean": {"must": [{"term": {"field": "title"}}]}}}`, `$.query.boolean.must[0].term: no "term"`},
		{`{"query": {"boolean": {"should": [{"match": {}}]}}}`, `$.query.boolean.should[0].match: unknown member (want one of term, phrase,`},
		{`{"query": {"range": {"field": "price", "min": "cheap"}}}`, `$.query.range.min: want a number or null, got string "cheap"`},
		{`{"query": {"range": {"field": "created", "min": "yesterday"}}}`, `$.query.range.min: not a date: "yesterday"`},
		{`{"query": {"phrase": {"field": "body", "terms": ["a"], "positions": [0, -1]}}}`, `$.query.phrase.positions[1]: want a non-negative integer`},
		{`{"query": {"boost": {"query": {"all": {}}, "boost": -1}}}`, `$.query.boost.boost: a boost must not be negative`},
		{`{"query": {"all": {"x": 1}}}`, `$.query.all.x: unknown member`},
		{`{"query": {"parse": "nope:a"}}`, `$.query.parse: parse: field at byte 0: unknown field "nope"`},
	} {
		_, err := r.DecodeSearchRequest(strings.NewReader(tc.in))
		var je *hermes.SearchRequestJSONError
		if !errors.As(err, &je) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant a SearchRequestJSONError containing %q", tc.in, err, tc.want)
		}
	}
}

// DecodeSearchRequest never panics, fails only with a
// SearchRequestJSONError, and what it accepts SearchRequest takes or
// refuses with an error, never a panic.
func FuzzDecodeSearchRequest(f *testing.F) {
	r := shopReader(f)
	for _, s := range []string{
		`{"query":"mug","k":3,"sort":[{"field":"price","desc":true}],"highlight":{"fields":["body"],"pre":"<","post":">"}}`,
		`{"query":{"boolean":{"must":[{"parse":"blue"},{"range":{"field":"created","min":"2024-01-01","max":null}}],"must_not":[{"term":{"field":"title","term":"cup"}}]}}}`,
		`{"query":{"boost":{"query":{"fuzzy":{"field":"title","term":"mgu","distance":1}},"boost":2}},"k":1}`,
		`{"query":{"all":{}},"aggs":{"a":{"range":{"field":"price","ranges":[{"to":10},{"from":10}]}},"b":{"histogram":{"field":"stock","interval":50,"sub":{"p":{"field":"price"}}}}}}`,
		`{"query":{"phrase":{"field":"body","terms":["blue","glaze"],"positions":[0,1],"slop":0}},"fields":["*"],"offset":2,"k":2}`,
		`{"query":"mug","aggs":{"c":{"terms":{"field":"colour","size":1,"sub":{"p":{"field":"price"}}}},"q":{"date_histogram":{"field":"created","interval":"2w","sub":{"s":{"field":"stock"}}}}}}`,
		`{"query":{"all":{}},"aggs":{"d":{"date_range":{"field":"created","ranges":[{"name":"old","to":"2024-01-01"},{"from":1704067200000,"to":"now-1d"},{"from":null}]}},"m":{"date_histogram":{"field":"created","interval":"1M"}}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		req, err := r.DecodeSearchRequest(strings.NewReader(in))
		if err != nil {
			var je *hermes.SearchRequestJSONError
			if !errors.As(err, &je) {
				t.Fatalf("%s: error %v (%T) is not a SearchRequestJSONError", in, err, err)
			}
			return
		}
		if req.K > 100 || req.Offset > 100 {
			return // a page that large costs time, not coverage
		}
		_, _ = r.SearchRequest(context.Background(), req)
	})
}
