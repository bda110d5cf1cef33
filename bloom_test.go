package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

// The persisted primary-key filter covers the committed segments after a
// writer closes, and a corrupt one neither breaks Open nor lets a duplicate
// through: it is rebuilt.
func TestKeyFilterIsPersistedAndRebuiltWhenCorrupt(t *testing.T) {
	dir := storage.NewMem()
	ctx := context.Background()
	w, err := hermes.Create(ctx, dir, testSchema(t), hermes.Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		mustAdd(t, w, doc(fmt.Sprint("k", i), "text"))
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	checkFilterCovers := func(when string) {
		t.Helper()
		f, err := pkindex.Load(dir)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		meta := mustMeta(t, dir)
		covers := f.Covers()
		for _, s := range meta.Segments {
			if !slices.Contains(covers, s.ID) {
				t.Fatalf("%s: %s does not cover segment %s", when, pkindex.FileName, s.ID)
			}
		}
		for i := 0; i < 200; i++ {
			if !f.MayContain([]byte(fmt.Sprint("k", i))) {
				t.Fatalf("%s: the filter lost key k%d", when, i)
			}
		}
	}
	checkFilterCovers("after the first writer")

	if err := dir.WriteAtomic(pkindex.FileName, []byte("not a filter")); err != nil {
		t.Fatal(err)
	}
	w2, err := hermes.Open(ctx, dir, hermes.Config{Workers: 1})
	if err != nil {
		t.Fatalf("a corrupt %s broke Open: %v", pkindex.FileName, err)
	}
	for _, k := range []string{"k0", "k123", "k199"} {
		if err := w2.AddDocument(doc(k, "again")); !errors.Is(err, hermes.ErrDuplicateKey) {
			t.Fatalf("re-adding %s with a corrupt filter: %v, want ErrDuplicateKey", k, err)
		}
	}
	mustAdd(t, w2, doc("new", "fine"))
	if _, err := w2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w2.Close()
	checkFilterCovers("after the rebuild")
}
