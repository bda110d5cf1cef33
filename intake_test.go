package hermes_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

func wantBodies(t *testing.T, w *hermes.Writer, when string, want map[string]string) {
	t.Helper()
	got := bodies(t, w)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: the index holds %v, want %v", when, got, want)
	}
}

// Intake stays open while a commit is prepared: adds, upserts and deletes
// made then go to the next commit, in their order relative to the ones
// before the cut.
func TestAddsDuringACommitGoToTheNext(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2, OnDuplicate: hermes.ReplaceDuplicates})
	ctx := context.Background()
	mustAdd(t, w, doc("a", "v1"))
	mustAdd(t, w, doc("b", "v1"))
	p, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, w, doc("a", "v2")) // replaces the prepared a
	if err := w.DeleteByKey("b"); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, w, doc("c", "v1"))
	if _, err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, w, "after the prepared commit", map[string]string{"a": "v1", "b": "v1"})
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, w, "after the next commit", map[string]string{"a": "v2", "c": "v1"})
}

// An add made during a prepared commit on the strength of a delete before
// its cut survives the commit's abort, and replaces the committed document:
// its key stays unique.
func TestAbortKeepsLaterAddsAndKeysUnique(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2})
	ctx := context.Background()
	mustAdd(t, w, doc("a", "v1"))
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
	mustAdd(t, w, doc("a", "v2")) // no duplicate: a is deleted
	if err := p.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, w, "after the abort and the next commit", map[string]string{"a": "v2"})
	if err := w.AddDocument(doc("a", "v3")); err == nil {
		t.Fatal("a third a was accepted: the key is committed")
	}
}

// Adders and a committer run at once: every document whose add returned
// before a PrepareCommit began is in that commit, none is refused, and in
// the end each is in the index exactly once.
func TestConcurrentAddsAndCommits(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2, QueueCapacity: 500})
	ctx := context.Background()
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 400; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("g%d-%d", g, i)
				if err := w.AddDocumentWait(ctx, doc(id, wordsFor(i))); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		}()
	}
	for c := 0; c < 8; c++ {
		mu.Lock()
		before := maps.Clone(acked)
		mu.Unlock()
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		got := committedIDs(t, w)
		for id := range before {
			if got[id] != 1 {
				t.Fatalf("commit %d: %s, added before it began, is in the index %d times", c, id, got[id])
			}
		}
	}
	close(stop)
	wg.Wait()
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := committedIDs(t, w)
	if len(got) != len(acked) {
		t.Fatalf("the index holds %d documents, %d were added", len(got), len(acked))
	}
	for id := range acked {
		if got[id] != 1 {
			t.Fatalf("%s is in the index %d times", id, got[id])
		}
	}
}
