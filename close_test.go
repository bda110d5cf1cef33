package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// returnsSoon fails if f does not return within a minute: the calls below
// must be woken by Close, not by a timeout of their own.
func returnsSoon(t *testing.T, what string, f func() error) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	return done
}

func await(t *testing.T, what string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s still blocked a minute after Close", what)
		return nil
	}
}

// Close wakes every call waiting on the writer: an add waiting for room, a
// prepare waiting for a flush, a force merge.
func TestCloseWakesWaitingCalls(t *testing.T) {
	w, g := gatedWriter(t, hermes.Config{Workers: 1, QueueCapacity: 2, BatchDocs: 1})
	defer g.release()
	// The worker blocks in its first document; then fill the queue.
	if err := w.AddDocument(doc("first", "x")); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	for i := 0; ; i++ {
		if err := w.AddDocument(doc(fmt.Sprint(i), "x")); errors.Is(err, hermes.ErrQueueFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	adding := returnsSoon(t, "AddDocumentWait", func() error { return w.AddDocumentWait(ctx, doc("waiting", "x")) })
	// Nothing returns a credit while the worker is blocked: only Close can
	// wake the add. Close itself finishes once the worker is let go.
	closed := returnsSoon(t, "Close", w.Close)
	if err := await(t, "AddDocumentWait", adding); !errors.Is(err, hermes.ErrClosed) {
		t.Fatalf("AddDocumentWait across Close: %v, want ErrClosed", err)
	}
	g.release()
	if err := await(t, "Close", closed); err != nil {
		t.Fatal(err)
	}
}

// A prepare in flight, waiting for a worker that is blocked, returns
// ErrClosed as soon as Close begins, without waiting for its deadline; the
// worker is released only after that.
func TestClosePreparingWriterReturnsAtOnce(t *testing.T) {
	preparing := make(chan struct{})
	log := slog.New(signalOn{msg: "preparing commit", ch: preparing, once: new(sync.Once)})
	w, g := gatedWriter(t, hermes.Config{Workers: 1, Logger: log})
	defer g.release()
	mustAdd(t, w, doc("1", "blocked"))
	<-g.entered
	prepared := returnsSoon(t, "PrepareCommit", func() error { _, err := w.PrepareCommit(context.Background()); return err })
	<-preparing // the prepare is in flight; the default deadline is 300 s
	merging := returnsSoon(t, "WaitForMerges", func() error { return w.WaitForMerges(context.Background()) })
	closed := returnsSoon(t, "Close", w.Close)
	if err := await(t, "PrepareCommit", prepared); !errors.Is(err, hermes.ErrClosed) {
		t.Fatalf("PrepareCommit during Close: %v, want ErrClosed", err)
	}
	g.release() // Close waits for the worker's actor to stop
	if err := await(t, "Close", closed); err != nil {
		t.Fatal(err)
	}
	_ = await(t, "WaitForMerges", merging)
}

// signalOn is a log handler that closes ch when a record with message msg
// is logged.
type signalOn struct {
	msg  string
	ch   chan struct{}
	once *sync.Once
}

func (h signalOn) Enabled(context.Context, slog.Level) bool { return true }
func (h signalOn) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.ch) })
	}
	return nil
}
func (h signalOn) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalOn) WithGroup(string) slog.Handler      { return h }

// A Reader handed out by a writer keeps its snapshot after the writer
// closes.
func TestReaderOutlivesItsWriter(t *testing.T) {
	dir := storage.NewMem()
	w := create(t, dir, hermes.Config{Workers: 2})
	mustAdd(t, w, doc("a", "still here"))
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	hits, err := r.Search(context.Background(), "still", 10)
	if err != nil || len(hits) != 1 {
		t.Fatalf("search after the writer closed: %d hits, %v", len(hits), err)
	}
	r.Close()
	if _, err := r.Search(context.Background(), "still", 10); !errors.Is(err, hermes.ErrClosed) {
		t.Fatalf("Search on a closed reader: %v, want ErrClosed", err)
	}
	if _, err := r.Count(context.Background(), "still"); !errors.Is(err, hermes.ErrClosed) {
		t.Fatalf("Count on a closed reader: %v, want ErrClosed", err)
	}
}

// Concurrent upserts of one key leave exactly one document, whichever wins.
func TestConcurrentUpsertsOfOneKey(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2, OnDuplicate: hermes.ReplaceDuplicates})
	const keys = 500
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < keys; k++ {
				if err := w.AddDocumentWait(context.Background(), doc(fmt.Sprint("k", k), fmt.Sprint("from ", g))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := committedIDs(t, w)
	if len(got) != keys {
		t.Fatalf("%d keys in the index, want %d", len(got), keys)
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("key %s is in the index %d times", k, n)
		}
	}
}

// Create refuses a directory whose index it cannot read, instead of
// writing over it (and deleting its segments as orphans).
func TestCreateRefusesADamagedIndex(t *testing.T) {
	dir := storage.NewMem()
	w := create(t, dir, hermes.Config{Workers: 1})
	mustAdd(t, w, doc("a", "precious"))
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	data, err := storage.ReadAll(dir, storage.MetadataFile)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := dir.WriteAtomic(storage.MetadataFile, data); err != nil {
		t.Fatal(err)
	}
	before, _ := dir.List()
	if _, err := hermes.Create(context.Background(), dir, testSchema(t), hermes.Config{}); err == nil {
		t.Fatal("Create wrote over a damaged index")
	} else if !errors.Is(err, storage.ErrCorrupt) {
		t.Fatalf("Create over a damaged index: %v, want an error wrapping storage.ErrCorrupt", err)
	}
	after, _ := dir.List()
	if len(after) != len(before) {
		t.Fatalf("Create deleted files of the damaged index: %d before, %d after", len(before), len(after))
	}
}

// A prepare that cannot flush in time fails with ErrPrepareFailed, says
// which worker it waited for, and loses nothing: the next commit has it.
func TestPrepareDeadlineNamesTheWorkerAndLosesNothing(t *testing.T) {
	w, g := gatedWriter(t, hermes.Config{Workers: 1, FlushDeadline: 200 * time.Millisecond})
	defer w.Close()
	defer g.release()
	mustAdd(t, w, doc("slow", "blocked in the tokenizer"))
	<-g.entered
	_, err := w.PrepareCommit(context.Background())
	if !errors.Is(err, hermes.ErrPrepareFailed) {
		t.Fatalf("PrepareCommit past its deadline: %v, want ErrPrepareFailed", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "deadline") || !strings.Contains(msg, "waits for workers [0]") {
		t.Fatalf("the deadline error does not say what it waited for: %v", err)
	}
	g.release()
	res, err := w.Commit(context.Background())
	if err != nil || res.Docs != 1 {
		t.Fatalf("commit after the failed prepare: %+v, %v; want the 1 document", res, err)
	}
}
