package hermes_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/storage"
)

// BenchmarkSmallCommit is the cost of a commit of 10 small documents into a
// file-system directory: fsyncs dominate, so it shows what each commit's
// extra durable writes (its kept generation, the segment-id journal) cost.
func BenchmarkSmallCommit(b *testing.B) {
	dir, err := storage.NewFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	w, err := hermes.Create(ctx, dir, testSchema(b), hermes.Config{Workers: 1, MergePolicy: mergepolicy.NoMerge{}})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range 10 {
			if err := w.AddDocument(doc(fmt.Sprintf("%d-%d", i, j), "a few words of text")); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
