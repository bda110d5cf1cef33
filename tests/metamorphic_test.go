package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// TestOneWorkerAndFourWorkersAgree indexes the same documents through 1 and
// through 4 workers (different segment layouts) and requires the same
// documents and the same search results: every match with the same score.
// Equal scores are ordered by segment and doc id, which depend on the layout,
// so hits are compared in (score, id) order.
func TestOneWorkerAndFourWorkersAgree(t *testing.T) {
	rnd := rand.New(rand.NewPCG(42, 42))
	docs := make([]*hermes.Document, 2500)
	for i := range docs {
		docs[i] = newDoc(id("doc", i), uint64(i), text(rnd))
	}
	queries := []string{"time", "world life", "government company number", `"good new"`,
		"+year -day", "thing AND man", "hand*", "n:[100 TO 200]", "part OR child OR eye", "different small"}

	results := make([]map[string][]string, 0, 2)
	for _, workers := range []int{1, 4} {
		ctx := context.Background()
		w, err := hermes.Create(ctx, storage.NewMem(), schema(t, ""),
			hermes.Config{Workers: workers, MaxIndexingMemory: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			add(t, w, d)
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := w.Reader()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		if n := len(allIDs(t, r)); n != len(docs) {
			t.Fatalf("%d workers: %d documents, want %d", workers, n, len(docs))
		}
		for _, q := range queries {
			hits, err := r.Search(ctx, q, len(docs))
			if err != nil {
				t.Fatalf("%d workers: %q: %v", workers, q, err)
			}
			sort.SliceStable(hits, func(i, j int) bool {
				if hits[i].Score != hits[j].Score {
					return hits[i].Score > hits[j].Score
				}
				return hits[i].Key.Str < hits[j].Key.Str
			})
			for _, h := range hits {
				got[q] = append(got[q], fmt.Sprintf("%s:%.5f", h.Key.Str, h.Score))
			}
			if len(hits) == 0 {
				t.Fatalf("query %q found nothing; the test corpus should match it", q)
			}
		}
		r.Close()
		w.Close()
		results = append(results, got)
	}
	for _, q := range queries {
		if !reflect.DeepEqual(results[0][q], results[1][q]) {
			t.Errorf("query %q:\n 1 worker:  %v\n 4 workers: %v", q, results[0][q], results[1][q])
		}
	}
}
