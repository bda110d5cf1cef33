package hermes_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/internal/corpus"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// BenchmarkWriter indexes realmix documents through the whole writer
// (validation, actors, workers, segment builds, commit) into a file-system
// directory. The full-corpus figures with peak RSS come from `hermes bench`.
func BenchmarkWriter(b *testing.B) {
	s := corpus.Schema(true)
	docs, bytes := corpus.Realmix(b, s, 50_000)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(bytes)
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				dir, err := storage.NewFS(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				w, err := hermes.Create(ctx, dir, s, hermes.Config{Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				for _, d := range docs {
					if err := w.AddDocumentWait(ctx, d); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Commit(ctx); err != nil {
					b.Fatal(err)
				}
				w.Close()
			}
			b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkDedup measures what primary-key dedup costs on the add path: the
// same documents with and without a primary key, half of them added after a
// commit so that the committed check (bloom filter, then term dictionary)
// runs too. "realmix" cycles the first 50,000 corpus documents under fresh
// ids; "tiny" is five-word documents, the worst case, where dedup is a large
// share of the little work per document. `-benchtime 1000000x` gives the
// 1M-document figures.
func BenchmarkDedup(b *testing.B) {
	corpusSchema := corpus.Schema(false)
	realDocs, _ := corpus.Realmix(b, corpusSchema, 50_000)
	corpora := []struct {
		name string
		doc  func(i int) *hermes.Document
	}{
		{"realmix", func(i int) *hermes.Document {
			src := realDocs[i%len(realDocs)]
			d := &hermes.Document{Values: append([]segment.FieldValue(nil), src.Values...)}
			for j := range d.Values {
				if d.Values[j].Field == "id" {
					d.Values[j].Str = fmt.Sprint(d.Values[j].Str, "/", i/len(realDocs))
				}
			}
			return d
		}},
		{"tiny", func(i int) *hermes.Document {
			return new(hermes.Document).AddString("id", fmt.Sprint("doc-", i)).AddString("text", "a short body of words")
		}},
	}
	for _, c := range corpora {
		for _, withKey := range []bool{false, true} {
			name := c.name + "/without-key"
			if withKey {
				name = c.name + "/with-key"
			}
			b.Run(name, func(b *testing.B) {
				s := corpus.Schema(withKey)
				ctx := context.Background()
				w, err := hermes.Create(ctx, storage.NewMem(), s, hermes.Config{Workers: 2})
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := w.AddDocumentWait(ctx, c.doc(i)); err != nil {
						b.Fatal(err)
					}
					if i == b.N/2 {
						if _, err := w.Commit(ctx); err != nil {
							b.Fatal(err)
						}
					}
				}
				if _, err := w.Commit(ctx); err != nil {
					b.Fatal(err)
				}
				// The filter is saved in the background of a service;
				// Close waits for it, outside the measure.
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
			})
		}
	}
}
