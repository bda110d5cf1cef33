package hermes_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// TestTermsAggTopNMatchesModel checks that a terms aggregation picks the
// Size values with the most matches, ties by value (numeric order, byte
// order for keywords), with the rest in Other, against a brute-force model,
// for every Size from 1 to past the number of values: over several
// segments, over one segment's matches among several (where keyword terms
// are picked by ordinal), and after a merge into one segment.
func TestTermsAggTopNMatchesModel(t *testing.T) {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Primary: true},
		hermes.Field{Name: "body", Type: segment.TypeText, Indexed: true},
		hermes.Field{Name: "kw", Type: segment.TypeKeyword, Indexed: true, Fast: true},
		hermes.Field{Name: "u", Type: segment.TypeU64, Fast: true},
		hermes.Field{Name: "i", Type: segment.TypeI64, Fast: true},
		hermes.Field{Name: "f", Type: segment.TypeF64, Fast: true},
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
		batch    int
		kw       []string
		u        uint64
		i        int64
		f        float64
		hasU, hf bool
	}
	rng := rand.New(rand.NewSource(12))
	var docs []doc
	// Few distinct values drawn unevenly, so that counts tie often.
	kwValues := []string{"a", "B", "b", "ä", "a b", "zz", "Z", "aa"}
	for batch := range 4 {
		for range 120 {
			d := doc{batch: batch, u: uint64(rng.Intn(9)) * 1000, i: int64(rng.Intn(11) - 5), f: float64(rng.Intn(13)-6) / 4}
			d.hasU, d.hf = rng.Intn(5) > 0, rng.Intn(5) > 0
			hd := new(hermes.Document).AddString("id", strconv.Itoa(len(docs))).AddString("body", fmt.Sprintf("all batch%d", batch)).AddI64("i", d.i)
			if d.hasU {
				hd.AddU64("u", d.u)
			}
			if d.hf {
				hd.AddF64("f", d.f)
			}
			for range rng.Intn(3) {
				v := kwValues[rng.Intn(1+rng.Intn(len(kwValues)))]
				hd.AddString("kw", v)
				if !slices.Contains(d.kw, v) {
					d.kw = append(d.kw, v)
				}
			}
			if err := w.AddDocumentWait(ctx, hd); err != nil {
				t.Fatal(err)
			}
			docs = append(docs, d)
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// model returns the values of docs matching, counted, in the expected
	// bucket order.
	model := func(match func(doc) bool, values func(doc) []string, less func(a, b string) int) ([]string, map[string]int) {
		counts := map[string]int{}
		for _, d := range docs {
			if match(d) {
				for _, v := range values(d) {
					counts[v]++
				}
			}
		}
		keys := slices.Collect(func(yield func(string) bool) {
			for k := range counts {
				if !yield(k) {
					return
				}
			}
		})
		slices.SortFunc(keys, func(a, b string) int {
			if c := -cmp.Compare(counts[a], counts[b]); c != 0 {
				return c
			}
			return less(a, b)
		})
		return keys, counts
	}
	num := func(a, b string) int {
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		return cmp.Compare(x, y)
	}
	fields := []struct {
		name   string
		values func(doc) []string
		less   func(a, b string) int
	}{
		{"kw", func(d doc) []string { return d.kw }, cmp.Compare[string]},
		{"u", func(d doc) []string {
			if !d.hasU {
				return nil
			}
			return []string{strconv.FormatUint(d.u, 10)}
		}, num},
		{"i", func(d doc) []string { return []string{strconv.FormatInt(d.i, 10)} }, num},
		{"f", func(d doc) []string {
			if !d.hf {
				return nil
			}
			return []string{strconv.FormatFloat(d.f, 'g', -1, 64)}
		}, num},
	}
	check := func(stage string) {
		r, err := w.Reader()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, q := range []string{"all", "batch0", "batch3", "nothing"} {
			match := func(d doc) bool { return q == "all" || q == fmt.Sprintf("batch%d", d.batch) }
			for _, f := range fields {
				keys, counts := model(match, f.values, f.less)
				for size := 1; size <= len(keys)+1; size++ {
					res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: "body:" + q, Aggs: map[string]hermes.Aggregation{
						"t": &hermes.TermsAgg{Field: f.name, Size: size, Sub: map[string]*hermes.StatsAgg{"i": {Field: "i"}}},
					}})
					if err != nil {
						t.Fatal(err)
					}
					got := res.Aggs["t"]
					want := keys[:min(size, len(keys))]
					other := 0
					for _, k := range keys[len(want):] {
						other += counts[k]
					}
					var gotKeys []string
					for i, b := range got.Buckets {
						gotKeys = append(gotKeys, b.Key)
						if i < len(want) && b.Count != counts[want[i]] {
							t.Fatalf("%s, %s, terms on %s, size %d: bucket %q counts %d, model %d", stage, q, f.name, size, b.Key, b.Count, counts[want[i]])
						}
						sum := 0.0
						for _, d := range docs {
							if match(d) && slices.Contains(f.values(d), b.Key) {
								sum += float64(d.i)
							}
						}
						if st := b.Sub["i"]; st.Count != b.Count || st.Sum != sum {
							t.Fatalf("%s, %s, terms on %s, size %d: bucket %q stats of i %+v, model count %d sum %v", stage, q, f.name, size, b.Key, *st, b.Count, sum)
						}
					}
					if !slices.Equal(gotKeys, want) || got.Other != other {
						t.Fatalf("%s, %s, terms on %s, size %d: buckets %q other %d, model %q other %d", stage, q, f.name, size, gotKeys, got.Other, want, other)
					}
				}
			}
		}
	}
	check("4 segments")
	if err := w.ForceMerge(ctx); err != nil {
		t.Fatal(err)
	}
	check("merged")
}
