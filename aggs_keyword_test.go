package hermes_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// This file checks terms aggregations on keyword fields, date histograms
// and date ranges against brute-force models, over several segments with
// deletes, a merged segment among them.

type kwDoc struct {
	id      string
	words   []string
	tags    []string // distinct
	color   string   // "" for none
	when    int64    // epoch ms
	hasWhen bool
	price   float64
}

type kwIndex struct {
	t    *testing.T
	w    *hermes.Writer
	rng  *rand.Rand
	docs map[string]*kwDoc
	next int
}

func newKwIndex(t *testing.T) *kwIndex {
	t.Helper()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "body", Type: segment.TypeText, Indexed: true},
		hermes.Field{Name: "tags", Type: segment.TypeKeyword, Indexed: true, Fast: true},
		hermes.Field{Name: "color", Type: segment.TypeKeyword, Indexed: true, Stored: true, Fast: true},
		hermes.Field{Name: "when", Type: segment.TypeDate, Fast: true},
		hermes.Field{Name: "price", Type: segment.TypeF64, Fast: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(context.Background(), storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return &kwIndex{t: t, w: w, rng: rand.New(rand.NewSource(7)), docs: map[string]*kwDoc{}}
}

var kwColors = []string{"red", "green", "blue", "Ünïcode", "", "a b"}

func (x *kwIndex) add(n int) {
	x.t.Helper()
	for range n {
		x.next++
		d := &kwDoc{id: fmt.Sprintf("k%05d", x.next), price: float64(x.rng.Intn(40)) / 4}
		for range 1 + x.rng.Intn(2) {
			d.words = append(d.words, pageWords[x.rng.Intn(len(pageWords))])
		}
		doc := new(hermes.Document).AddString("id", d.id).AddString("body", strings.Join(d.words, " ")).AddF64("price", d.price)
		for range x.rng.Intn(4) {
			tag := fmt.Sprintf("tag%02d", int(math.Sqrt(float64(x.rng.Intn(900))))) // skewed
			doc.AddString("tags", tag)                                              // a repeat is one value
			if !slices.Contains(d.tags, tag) {
				d.tags = append(d.tags, tag)
			}
		}
		if c := kwColors[x.rng.Intn(len(kwColors))]; c != "" {
			d.color = c
			doc.AddString("color", c)
		}
		if x.rng.Intn(6) > 0 {
			// 1965 to 2025, dense around 2024 so that small intervals
			// share buckets.
			d.when, d.hasWhen = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()+x.rng.Int63n(400*dayMs)-200*dayMs, true
			if x.rng.Intn(8) == 0 {
				d.when = -160*365*dayMs/30 + x.rng.Int63n(60*365*dayMs)
			}
			doc.AddDate("when", time.UnixMilli(d.when))
		}
		if err := x.w.AddDocumentWait(context.Background(), doc); err != nil {
			x.t.Fatal(err)
		}
		x.docs[d.id] = d
	}
}

const dayMs = 24 * 60 * 60 * 1000

func (x *kwIndex) deleteSome(n int) {
	x.t.Helper()
	var ids []string
	for id := range x.docs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for range n {
		id := ids[x.rng.Intn(len(ids))]
		if x.docs[id] == nil {
			continue
		}
		if err := x.w.DeleteByKey(id); err != nil {
			x.t.Fatal(err)
		}
		delete(x.docs, id)
	}
}

func (x *kwIndex) commit() {
	x.t.Helper()
	if _, err := x.w.Commit(context.Background()); err != nil {
		x.t.Fatal(err)
	}
}

// modelDateBucket is the start of the bucket holding ms, computed with the
// time package's calendar.
func modelDateBucket(ms int64, interval string) time.Time {
	t := time.UnixMilli(ms).UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch interval {
	case "1M":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case "2M":
		return time.Date(t.Year(), t.Month()-(t.Month()-1)%2, 1, 0, 0, 0, 0, time.UTC)
	case "1q":
		return time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case "1y":
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	case "1w":
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case "1d":
		return day
	case "6h":
		return day.Add(time.Duration(t.Hour()/6*6) * time.Hour)
	case "90m":
		return time.UnixMilli(ms - ((ms%(90*60000))+90*60000)%(90*60000)).UTC()
	}
	panic(interval)
}

func TestKeywordTermsAndDateAggregations(t *testing.T) {
	ctx := context.Background()
	x := newKwIndex(t)
	for i := range 4 {
		x.add(150)
		x.deleteSome(12)
		x.commit()
		if i == 1 {
			if err := x.w.ForceMerge(ctx); err != nil { // a merged segment among the others
				t.Fatal(err)
			}
		}
	}
	r, err := x.w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	intervals := []string{"1d", "6h", "90m", "1w", "1M", "2M", "1q", "1y"}
	dateRanges := []hermes.DateRange{{To: "2024-01-01"}, {Name: "h1", From: "2024-01-01", To: "2024-07-01T00:00:00Z"}, {From: "1719792000000"}}
	rangeBounds := [][2]int64{
		{math.MinInt64, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()},
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC).UnixMilli()},
		{1719792000000, math.MaxInt64},
	}
	for _, q := range []string{"red", "green AND -blue", "nothingmatches", ""} {
		aggs := map[string]hermes.Aggregation{
			"tags":   &hermes.TermsAgg{Field: "tags", Size: 5, Sub: map[string]*hermes.StatsAgg{"p": {Field: "price"}}},
			"colors": &hermes.TermsAgg{Field: "color", Size: 100},
			"ranges": &hermes.DateRangeAgg{Field: "when", Ranges: dateRanges},
		}
		for _, iv := range intervals {
			aggs["h"+iv] = &hermes.DateHistogramAgg{Field: "when", Interval: iv}
		}
		req := hermes.SearchRequest{Query: q, Aggs: aggs}
		if q == "" {
			req.Parsed = query.All{}
		}
		res, err := r.SearchRequest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var match []*kwDoc
		for _, d := range x.docs {
			ok := slices.Contains(d.words, "red")
			switch q {
			case "green AND -blue":
				ok = slices.Contains(d.words, "green") && !slices.Contains(d.words, "blue")
			case "nothingmatches":
				ok = false
			case "":
				ok = true
			}
			if ok {
				match = append(match, d)
			}
		}
		if res.Total.Value != len(match) {
			t.Fatalf("%q: total %d, model %d", q, res.Total.Value, len(match))
		}

		// Terms on the multi-valued tags, with stats per bucket.
		byTag := map[string][]float64{}
		for _, d := range match {
			for _, tag := range d.tags {
				byTag[tag] = append(byTag[tag], d.price)
			}
		}
		checkKeywordBuckets(t, q+" tags", res.Aggs["tags"], byTag, 5, true)
		byColor := map[string][]float64{}
		for _, d := range match {
			if d.color != "" {
				byColor[d.color] = append(byColor[d.color], d.price)
			}
		}
		checkKeywordBuckets(t, q+" colors", res.Aggs["colors"], byColor, 100, false)

		// Date histograms.
		for _, iv := range intervals {
			want := map[string]int{}
			for _, d := range match {
				if d.hasWhen {
					want[modelDateBucket(d.when, iv).Format(time.RFC3339)]++
				}
			}
			got := res.Aggs["h"+iv].Buckets
			if len(got) != len(want) {
				t.Fatalf("%q %s: %d buckets, model %d", q, iv, len(got), len(want))
			}
			for i, b := range got {
				if b.Count != want[b.Key] || b.Count == 0 {
					t.Fatalf("%q %s: bucket %s has %d docs, model %d", q, iv, b.Key, b.Count, want[b.Key])
				}
				start, err := time.Parse(time.RFC3339, b.Key)
				if err != nil || float64(start.UnixMilli()) != b.From || b.To <= b.From {
					t.Fatalf("%q %s: bucket key %q, from %v to %v", q, iv, b.Key, b.From, b.To)
				}
				if i > 0 && got[i-1].From >= b.From {
					t.Fatalf("%q %s: buckets out of order", q, iv)
				}
			}
		}

		// Date ranges.
		for i, rg := range rangeBounds {
			n := 0
			for _, d := range match {
				if d.hasWhen && d.when >= rg[0] && d.when < rg[1] {
					n++
				}
			}
			if b := res.Aggs["ranges"].Buckets[i]; b.Count != n {
				t.Fatalf("%q: date range %s has %d docs, model %d", q, b.Key, b.Count, n)
			}
		}
		if k := res.Aggs["ranges"].Buckets[0].Key; k != "*-2024-01-01" {
			t.Fatalf("date range name %q", k)
		}
	}
}

