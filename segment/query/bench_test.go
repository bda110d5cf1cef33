package query

import (
	"context"
	"math/rand"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
)

// BenchmarkSearch runs 2-3 word query strings (parsed over title and body,
// so 4-6 OR-ed terms) for the top 10 on 40,000 realmix documents in four
// segments, with block-max WAND (pruned) and without (exhaustive). Compare
// the queries/s of the two for the speed-up.
func BenchmarkSearch(b *testing.B) {
	docs := loadRealmix(b, 40000, 1)
	segs := split(docs, 10000, 10000, 10000)
	schema := testSchema()
	toks := tokenizers(b, schema)
	s := NewSearcher(buildReal(b, segs, schema, toks), schema, toks)

	// Query words are drawn from random documents, so frequent words are
	// frequent in queries too, as in real query logs.
	r := rand.New(rand.NewSource(1))
	var queries []Query
	for len(queries) < 200 {
		var words []string
		for len(words) < 2+len(queries)%2 {
			d := docs[r.Intn(len(docs))]
			ts := analyze(analysis.SimpleTokenizer{}, d.body)
			if len(ts) > 0 {
				words = append(words, ts[r.Intn(len(ts))].term)
			}
		}
		q, err := s.Parse(strings.Join(words, " "), []string{"title", "body"})
		if err != nil {
			b.Fatal(err)
		}
		queries = append(queries, q)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		search func(context.Context, Query, int) ([]Hit, error)
	}{{"pruned", s.Search}, {"exhaustive", s.SearchExhaustive}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := bc.search(ctx, queries[n%len(queries)], 10); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "queries/s")
		})
	}
	// The same pruned searches from GOMAXPROCS goroutines sharing the
	// Searcher: compare its queries/s with pruned's for the scaling, which
	// per-query allocations (and so GC work) hold back.
	b.Run("pruned-parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := int(next.Add(1))
				if _, err := s.Search(ctx, queries[n%len(queries)], 10); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
}
