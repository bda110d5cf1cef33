package hermes_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// BenchmarkQueryLanguage times the query kinds on an existing index, named
// by HERMES_BENCH_INDEX (build one with: hermes index --index DIR --input
// realmix.jsonl.gz). Each iteration parses the query, expands it over the
// term dictionaries and collects the 10 best hits.
func BenchmarkQueryLanguage(b *testing.B) {
	path := os.Getenv("HERMES_BENCH_INDEX")
	if path == "" {
		b.Skip("HERMES_BENCH_INDEX is not set")
	}
	ctx := context.Background()
	dir, err := storage.NewFS(path)
	if err != nil {
		b.Fatal(err)
	}
	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, bc := range []struct{ name, q string }{
		{"term", "text:language"},
		{"fuzzy1", "text:languge~1"},
		{"fuzzy2", "text:languge~2"},
		{"fuzzy2_short", "text:cat~2"},
		{"fuzzy2_long", "text:" + strings.Repeat("language", 38) + "~2"}, // 304 characters: past vellum's DFA
		{"prefix", "text:prog*"},
		{"wildcard_infix", "text:lang*age"},
		{"wildcard_leading", "text:*ization"},
		{"wildcard_single", "text:pro?ram"},
		{"regexp", "text:/lang[a-z]*e/"},
		{"regexp_class", `text:/\p{Greek}\pL{2,5}/`},
		{"regexp_any_suffix", "text:/.{3}ology/"},
		{"regexp_letters", `text:/\pL{2,5}q/`},
		{"phrase", `text:"search engine"`},
		{"phrase_slop2", `text:"search engine"~2`},
		{"boosted_or", "title:language^2 text:language"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q, err := r.ParseQuery(bc.q)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := r.SearchQuery(ctx, q, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
