package hermes_test

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// exampleShop indexes a few products with fast fields to sort and
// aggregate on.
func exampleShop(ctx context.Context) (*hermes.Writer, *hermes.Reader) {
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "name", Type: segment.TypeText, Indexed: true, Stored: true},
		hermes.Field{Name: "price", Type: segment.TypeF64, Fast: true},
		hermes.Field{Name: "stock", Type: segment.TypeU64, Fast: true},
		hermes.Field{Name: "shop", Type: segment.TypeU64, Fast: true},
	)
	if err != nil {
		log.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		log.Fatal(err)
	}
	products := []struct {
		name        string
		price       float64
		stock, shop uint64
	}{
		{"red mug", 8, 10, 1}, {"blue mug", 8, 0, 2}, {"travel mug", 15, 3, 1},
		{"tea pot", 30, 2, 2}, {"mug set", 42, 5, 1}, {"espresso mug", 6.5, 7, 3},
	}
	for i, p := range products {
		doc := new(hermes.Document).AddString("id", fmt.Sprint("p", i)).AddString("name", p.name).
			AddF64("price", p.price).AddU64("stock", p.stock).AddU64("shop", p.shop)
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
	return w, r
}

// Sort by fast fields: price descending, then stock ascending; equal
// values are ordered by primary key. The total counts every match.
func ExampleReader_SearchRequest() {
	ctx := context.Background()
	w, r := exampleShop(ctx)
	defer w.Close()
	defer r.Close()
	res, err := r.SearchRequest(ctx, hermes.SearchRequest{
		Query: "mug",
		K:     3,
		Sort:  []hermes.SortField{{Field: "price", Desc: true}, {Field: "stock"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range res.Hits {
		doc, _ := h.Document(ctx, "name")
		name, _ := doc.Get("name")
		fmt.Println(h.Key.Str, name.Str)
	}
	fmt.Println("total", res.Total.Relation, res.Total.Value)
	// Output:
	// p4 mug set
	// p2 travel mug
	// p1 blue mug
	// total = 5
}

// Page with search_after: each hit carries a Cursor, and After continues
// after it, also on a newer Reader after commits (and merges) in between.
func ExampleReader_SearchRequest_pagination() {
	ctx := context.Background()
	w, r := exampleShop(ctx)
	defer w.Close()
	req := hermes.SearchRequest{Query: "mug", K: 2, Sort: []hermes.SortField{{Field: "price"}}}
	for page := 1; ; page++ {
		res, err := r.SearchRequest(ctx, req)
		r.Close()
		if err != nil {
			log.Fatal(err)
		}
		if len(res.Hits) == 0 {
			break
		}
		fmt.Print("page ", page, ":")
		for _, h := range res.Hits {
			fmt.Print(" ", h.Key.Str)
		}
		fmt.Println()
		req.After = res.Hits[len(res.Hits)-1].Cursor

		// A commit between pages: a cheaper mug sorts before the cursor,
		// so it does not shift the pages after it.
		doc := new(hermes.Document).AddString("id", fmt.Sprint("new", page)).AddString("name", "paper mug").AddF64("price", 1)
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			log.Fatal(err)
		}
		if _, err := w.Commit(ctx); err != nil {
			log.Fatal(err)
		}
		if r, err = w.Reader(); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// page 1: p5 p0
	// page 2: p1 p2
	// page 3: p4
}

// Aggregations over every match, from fast-field columns, in the same pass
// as the search: terms with stats per bucket, ranges, a histogram, stats.
// K 0 asks for no hits.
func ExampleReader_SearchRequest_aggregations() {
	ctx := context.Background()
	w, r := exampleShop(ctx)
	defer w.Close()
	defer r.Close()
	res, err := r.SearchRequest(ctx, hermes.SearchRequest{
		Query: "mug OR pot",
		Aggs: map[string]hermes.Aggregation{
			"shops":  &hermes.TermsAgg{Field: "shop", Size: 2, Sub: map[string]*hermes.StatsAgg{"price": {Field: "price"}}},
			"prices": &hermes.RangeAgg{Field: "price", Ranges: []hermes.NumericRange{{Name: "cheap", From: math.Inf(-1), To: 10}, {Name: "dear", From: 10, To: math.Inf(1)}}},
			"stock":  &hermes.HistogramAgg{Field: "stock", Interval: 5},
			"price":  &hermes.StatsAgg{Field: "price"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("matches:", res.Total.Value)
	for _, b := range res.Aggs["shops"].Buckets {
		fmt.Printf("shop %s: %d products, average price %.2f\n", b.Key, b.Count, b.Sub["price"].Avg)
	}
	fmt.Println("other shops:", res.Aggs["shops"].Other)
	for _, b := range res.Aggs["prices"].Buckets {
		fmt.Printf("%s: %d\n", b.Key, b.Count)
	}
	for _, b := range res.Aggs["stock"].Buckets {
		fmt.Printf("stock [%g, %g): %d\n", b.From, b.To, b.Count)
	}
	s := res.Aggs["price"].Stats
	fmt.Printf("price: min %g, max %g, sum %g\n", s.Min, s.Max, s.Sum)
	// Output:
	// matches: 6
	// shop 1: 3 products, average price 21.67
	// shop 2: 2 products, average price 19.00
	// other shops: 1
	// cheap: 3
	// dear: 3
	// stock [0, 5): 3
	// stock [5, 10): 2
	// stock [10, 15): 1
	// price: min 6.5, max 42, sum 109.5
}
