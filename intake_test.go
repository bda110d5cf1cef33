package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
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

// Which commit a document belongs to, under concurrency: adders record an
// epoch before and after each add; the committer moves the epoch to 2k+1
// before PrepareCommit k and to 2k+2 after it returns, then commits or
// aborts. A document added entirely between prepare k-1's return and
// prepare k's start belongs to prepare k: present at the end exactly when
// k committed. Every other document is in the index at most once, and
// present when every prepare it straddles committed (one of them aborted
// may have taken it).
func TestDocumentsBelongToTheCommitAfterTheirAdd(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2, QueueCapacity: 400})
	ctx := context.Background()
	var epoch atomic.Int64
	type span struct{ start, end int64 }
	var mu sync.Mutex
	spans := map[string]span{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 600; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("g%d-%d", g, i)
				start := epoch.Load()
				if err := w.AddDocumentWait(ctx, doc(id, wordsFor(i))); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				spans[id] = span{start, epoch.Load()}
				mu.Unlock()
			}
		}()
	}
	const prepares = 8
	committed := make([]bool, prepares+2) // by prepare number; the last is the final commit
	for k := 1; k <= prepares; k++ {
		epoch.Store(int64(2*k - 1))
		p, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		epoch.Store(int64(2 * k))
		if k%3 == 0 {
			err = p.Abort()
		} else {
			_, err = p.Commit(ctx)
			committed[k] = true
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	epoch.Store(2*prepares + 1)
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	committed[prepares+1] = true
	got := committedIDs(t, w)
	// An add that began at epoch 2j (prepare j had returned) belongs to
	// prepare j+1 at the earliest; one that began at 2j-1 (prepare j was
	// under way) may still be in j. An add that returned at epoch 2j or
	// 2j-1 belongs to prepare j+1 at the latest.
	earliest := func(e int64) int {
		if e%2 == 0 {
			return int(e/2) + 1
		}
		return int(e+1) / 2
	}
	latest := func(e int64) int { return int(e+1)/2 + 1 }
	for id, s := range spans {
		first, last := earliest(s.start), latest(s.end)
		switch {
		case got[id] > 1:
			t.Fatalf("%s is in the index %d times", id, got[id])
		case first == last && committed[first] != (got[id] == 1):
			t.Fatalf("%s, added within prepare %d, is in the index %d times; prepare %d committed: %v", id, first, got[id], first, committed[first])
		case !slices.Contains(committed[first:last+1], false) && got[id] != 1:
			t.Fatalf("%s (added across prepares %d..%d, all committed) is missing", id, first, last)
		}
	}
}

// No accepted document waits for later ones on its way to the workers
// (adds send in groups, and a group never waits for more documents): with
// room for 8 documents in the queue, adds need earlier documents to reach
// the workers, so documents left behind would stop the adders until the
// deadline, and one left behind by the last adds would be missing from the
// commit.
func TestEveryAcceptedDocumentReachesAWorkerWithoutMoreAdds(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2, QueueCapacity: 8})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if err := w.AddDocumentWait(ctx, doc(fmt.Sprintf("g%d-%d", g, i), wordsFor(i))); err != nil {
					t.Errorf("goroutine %d, add %d: %v (an accepted document never reached a worker)", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Docs != 800 {
		t.Fatalf("the commit holds %d documents, want 800", res.Docs)
	}
}

// AddDocuments adds in order up to the first refused document, and only
// those: a duplicate key or an invalid document stops it with its error.
func TestAddDocumentsStopsAtTheFirstRefusal(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2})
	n, err := w.AddDocuments([]*hermes.Document{doc("a", "x"), doc("b", "x"), doc("a", "dup"), doc("c", "never")})
	var dup *hermes.DuplicateKeyError
	if n != 2 || !errors.As(err, &dup) || dup.Key != "a" {
		t.Fatalf("AddDocuments with a duplicate third = %d, %v; want 2 and a DuplicateKeyError for a", n, err)
	}
	n, err = w.AddDocuments([]*hermes.Document{doc("c", "x"), doc("d", "bad \xff utf8"), doc("e", "never")})
	var de *segment.DocumentError
	if n != 1 || !errors.As(err, &de) {
		t.Fatalf("AddDocuments with an invalid second = %d, %v; want 1 and a DocumentError", n, err)
	}
	if n, err := w.AddDocuments([]*hermes.Document{doc("d", "x"), doc("e", "x")}); n != 2 || err != nil {
		t.Fatalf("AddDocuments = %d, %v; want 2, nil", n, err)
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, w, "after the commit", map[string]string{"a": "x", "b": "x", "c": "x", "d": "x", "e": "x"})
}

