package hermes_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/supervisor"
)

func bodies(t *testing.T, w *hermes.Writer) map[string]string {
	t.Helper()
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[string]string{}
	for id := range ids(t, r) {
		hits, err := r.Search(context.Background(), "id:"+id, 2)
		if err != nil || len(hits) != 1 {
			t.Fatalf("id:%s: %d hits, %v", id, len(hits), err)
		}
		d, err := hits[0].Document(context.Background(), "body")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := d.Get("body")
		got[id] = b.Str
	}
	return got
}

func TestDeleteByKey(t *testing.T) {
	dir := storage.NewMem()
	// One worker: a, b and c share a segment, so deleting a leaves a
	// deleted document behind (a segment left empty would be dropped).
	// No background merge: it would drop the deleted document counted below.
	w := create(t, dir, hermes.Config{Workers: 1, MergePolicy: mergepolicy.NoMerge{}})
	ctx := context.Background()
	mustAdd(t, w, doc("a", "first a"))
	mustAdd(t, w, doc("b", "first b"))
	mustAdd(t, w, doc("c", "first c"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Delete a committed document and a pending one; re-add a deleted key.
	mustAdd(t, w, doc("d", "pending d"))
	for _, k := range []string{"a", "d"} {
		if err := w.DeleteByKey(k); err != nil {
			t.Fatal(err)
		}
	}
	mustAdd(t, w, doc("a", "second a")) // no duplicate after the delete
	if err := w.DeleteByKey("nobody"); err != nil {
		t.Fatal(err)
	}
	if st, err := w.Stats(ctx); err != nil || st.UncommittedKeyBytes < int64(len("a")+len("d")+len("nobody")) {
		t.Fatalf("stats before the commit: %d bytes of uncommitted keys, %v; want them counted", st.UncommittedKeyBytes, err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := w.Stats(ctx); err != nil || st.UncommittedKeyBytes != 0 {
		t.Fatalf("stats after the commit: %d bytes of uncommitted keys, %v; want 0", st.UncommittedKeyBytes, err)
	}
	want := map[string]string{"a": "second a", "b": "first b", "c": "first c"}
	if got := bodies(t, w); len(got) != len(want) || got["a"] != want["a"] || got["d"] != "" {
		t.Fatalf("after deletes: %v, want %v", got, want)
	}
	st, err := w.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.LiveDocs != 3 || st.DeletedDocs < 1 {
		t.Fatalf("stats: %d live, %d deleted; want 3 live and the old a deleted", st.LiveDocs, st.DeletedDocs)
	}
	// A merge drops the deleted documents.
	if err := w.ForceMerge(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ = w.Stats(ctx)
	if st.LiveDocs != 3 || st.DeletedDocs != 0 {
		t.Fatalf("after ForceMerge: %d live, %d deleted; want 3 and 0", st.LiveDocs, st.DeletedDocs)
	}
	if got := bodies(t, w); got["a"] != "second a" || len(got) != 3 {
		t.Fatalf("after ForceMerge: %v", got)
	}
	// Deletes survive reopening.
	w.Close()
	w2, err := hermes.Open(ctx, dir, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if got := bodies(t, w2); len(got) != 3 || got["a"] != "second a" {
		t.Fatalf("after reopening: %v", got)
	}
	if err := w2.DeleteByKey(3.5); err == nil {
		t.Fatal("DeleteByKey took a float key")
	}
}

func TestAbortDiscardsDeletes(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 1})
	ctx := context.Background()
	mustAdd(t, w, doc("a", "kept"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteByKey("a"); err != nil {
		t.Fatal(err)
	}
	p, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bodies(t, w); got["a"] != "kept" {
		t.Fatalf("an aborted delete took effect: %v", got)
	}
	// After the aborted delete, the key is a duplicate again.
	if err := w.AddDocument(doc("a", "again")); !errors.Is(err, hermes.ErrDuplicateKey) {
		t.Fatalf("re-adding a key whose delete was aborted: %v, want ErrDuplicateKey", err)
	}
}

func TestUpsertReplacesTheOlderDocument(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 3, OnDuplicate: hermes.ReplaceDuplicates})
	ctx := context.Background()
	mustAdd(t, w, doc("a", "v1"))
	mustAdd(t, w, doc("b", "v1"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Replace a committed document twice in one commit, and a new one
	// added in the same commit: the last version wins each time, whichever
	// worker indexed which version.
	mustAdd(t, w, doc("a", "v2"))
	mustAdd(t, w, doc("a", "v3"))
	mustAdd(t, w, doc("c", "v1"))
	mustAdd(t, w, doc("c", "v2"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "v3", "b": "v1", "c": "v2"}
	got := bodies(t, w)
	if len(got) != len(want) {
		t.Fatalf("after upserts: %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("after upserts: %v, want %v", got, want)
		}
	}
}

// A commit with deletes that fails before its metadata is written leaves a
// deletes file behind; the same deletes must commit after reopening.
func TestDeletesCommitAfterAFailedCommit(t *testing.T) {
	dir := storage.NewFaulty(7)
	ctx := context.Background()
	w, err := hermes.Create(ctx, dir, testSchema(t), hermes.Config{Workers: 1, MergePolicy: mergepolicy.NoMerge{}})
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, w, doc("a", "one"))
	mustAdd(t, w, doc("b", "two"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteByKey("a"); err != nil {
		t.Fatal(err)
	}
	dir.OnOp(func(op storage.Op, name string) error {
		if op == storage.OpRename && name == storage.MetadataFile {
			return errors.New("injected: metadata rename refused")
		}
		return nil
	})
	if _, err := w.Commit(ctx); !errors.Is(err, hermes.ErrWriterFailed) {
		t.Fatalf("commit with a refused metadata write: %v, want ErrWriterFailed", err)
	}
	dir.OnOp(nil)
	w.Close()
	for attempt := 0; attempt < 2; attempt++ {
		w, err = hermes.Open(ctx, dir, hermes.Config{Workers: 1, MergePolicy: mergepolicy.NoMerge{}})
		if err != nil {
			t.Fatal(err)
		}
		if got := bodies(t, w); len(got) != 2 {
			t.Fatalf("reopened after the failed commit: %v, want a and b", got)
		}
		if attempt == 1 {
			break
		}
		if err := w.DeleteByKey("a"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatalf("retrying the deletes: %v", err)
		}
		if got := bodies(t, w); len(got) != 1 || got["b"] != "two" {
			t.Fatalf("after the retried delete: %v, want only b", got)
		}
		// Undo for the reopen check below: the index now holds b only.
		mustAdd(t, w, doc("a", "one"))
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	w.Close()
}

// poison is a tokenizer that panics on text holding "POISON".
type poison struct{ inner analysis.Tokenizer }

func (p poison) Tokenize(text string, emit func(analysis.Token)) {
	if strings.Contains(text, "POISON") {
		panic("poison document")
	}
	p.inner.Tokenize(text, emit)
}

// An upsert whose new version is rejected (it crashed workers MaxCrashes
// times) replaces nothing: the older version stays, as an add that fails
// leaves the index as it was. A later good version in the same commit
// still replaces it.
func TestRejectedUpsertKeepsTheOlderDocument(t *testing.T) {
	reg := analysis.NewRegistry()
	inner, err := reg.Get("simple")
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register("poison", poison{inner}); err != nil {
		t.Fatal(err)
	}
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Tokenizer: "poison"},
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), s, hermes.Config{
		Workers: 1, OnDuplicate: hermes.ReplaceDuplicates, Tokenizers: reg,
		WorkerBackoff: supervisor.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mustAdd(t, w, doc("a", "v1"))
	mustAdd(t, w, doc("b", "v1"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, w, doc("a", "v2 POISON"))
	mustAdd(t, w, doc("b", "v2 POISON"))
	mustAdd(t, w, doc("b", "v3"))
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 2 {
		t.Fatalf("rejected %d documents, want the 2 poison versions", len(res.Rejected))
	}
	want := map[string]string{"a": "v1", "b": "v3"}
	if got := bodies(t, w); !maps.Equal(got, want) {
		t.Fatalf("after rejected upserts: %v, want %v", got, want)
	}
	// The key is the committed document's again: an upsert replaces it.
	mustAdd(t, w, doc("a", "v4"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bodies(t, w); got["a"] != "v4" {
		t.Fatalf("after upserting a again: %v", got)
	}
}
