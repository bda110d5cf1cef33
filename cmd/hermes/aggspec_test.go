package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
)

// The date aggregation specs of --agg map onto the library's types.
func TestParseDateAggSpecs(t *testing.T) {
	a, err := parseAgg("date_histogram:when:1M>stats:price")
	want := &hermes.DateHistogramAgg{Field: "when", Interval: "1M", Sub: map[string]*hermes.StatsAgg{"stats:price": {Field: "price"}}}
	if err != nil || !reflect.DeepEqual(a, want) {
		t.Fatalf("date_histogram: %+v, %v", a, err)
	}
	a, err = parseAgg("date_range:when:..2024-01-01,2024-01-01T00:00:00Z..now-7d")
	wantR := &hermes.DateRangeAgg{Field: "when", Ranges: []hermes.DateRange{
		{Name: "..2024-01-01", To: "2024-01-01"}, {Name: "2024-01-01T00:00:00Z..now-7d", From: "2024-01-01T00:00:00Z", To: "now-7d"}}}
	if err != nil || !reflect.DeepEqual(a, wantR) {
		t.Fatalf("date_range: %+v, %v", a, err)
	}
	for _, bad := range []string{"date_histogram:when", "date_range:when", "date_range:when:2024"} {
		if _, err := parseAgg(bad); err == nil || !strings.Contains(err.Error(), "want") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
