package hermes_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// Terms on a fast keyword field count every value of a document (a post
// with two tags is in both buckets); date histograms take calendar
// intervals and key their buckets in RFC 3339; date ranges take dates as
// queries write them.
func ExampleReader_SearchRequest_keywordAndDateAggregations() {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true},
		hermes.Field{Name: "tags", Type: segment.TypeKeyword, Indexed: true, Fast: true},
		hermes.Field{Name: "posted", Type: segment.TypeDate, Fast: true},
	)
	if err != nil {
		log.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	posts := []struct {
		title, posted string
		tags          []string
	}{
		{"go generics", "2024-01-15T10:00:00Z", []string{"go", "types"}},
		{"go modules", "2024-01-30T08:00:00Z", []string{"go", "tooling"}},
		{"rust traits", "2024-02-02T12:00:00Z", []string{"rust", "types"}},
		{"go fuzzing", "2024-03-20T09:30:00Z", []string{"go", "testing"}},
	}
	for i, p := range posts {
		t, _ := time.Parse(time.RFC3339, p.posted)
		doc := new(hermes.Document).AddString("id", fmt.Sprint("post", i)).AddString("title", p.title).AddDate("posted", t)
		for _, tag := range p.tags {
			doc.AddString("tags", tag)
		}
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		log.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	res, err := r.SearchRequest(ctx, hermes.SearchRequest{
		Query: "go OR rust",
		Aggs: map[string]hermes.Aggregation{
			"tags":     &hermes.TermsAgg{Field: "tags", Size: 3},
			"monthly":  &hermes.DateHistogramAgg{Field: "posted", Interval: "1M"},
			"february": &hermes.DateRangeAgg{Field: "posted", Ranges: []hermes.DateRange{{From: "2024-02-01", To: "2024-03-01"}}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range res.Aggs["tags"].Buckets {
		fmt.Printf("tag %s: %d\n", b.Key, b.Count)
	}
	fmt.Println("other tags:", res.Aggs["tags"].Other)
	for _, b := range res.Aggs["monthly"].Buckets {
		fmt.Printf("month %s: %d\n", b.Key, b.Count)
	}
	fmt.Println("february:", res.Aggs["february"].Buckets[0].Count)
	// Output:
	// tag go: 3
	// tag types: 2
	// tag rust: 1
	// other tags: 2
	// month 2024-01-01T00:00:00Z: 2
	// month 2024-02-01T00:00:00Z: 1
	// month 2024-03-01T00:00:00Z: 1
	// february: 1
}
