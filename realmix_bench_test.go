package hermes_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// realmixReader indexes the realmix corpus named by HERMES_REALMIX (its
// .jsonl.gz: id, title, text) in memory, merged into one segment, with two
// derived fields to aggregate and sort on: source, the id's prefix before
// ':' (a fast keyword field), and len, the text's length in bytes (a fast
// u64). The writer and reader are closed when b ends.
func realmixReader(b *testing.B) (*hermes.Reader, int) {
	path := os.Getenv("HERMES_REALMIX")
	if path == "" {
		b.Skip("HERMES_REALMIX is not set (the path of realmix.jsonl.gz)")
	}
	w, r, n, err := buildRealmix(path)
	if w != nil {
		b.Cleanup(func() { w.Close() })
	}
	if r != nil {
		b.Cleanup(func() { r.Close() })
	}
	if err != nil {
		b.Fatal(err)
	}
	return r, n
}

func buildRealmix(path string) (w *hermes.Writer, r *hermes.Reader, n int, err error) {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Primary: true},
		hermes.Field{Name: "title", Type: segment.TypeText, Indexed: true, Positions: true},
		hermes.Field{Name: "text", Type: segment.TypeText, Indexed: true, Positions: true},
		hermes.Field{Name: "source", Type: segment.TypeKeyword, Indexed: true, Fast: true},
		hermes.Field{Name: "len", Type: segment.TypeU64, Fast: true},
	)
	if err != nil {
		return nil, nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, 0, err
	}
	if w, err = hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{}); err != nil {
		return nil, nil, 0, err
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var rec struct{ ID, Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return w, nil, 0, err
		}
		source, _, _ := strings.Cut(rec.ID, ":")
		doc := new(hermes.Document).AddString("id", rec.ID).AddString("title", rec.Title).AddString("text", rec.Text).
			AddString("source", source).AddU64("len", uint64(len(rec.Text)))
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			return w, nil, 0, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return w, nil, 0, err
	}
	if _, err := w.Commit(ctx); err != nil {
		return w, nil, 0, err
	}
	if err := w.ForceMerge(ctx); err != nil {
		return w, nil, 0, err
	}
	r, err = w.Reader()
	return w, r, n, err
}

// BenchmarkRealmix runs aggregations, sorted search and multi-term queries
// on the whole realmix corpus (HERMES_REALMIX=path/to/realmix.jsonl.gz;
// building the index takes a minute or more). The aggregations and sorts
// match every document (265,441), and report documents per CPU-second:
// the per-core rate, which on a shared machine wall time overstates.
func BenchmarkRealmix(b *testing.B) {
	r, n := realmixReader(b)
	ctx := context.Background()
	lenStats := &hermes.StatsAgg{Field: "len"}
	all := "*:*"
	for _, bc := range []struct {
		name string
		req  hermes.SearchRequest
	}{
		{"count", hermes.SearchRequest{Query: all, TotalHitsThreshold: n}},
		{"agg_terms_keyword", hermes.SearchRequest{Query: all, Aggs: map[string]hermes.Aggregation{"t": &hermes.TermsAgg{Field: "source"}}}},
		{"agg_terms_keyword_stats", hermes.SearchRequest{Query: all, Aggs: map[string]hermes.Aggregation{"t": &hermes.TermsAgg{Field: "source", Sub: map[string]*hermes.StatsAgg{"len": lenStats}}}}},
		{"agg_terms_u64", hermes.SearchRequest{Query: all, Aggs: map[string]hermes.Aggregation{"t": &hermes.TermsAgg{Field: "len", Size: 10}}}},
		{"agg_stats", hermes.SearchRequest{Query: all, Aggs: map[string]hermes.Aggregation{"s": lenStats}}},
		{"agg_histogram", hermes.SearchRequest{Query: all, Aggs: map[string]hermes.Aggregation{"h": &hermes.HistogramAgg{Field: "len", Interval: 1000}}}},
		{"agg_range", hermes.SearchRequest{Query: all, Aggs: map[string]hermes.Aggregation{"r": &hermes.RangeAgg{Field: "len", Ranges: []hermes.NumericRange{{From: 0, To: 100}, {From: 100, To: 1000}, {From: 1000, To: 1e12}}}}}},
		{"sort_len_desc_k10", hermes.SearchRequest{Query: all, K: 10, Sort: []hermes.SortField{{Field: "len", Desc: true}}}},
		{"sort_len_k10_offset100", hermes.SearchRequest{Query: all, K: 10, Offset: 100, Sort: []hermes.SortField{{Field: "len"}}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				res, err := r.SearchRequest(ctx, bc.req)
				if err != nil {
					b.Fatal(err)
				}
				if res.Total.Value != n {
					b.Fatalf("total %+v, want %d", res.Total, n)
				}
			}
			docs := float64(n) * float64(b.N)
			b.ReportMetric(docs/b.Elapsed().Seconds()/1e6, "Mdocs/s")
			b.ReportMetric(docs/(cpuTime()-cpu).Seconds()/1e6, "Mdocs/cpu-s")
		})
	}
	// Multi-term queries: parse, expand over the term dictionary, collect
	// the 10 best hits; and a sorted search on a smaller match set.
	for _, bc := range []struct{ name, q string }{
		{"fuzzy1", "text:languge~1"},
		{"fuzzy2", "text:languge~2"},
		{"fuzzy2_long", "text:" + strings.Repeat("language", 38) + "~2"}, // 304 characters: past vellum's DFA
		{"wildcard_infix", "text:lang*age"},
		{"wildcard_leading", "text:*ization"},
		{"regexp", "text:/lang[a-z]*e/"},
		{"regexp_class", `text:/\p{Greek}\pL{2,5}/`},
		{"regexp_any_suffix", "text:/.{3}ology/"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				if _, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: bc.q, K: 10}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()*1e3/float64(b.N), "cpu-ms/op")
		})
	}
	b.Run("sort_len_desc_k10_language", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			if _, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: "text:language", K: 10, Sort: []hermes.SortField{{Field: "len", Desc: true}}}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((cpuTime()-cpu).Seconds()*1e3/float64(b.N), "cpu-ms/op")
	})
}