// Goroutines that add the same keys at once, after a commit, find exactly
// the duplicates a lone caller would: a committed key is refused to all (or,
// upserting, replaced, so that it stays once), and of the adds of a new key
// exactly one is accepted. Keys ask the committed segments outside their
// shard's lock, so an add of the key can come in between; this is the race
// that must change nothing.
func TestConcurrentAddsOfOneKeyAfterACommit(t *testing.T) {
	const committed, fresh, goroutines = 100, 300, 4
	for _, upsert := range []bool{false, true} {
		t.Run(fmt.Sprintf("upsert=%v", upsert), func(t *testing.T) {
			cfg := hermes.Config{Workers: 2}
			if upsert {
				cfg.OnDuplicate = hermes.ReplaceDuplicates
			}
			w := create(t, storage.NewMem(), cfg)
			ctx := context.Background()
			for k := range committed {
				mustAdd(t, w, doc(fmt.Sprint("c", k), "first"))
			}
			if _, err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			var accepted [committed + fresh]atomic.Int32
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range committed + fresh {
						// Each goroutine walks the keys from another start, so
						// that they meet on every key.
						k := (i + g*(committed+fresh)/goroutines) % (committed + fresh)
						id := fmt.Sprint("c", k)
						if k >= committed {
							id = fmt.Sprint("n", k)
						}
						err := w.AddDocumentWait(ctx, doc(id, fmt.Sprint("from ", g)))
						switch {
						case err == nil:
							accepted[k].Add(1)
						case !errors.Is(err, hermes.ErrDuplicateKey):
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			for k := range committed + fresh {
				want := int32(1)
				if k < committed {
					want = 0
				}
				if upsert {
					want = goroutines
				}
				if got := accepted[k].Load(); got != want {
					t.Fatalf("key %d: %d adds accepted, want %d", k, got, want)
				}
			}
			if _, err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			got := committedIDs(t, w)
			if len(got) != committed+fresh {
				t.Fatalf("%d keys in the index, want %d", len(got), committed+fresh)
			}
			for id, n := range got {
				if n != 1 {
					t.Fatalf("key %s is in the index %d times", id, n)
				}
			}
		})
	}
}

// AddDocuments given more documents than the queue has room for adds as
// many as fit, in order, and returns ErrQueueFull; one that stops at a
// refusal (a duplicate, invalid UTF-8) leaves the room of the documents
// after it free: what fits afterwards is exactly what is left. At a full
// queue, a first document of invalid UTF-8 is refused as such, as
// AddDocument refuses it.
func TestAddDocumentsTakesTheRoomThereIs(t *testing.T) {
	const capacity = 10
	w, g := gatedWriter(t, hermes.Config{Workers: 1, QueueCapacity: capacity, BatchDocs: 5})
	defer w.Close()
	defer g.release()
	if err := w.AddDocument(doc("first", "blocks the worker")); err != nil {
		t.Fatal(err)
	}
	<-g.entered // from now on no document leaves the queue

	n, err := w.AddDocuments([]*hermes.Document{doc("a", "x"), doc("b", "x"), doc("a", "dup"), doc("never", "x")})
	if n != 2 || !errors.Is(err, hermes.ErrDuplicateKey) {
		t.Fatalf("AddDocuments with a duplicate third = %d, %v; want 2 and a duplicate", n, err)
	}
	n, err = w.AddDocuments([]*hermes.Document{doc("c", "x"), doc("bad", "bad \xff utf8"), doc("never", "x")})
	var de *segment.DocumentError
	if n != 1 || !errors.As(err, &de) {
		t.Fatalf("AddDocuments with an invalid second = %d, %v; want 1 and a DocumentError", n, err)
	}
	var more []*hermes.Document
	for i := range capacity {
		more = append(more, doc(fmt.Sprint("d", i), "x"))
	}
	left := capacity - 3
	if n, err := w.AddDocuments(more); n != left || !errors.Is(err, hermes.ErrQueueFull) {
		t.Fatalf("AddDocuments of %d with room for %d = %d, %v; want %d, ErrQueueFull", len(more), left, n, err, left)
	}
	if n, err := w.AddDocuments([]*hermes.Document{doc("bad", "bad \xff utf8"), doc("never", "x")}); n != 0 || !errors.As(err, &de) {
		t.Fatalf("AddDocuments at a full queue, invalid first = %d, %v; want 0 and a DocumentError", n, err)
	}
	if n, err := w.AddDocuments(more[left:]); n != 0 || !errors.Is(err, hermes.ErrQueueFull) {
		t.Fatalf("AddDocuments at a full queue = %d, %v; want 0, ErrQueueFull", n, err)
	}

	g.release()
	// The keys of the documents that found no room were not taken.
	for _, d := range more[left:] {
		if err := w.AddDocumentWait(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := committedIDs(t, w)
	if res.Docs != 1+3+capacity || len(got) != 1+3+capacity || got["a"] != 1 || got["never"] != 0 || got["bad"] != 0 {
		t.Fatalf("committed %d documents, ids %v; want first, a, b, c and d0-d%d", res.Docs, got, capacity-1)
	}
}

// AddDocument and AddDocumentWait name a document's invalid UTF-8 before
// a full queue (AddDocumentWait does not wait for room for it) and before
// a closed writer, and one refused takes no room in the queue.
func TestAddDocumentNamesInvalidUTF8First(t *testing.T) {
	const capacity = 2
	w, g := gatedWriter(t, hermes.Config{Workers: 1, QueueCapacity: capacity, BatchDocs: 1})
	defer g.release()
	if err := w.AddDocument(doc("first", "blocks the worker")); err != nil {
		t.Fatal(err)
	}
	<-g.entered // from now on no document leaves the queue
	var de *segment.DocumentError
	if err := w.AddDocument(doc("bad", "bad \xff utf8")); !errors.As(err, &de) {
		t.Fatalf("invalid UTF-8 with room: %v; want a DocumentError", err)
	}
	for i := range capacity {
		if err := w.AddDocument(doc(fmt.Sprint("d", i), "x")); err != nil {
			t.Fatalf("add %d of %d: %v", i+1, capacity, err)
		}
	}
	if err := w.AddDocument(doc("bad", "bad \xff utf8")); !errors.As(err, &de) {
		t.Fatalf("invalid UTF-8 at a full queue: %v; want a DocumentError", err)
	}
	if err := w.AddDocumentWait(context.Background(), doc("bad", "bad \xff utf8")); !errors.As(err, &de) {
		t.Fatalf("AddDocumentWait, invalid UTF-8 at a full queue: %v; want a DocumentError", err)
	}
	if err := w.AddDocument(doc("full", "x")); !errors.Is(err, hermes.ErrQueueFull) {
		t.Fatalf("a full queue: %v; want ErrQueueFull", err)
	}
	g.release()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.AddDocument(doc("bad", "bad \xff utf8")); !errors.As(err, &de) {
		t.Fatalf("invalid UTF-8 after Close: %v; want a DocumentError", err)
	}
	if _, err := w.AddDocuments([]*hermes.Document{doc("bad", "bad \xff utf8")}); !errors.As(err, &de) {
		t.Fatalf("AddDocuments, invalid UTF-8 after Close: %v; want a DocumentError", err)
	}
	if err := w.AddDocument(doc("late", "x")); !errors.Is(err, hermes.ErrClosed) {
		t.Fatalf("after Close: %v; want ErrClosed", err)
	}
}
