package remote

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

func schema(t testing.TB) *hermes.Schema {
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

func doc(i int) *hermes.Document {
	return new(hermes.Document).AddString("id", fmt.Sprintf("k-%06d", i)).
		AddString("body", fmt.Sprintf("document %d of the remote test, word%d and word%d", i, i%17, i%101))
}

// installs counts the segments fetched from nodes, from the writer's logs.
type installs struct {
	mu sync.Mutex
	n  int
}

func (c *installs) Enabled(context.Context, slog.Level) bool { return true }
func (c *installs) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "segment installed" {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	if l := debugLogger(); l != nil {
		return l.Handler().Handle(context.Background(), r)
	}
	return nil
}
func (c *installs) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *installs) WithGroup(string) slog.Handler      { return c }

func (c *installs) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func openWriter(t testing.TB, dir storage.Directory, nodes []string, logs *installs) *hermes.Writer {
	t.Helper()
	w, err := hermes.Create(context.Background(), dir, schema(t), hermes.Config{
		Workers: 1, Nodes: nodes, ActorSystem: writer(), BatchDocs: 50,
		FlushDeadline: 30 * time.Second, Logger: slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// ids lists every primary key in the committed index with its count.
func ids(t testing.TB, w *hermes.Writer) map[string]int {
	t.Helper()
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
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

func checkExactly(t testing.TB, got map[string]int, n int) {
	t.Helper()
	for k, c := range got {
		if c != 1 {
			t.Fatalf("%s indexed %d times", k, c)
		}
	}
	for i := 0; i < n; i++ {
		if got[fmt.Sprintf("k-%06d", i)] != 1 {
			t.Fatalf("k-%06d missing (index holds %d of %d)", i, len(got), n)
		}
	}
	if len(got) != n {
		t.Fatalf("index holds %d documents, want %d", len(got), n)
	}
}

func addAll(t testing.TB, w *hermes.Writer, from, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := from; i < to; i++ {
		if err := w.AddDocumentWait(ctx, doc(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// Keyed documents through 1 local and 2 remote workers: every key is in
// the index exactly once after the commit, and the remote workers' segments
// were fetched into the index.
func TestRemoteWorkersIndex(t *testing.T) {
	a, b := startNode(t), startNode(t)
	logs := &installs{}
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, dir, []string{a.addr, b.addr}, logs)
	waitStarted(t, w, 3) // remote workers start once their node answers
	workers, err := w.Workers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(workers) != 3 {
		t.Fatalf("%d workers, want 3", len(workers))
	}
	const n = 3000
	addAll(t, w, 0, n)
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkExactly(t, ids(t, w), n)
	if logs.count() == 0 {
		t.Fatal("no segment was fetched from a node")
	}
	t.Logf("%d segments fetched from nodes", logs.count())
}

// kill -9 of a node with batches in hand, then of the other in the middle
// of a commit: each commit still finishes within the flush deadline, on the
// workers left, and nothing is lost or doubled.
func TestNodeKilledMidBatch(t *testing.T) {
	a, b := startNode(t), startNode(t)
	logs := &installs{}
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, dir, []string{a.addr, b.addr}, logs)
	waitStarted(t, w, 3)
	const n = 3000
	// Workers hold their batches unflushed until the commit (their budget
	// is far larger), so node a holds the batches it pulled when it dies.
	addAll(t, w, 0, n/2)
	a.kill(t)
	addAll(t, w, n/2, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactly(t, ids(t, w), n)

	// Node b dies while a commit runs (it holds batches, builds or ships
	// a segment, whichever the kill meets): the commit finishes with the
	// local worker, and nothing is lost or doubled.
	addAll(t, w, n, 2*n)
	done := make(chan error, 1)
	go func() {
		_, err := w.Commit(ctx)
		done <- err
	}()
	b.kill(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkExactly(t, ids(t, w), 2*n)
}

// waitStarted waits until the writer has n workers running (remote ones
// start once their node answered: the writer does not wait for that).
func waitStarted(t testing.TB, w *hermes.Writer, n int) {
	t.Helper()
	for i := 0; ; i++ {
		workers, err := w.Workers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		started := 0
		for _, wi := range workers {
			if wi.PID != nil {
				started++
			}
		}
		if started == n {
			return
		}
		if i == 1000 {
			t.Fatalf("%d of %d workers started", started, n)
		}
		time.Sleep(10 * time.Millisecond) // polling for a state change, not synchronising on time
	}
}

// A document that crashes every worker adding it (a tokenizer's panic),
// local or remote: the remote host reports which document, and the
// coordinator rejects it once it crashed workers MaxCrashes times; every
// other document is committed once.
func TestPoisonThroughNodes(t *testing.T) {
	a, b := startNode(t), startNode(t)
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Tokenizer: "poison"},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(context.Background(), storage.NewMem(), s, hermes.Config{
		Workers: 1, Nodes: []string{a.addr, b.addr}, ActorSystem: writer(), BatchDocs: 20,
		Tokenizers: tokenizers(), FlushDeadline: 30 * time.Second, Logger: debugLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	waitStarted(t, w, 3)
	const n = 600
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("plain words %d", i)
		if i == 333 {
			body = "a POISON document"
		}
		if err := w.AddDocumentWait(context.Background(), new(hermes.Document).AddString("id", fmt.Sprintf("k-%06d", i)).AddString("body", body)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 1 {
		t.Fatalf("%d documents rejected, want the poison one", len(res.Rejected))
	}
	got := ids(t, w)
	if got["k-000333"] != 0 || len(got) != n-1 {
		t.Fatalf("index holds %d documents (poison: %d), want %d without it", len(got), got["k-000333"], n-1)
	}
	for k, c := range got {
		if c != 1 {
			t.Fatalf("%s indexed %d times", k, c)
		}
	}
}

// onFetch calls kill once, when the writer starts fetching a segment from
// node addr.
type onFetch struct {
	addr string
	once sync.Once
	kill func()
}

func (h *onFetch) Enabled(context.Context, slog.Level) bool { return true }
func (h *onFetch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "fetching segment" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "node" && a.Value.String() == h.addr {
				h.once.Do(func() { go h.kill() })
			}
			return true
		})
	}
	if l := debugLogger(); l != nil {
		return l.Handler().Handle(context.Background(), r)
	}
	return nil
}
func (h *onFetch) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *onFetch) WithGroup(string) slog.Handler      { return h }

// kill -9 of a node as the writer starts fetching its segment (in the
// middle of the transfer, or just before or after it): the fetch fails, its
// partial files are removed, the segment's batches are re-delivered, and
// the commit finishes with every document once.
func TestNodeKilledMidTransfer(t *testing.T) {
	a, b := startNode(t), startNode(t)
	killed := make(chan struct{})
	h := &onFetch{addr: a.addr, kill: func() { a.kill(t); close(killed) }}
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(context.Background(), dir, schema(t), hermes.Config{
		Workers: 1, Nodes: []string{a.addr, b.addr}, ActorSystem: writer(), BatchDocs: 50,
		FlushDeadline: 30 * time.Second, Logger: slog.New(h),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	waitStarted(t, w, 3)
	rnd := rand.New(rand.NewPCG(3, 3))
	const n = 800
	ctx := context.Background()
	for i := 0; i < n; i++ {
		var body strings.Builder
		for j := 0; j < 60; j++ {
			fmt.Fprintf(&body, "w%x ", rnd.Uint32())
		}
		if err := w.AddDocumentWait(ctx, new(hermes.Document).AddString("id", fmt.Sprintf("k-%06d", i)).AddString("body", body.String())); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	<-killed
	checkExactly(t, ids(t, w), n)
}