// checkKeywordBuckets compares a terms aggregation with the model: values
// by count (most first), ties by value, the first size of them, the rest
// counted in Other.
func checkKeywordBuckets(t *testing.T, what string, res *hermes.AggResult, model map[string][]float64, size int, withStats bool) {
	t.Helper()
	var keys []string
	for k := range model {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := -cmp.Compare(len(model[a]), len(model[b])); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	other := 0
	for i, k := range keys {
		if i >= size {
			other += len(model[k])
			continue
		}
		if i >= len(res.Buckets) {
			t.Fatalf("%s: %d buckets, model %d", what, len(res.Buckets), min(size, len(keys)))
		}
		b := res.Buckets[i]
		if b.Key != k || b.Count != len(model[k]) {
			t.Fatalf("%s: bucket %d = %q %d, model %q %d", what, i, b.Key, b.Count, k, len(model[k]))
		}
		if withStats && !sameStats(*b.Sub["p"], modelStats(model[k])) {
			t.Fatalf("%s: bucket %q stats %+v, model %+v", what, k, *b.Sub["p"], modelStats(model[k]))
		}
	}
	if len(res.Buckets) != min(size, len(keys)) || res.Other != other {
		t.Fatalf("%s: %d buckets, other %d; model %d, %d", what, len(res.Buckets), res.Other, min(size, len(keys)), other)
	}
}

func TestKeywordAndDateAggregationErrors(t *testing.T) {
	x := newKwIndex(t)
	x.add(20)
	x.commit()
	r, err := x.w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct {
		req  hermes.SearchRequest
		want string
	}{
		{hermes.SearchRequest{Query: "red", K: 1, Sort: []hermes.SortField{{Field: "tags"}}}, "keyword field"},
		{hermes.SearchRequest{Aggs: map[string]hermes.Aggregation{"s": &hermes.StatsAgg{Field: "color"}}}, "keyword field"},
		{hermes.SearchRequest{Aggs: map[string]hermes.Aggregation{"h": &hermes.DateHistogramAgg{Field: "price", Interval: "1d"}}}, "not a date"},
		{hermes.SearchRequest{Aggs: map[string]hermes.Aggregation{"h": &hermes.DateHistogramAgg{Field: "when", Interval: "1x"}}}, "unknown unit"},
		{hermes.SearchRequest{Aggs: map[string]hermes.Aggregation{"h": &hermes.DateHistogramAgg{Field: "when", Interval: "0d"}}}, "positive number"},
		{hermes.SearchRequest{Aggs: map[string]hermes.Aggregation{"h": &hermes.DateHistogramAgg{Field: "when", Interval: "d"}}}, "positive number"},
		{hermes.SearchRequest{Aggs: map[string]hermes.Aggregation{"r": &hermes.DateRangeAgg{Field: "when", Ranges: []hermes.DateRange{{From: "yesterday"}}}}}, "date range: from"},
		{hermes.SearchRequest{Aggs: map[string]hermes.Aggregation{"t": &hermes.TermsAgg{Field: "body"}}}, "not a fast field"},
	} {
		if tc.req.Query == "" {
			tc.req.Parsed = query.All{}
		}
		_, err := r.SearchRequest(context.Background(), tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.req, err, tc.want)
		}
	}
	if _, err := segment.NewSchema(hermes.Field{Name: "k", Type: segment.TypeKeyword, Stored: true, Fast: true}); err == nil || !strings.Contains(err.Error(), "must be indexed") {
		t.Errorf("a fast keyword field that is not indexed: %v", err)
	}
}
