package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

func testSchema(t testing.TB) *hermes.Schema {
	t.Helper()
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func doc(id, body string) *hermes.Document {
	return new(hermes.Document).AddString("id", id).AddString("body", body)
}

func create(t testing.TB, dir storage.Directory, cfg hermes.Config) *hermes.Writer {
	t.Helper()
	w, err := hermes.Create(context.Background(), dir, testSchema(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// ids returns every stored id the reader sees, with its count.
func ids(t testing.TB, r *hermes.Reader) map[string]int {
	t.Helper()
	hits, err := r.SearchQuery(context.Background(), query.All{}, r.NumDocs()+10)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, h := range hits {
		out[h.Key.Str]++
	}
	return out
}

func committedIDs(t testing.TB, w *hermes.Writer) map[string]int {
	t.Helper()
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return ids(t, r)
}

// gate is a tokenizer that blocks every worker until opened, so tests can
// hold documents in the queue deterministically.
type gate struct {
	open    chan struct{}
	once    sync.Once
	entered chan struct{} // closed when a worker first blocks in it
	enter   sync.Once
	inner   analysis.Tokenizer
}

func newGate(t testing.TB) *gate {
	inner, err := analysis.NewRegistry().Get("simple")
	if err != nil {
		t.Fatal(err)
	}
	return &gate{open: make(chan struct{}), entered: make(chan struct{}), inner: inner}
}

func (g *gate) Tokenize(text string, emit func(analysis.Token)) {
	g.enter.Do(func() { close(g.entered) })
	<-g.open
	g.inner.Tokenize(text, emit)
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// gatedWriter creates a writer whose body field goes through a gate: its
// workers block in their first document until the gate is released. The
// caller closes the writer (after releasing the gate).
func gatedWriter(t *testing.T, cfg hermes.Config) (*hermes.Writer, *gate) {
	t.Helper()
	g := newGate(t)
	cfg.Tokenizers = analysis.NewRegistry()
	if err := cfg.Tokenizers.Register("gate", g); err != nil {
		t.Fatal(err)
	}
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Tokenizer: "gate"},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(context.Background(), storage.NewMem(), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w, g
}

func TestAddNeverBlocksAndReturnsQueueFullAtCapacity(t *testing.T) {
	const capacity, batch = 20, 5
	w, g := gatedWriter(t, hermes.Config{Workers: 1, QueueCapacity: capacity, BatchDocs: batch})
	defer w.Close()
	defer g.release()

	// The one worker blocks inside a first document; from then on no
	// document leaves the queue, so exactly capacity adds fit, and every
	// add must return (this test would hang otherwise).
	if err := w.AddDocument(doc("first", "blocks the worker")); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	added := 0
	for ; added <= capacity+batch; added++ {
		err := w.AddDocument(doc(fmt.Sprint("d", added), "some words"))
		if errors.Is(err, hermes.ErrQueueFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if added != capacity {
		t.Fatalf("queue full after %d adds; want %d", added, capacity)
	}
	// A failed add rolls its key back: the same key is accepted later.
	failedKey := fmt.Sprint("d", added)
	if err := w.AddDocument(doc(failedKey, "x")); !errors.Is(err, hermes.ErrQueueFull) {
		t.Fatalf("second add at capacity: %v, want ErrQueueFull", err)
	}
	n, err := w.AddDocuments([]*hermes.Document{doc("z1", "a"), doc("z2", "b")})
	if n != 0 || !errors.Is(err, hermes.ErrQueueFull) {
		t.Fatalf("AddDocuments at capacity = %d, %v; want 0, ErrQueueFull", n, err)
	}

	// AddDocumentWait waits for room and honours its context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.AddDocumentWait(ctx, doc(failedKey, "x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("AddDocumentWait with a cancelled context: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.AddDocumentWait(context.Background(), doc(failedKey, "late")) }()
	g.release()
	if err := <-done; err != nil {
		t.Fatalf("AddDocumentWait after room was made: %v", err)
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + added + 1; res.Docs != want { // first, the queue, the late one
		t.Fatalf("committed %d docs, want %d", res.Docs, want)
	}
	got := committedIDs(t, w)
	if len(got) != added+2 || got[failedKey] != 1 {
		t.Fatalf("index holds %d ids (%q: %d); want %d, the late key once", len(got), failedKey, got[failedKey], added+2)
	}
}

func TestCommitAfterManyFlushes(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2, MaxIndexingMemory: 1 << 20})
	const n = 4000
	for i := 0; i < n; i++ {
		if err := w.AddDocumentWait(context.Background(), doc(fmt.Sprint("doc-", i), wordsFor(i))); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Docs != n || res.Segments < 3 {
		t.Fatalf("commit: %d docs in %d segments; want %d docs in several segments (1 MiB budget)", res.Docs, res.Segments, n)
	}
	got := committedIDs(t, w)
	for i := 0; i < n; i++ {
		if c := got[fmt.Sprint("doc-", i)]; c != 1 {
			t.Fatalf("doc-%d found %d times", i, c)
		}
	}
}

func TestAbortLeavesPreviousCommitIntact(t *testing.T) {
	dir := storage.NewMem()
	w := create(t, dir, hermes.Config{Workers: 2})
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		mustAdd(t, w, doc(fmt.Sprint("keep-", i), "kept words"))
	}
	first, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		mustAdd(t, w, doc(fmt.Sprint("drop-", i), "dropped words"))
	}
	p, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Result().Docs != 30 {
		t.Fatalf("prepared %d docs, want 30", p.Result().Docs)
	}
	// Intake stays open: this add goes to the next commit, not the aborted
	// one, and the prepared keys are still taken.
	if err := w.AddDocument(doc("during", "x")); err != nil {
		t.Fatalf("add during a prepared commit: %v", err)
	}
	if err := w.AddDocument(doc("drop-1", "x")); !errors.Is(err, hermes.ErrDuplicateKey) {
		t.Fatalf("add of a prepared key during the prepared commit: %v, want ErrDuplicateKey", err)
	}
	if _, err := w.PrepareCommit(ctx); !errors.Is(err, hermes.ErrCommitInProgress) {
		t.Fatalf("second PrepareCommit: %v, want ErrCommitInProgress", err)
	}
	if err := p.Abort(); err != nil {
		t.Fatal(err)
	}
	got := committedIDs(t, w)
	if len(got) != 50 || got["drop-0"] != 0 {
		t.Fatalf("after abort the index holds %d ids (drop-0: %d); want the 50 committed", len(got), got["drop-0"])
	}
	// Aborted keys are free again; the add made during the prepared
	// commit survives its abort.
	mustAdd(t, w, doc("drop-0", "again"))
	second, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := committedIDs(t, w); len(got) != 52 || got["during"] != 1 || got["drop-0"] != 1 {
		t.Fatalf("after the next commit the index holds %d ids (during: %d, drop-0: %d); want 52", len(got), got["during"], got["drop-0"])
	}
	if second.Generation <= first.Generation {
		t.Fatalf("generation went from %d to %d", first.Generation, second.Generation)
	}
	// The aborted segments' files are gone: only committed ones remain.
	onlyCommittedFiles(t, dir)
}

func TestReopenSeesExactlyTheCommittedDocuments(t *testing.T) {
	dir := storage.NewMem()
	ctx := context.Background()
	w, err := hermes.Create(ctx, dir, testSchema(t), hermes.Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		mustAdd(t, w, doc(fmt.Sprint("c-", i), wordsFor(i)))
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		mustAdd(t, w, doc(fmt.Sprint("u-", i), wordsFor(i)))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.AddDocument(doc("after", "close")); !errors.Is(err, hermes.ErrClosed) {
		t.Fatalf("add after Close: %v, want ErrClosed", err)
	}

	w2, err := hermes.Open(ctx, dir, hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	got := committedIDs(t, w2)
	if len(got) != 100 || got["u-0"] != 0 {
		t.Fatalf("reopened index holds %d ids (u-0: %d); want exactly the 100 committed", len(got), got["u-0"])
	}
	// Committed keys are still unique after reopening.
	if err := w2.AddDocument(doc("c-7", "dup")); !errors.Is(err, hermes.ErrDuplicateKey) {
		t.Fatalf("re-adding a committed key: %v, want ErrDuplicateKey", err)
	}
	// Only one writer at a time.
	if _, err := hermes.Open(ctx, dir, hermes.Config{}); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
}

func TestDuplicateKeysAndValidationErrors(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 1})
	mustAdd(t, w, doc("a", "x"))
	err := w.AddDocument(doc("a", "y"))
	var dup *hermes.DuplicateKeyError
	if !errors.As(err, &dup) || dup.Key != "a" || dup.Field != "id" {
		t.Fatalf("duplicate add: %v", err)
	}
	err = w.AddDocument(new(hermes.Document).AddString("id", "b").AddU64("body", 3))
	var de *segment.DocumentError
	if !errors.As(err, &de) || de.Field != "body" {
		t.Fatalf("wrong type: %v, want a DocumentError naming body", err)
	}
	if err := w.AddDocument(new(hermes.Document).AddString("body", "no key")); err == nil {
		t.Fatal("a document without its primary key was accepted")
	}
	if err := w.AddDocument(doc("c", "bad \xff utf8")); !errors.As(err, &de) {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	// The failed adds registered nothing.
	mustAdd(t, w, doc("b", "fine"))
	res, err := w.Commit(context.Background())
	if err != nil || res.Docs != 2 {
		t.Fatalf("commit: %+v, %v; want 2 docs", res, err)
	}
}

func TestSearchAfterCommit(t *testing.T) {
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2})
	mustAdd(t, w, doc("1", "the quick brown fox"))
	mustAdd(t, w, doc("2", "the lazy dog"))
	mustAdd(t, w, doc("3", "quick quick quick"))
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hits, err := r.Search(context.Background(), "quick", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 {
		t.Fatalf("%d hits for quick, want 2", len(hits))
	}
	if id := hits[0].Key; id.Str != "3" {
		t.Fatalf("best hit %q, want 3 (three occurrences in a short text)", id.Str)
	}
	if n, err := r.Count(context.Background(), `"brown fox"`); err != nil || n != 1 {
		t.Fatalf("phrase count %d, %v", n, err)
	}
}

func mustAdd(t testing.TB, w *hermes.Writer, d *hermes.Document) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.AddDocumentWait(ctx, d); err != nil {
		t.Fatal(err)
	}
}

var vocabulary = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo"}

// wordsFor makes a deterministic text for document i.
func wordsFor(i int) string {
	out := ""
	x := uint32(i)*2654435761 + 1
	for j := 0; j < 12; j++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out += vocabulary[x%uint32(len(vocabulary))] + " "
	}
	return out
}
