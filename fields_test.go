package hermes_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// Date and bool fields through the library: queried with date strings,
// sorted by date, aggregated with bucket keys as a user writes them,
// against a model.
func TestDateAndBoolFieldsSearchSortAggregate(t *testing.T) {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "at", Type: segment.TypeDate, Fast: true, Stored: true},
		hermes.Field{Name: "flag", Type: segment.TypeBool, Indexed: true, Fast: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	type doc struct {
		at   int64
		flag bool
	}
	model := map[string]doc{}
	rng := rand.New(rand.NewSource(3))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := 0; c < 3; c++ {
		for i := 0; i < 100; i++ {
			id := fmt.Sprintf("d%03d", len(model))
			d := doc{at: base.UnixMilli() + rng.Int63n(60*24*3600*1000), flag: rng.Intn(3) == 0}
			line := fmt.Sprintf(`{"id":%q,"at":%q,"flag":%v}`, id, segment.FormatDate(d.at), d.flag)
			parsed, err := schema.DecodeJSON([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.AddDocumentWait(ctx, parsed); err != nil {
				t.Fatal(err)
			}
			model[id] = d
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	res, err := r.SearchRequest(ctx, hermes.SearchRequest{
		Query: "flag:true AND at:[2024-01-01 TO 2024-02-01}", K: len(model), Sort: []hermes.SortField{{Field: "at", Desc: true}},
		TotalHitsThreshold: len(model),
		Aggs:               map[string]hermes.Aggregation{"flags": &hermes.TermsAgg{Field: "flag", Size: 2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, d := range model {
		if d.flag && d.at < feb {
			want++
		}
	}
	if len(res.Hits) != want || res.Total.Value != want {
		t.Fatalf("%d hits, total %d; model %d", len(res.Hits), res.Total.Value, want)
	}
	for i, h := range res.Hits {
		d := model[h.Key.Str]
		if !d.flag || d.at >= feb || i > 0 && d.at > model[res.Hits[i-1].Key.Str].at {
			t.Fatalf("hit %d %s (%+v) out of place", i, h.Key.Str, d)
		}
	}
	if b := res.Aggs["flags"].Buckets; len(b) != 1 || b[0].Key != "true" || b[0].Count != want {
		t.Fatalf("flag buckets %+v, want one \"true\" bucket of %d", b, want)
	}
	res, err = r.SearchRequest(ctx, hermes.SearchRequest{Query: "*:*", K: 1,
		Aggs: map[string]hermes.Aggregation{"flags": &hermes.TermsAgg{Field: "flag", Size: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	trues := 0
	for _, d := range model {
		if d.flag {
			trues++
		}
	}
	b := res.Aggs["flags"].Buckets
	if len(b) != 2 || b[0].Key != "false" || b[0].Count != len(model)-trues || b[1].Key != "true" || b[1].Count != trues {
		t.Fatalf("flag buckets %+v, want false %d, true %d", b, len(model)-trues, trues)
	}
}
