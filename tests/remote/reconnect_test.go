package remote

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// logEvents records which messages the writer logged, and how often.
type logEvents struct {
	mu     sync.Mutex
	counts map[string]int
	waits  map[string]chan struct{}
}

func newLogEvents() *logEvents {
	return &logEvents{counts: map[string]int{}, waits: map[string]chan struct{}{}}
}

func (h *logEvents) Enabled(context.Context, slog.Level) bool { return true }
func (h *logEvents) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.counts[r.Message]++
	if ch, ok := h.waits[r.Message]; ok {
		close(ch)
		delete(h.waits, r.Message)
	}
	h.mu.Unlock()
	if l := debugLogger(); l != nil {
		return l.Handler().Handle(context.Background(), r)
	}
	return nil
}
func (h *logEvents) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logEvents) WithGroup(string) slog.Handler      { return h }

func (h *logEvents) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[msg]
}

// next returns a channel closed the next time msg is logged.
func (h *logEvents) next(msg string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, ok := h.waits[msg]
	if !ok {
		ch = make(chan struct{})
		h.waits[msg] = ch
	}
	return ch
}

func waitFor(t testing.TB, ch <-chan struct{}, what string, d time.Duration) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not within %v", what, d)
	}
}

// blackhole accepts connections and never answers, as a host whose process
// hangs or a firewall that swallows the handshake would.
func blackhole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// A node that accepts the connection and never answers does not hold up
// the writer: Create returns, and documents are indexed and committed on
// the local worker while the greeting still waits for its timeout.
func TestUnreachableNodeDoesNotBlockTheWriter(t *testing.T) {
	logs := newLogEvents()
	unreachable := logs.next("node unreachable; its workers wait until it answers")
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	node := blackhole(t)
	start := time.Now()
	w, err := hermes.Create(context.Background(), dir, schema(t), hermes.Config{
		Workers: 1, Nodes: []string{node}, ActorSystem: writer(), BatchDocs: 50,
		FlushDeadline: flushDeadline, Logger: slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			w.Close()
		}
	}()
	const n = 500
	addAll(t, w, 0, n)
	ctx, cancel := context.WithTimeout(context.Background(), flushDeadline)
	defer cancel()
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The greeting times out after 10 s (RemoteConfig.ConnectTimeout);
	// the writer must not have waited for it.
	select {
	case <-unreachable:
		t.Fatal("the writer waited for the node's greeting to time out")
	default:
	}
	if took := time.Since(start); took >= 10*time.Second {
		t.Fatalf("Create, adds and commit took %v: the writer waited for the node", took)
	}
	checkExactly(t, ids(t, w), n)

	// Close ends the greeting still waiting for the node: nothing of the
	// writer outlives it.
	closed = true
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := goroutinesIn("actors.(*remoteWorkers).dial"); n > 0 {
		t.Fatalf("%d greetings of the node outlive the writer's Close", n)
	}
}

// goroutinesIn counts the goroutines with fn on their stack.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			count++
		}
	}
	return count
}

// A node that dies comes back: the writer greets it again (with backoff)
// once it listens again, and its position takes work again, with a new
// generation, and ships a segment.
func TestLostNodeReconnects(t *testing.T) {
	a := startNode(t)
	logs := newLogEvents()
	g := newGate(t)
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(context.Background(), dir, gatedSchema(t), hermes.Config{
		Workers: 1, Nodes: []string{a.addr}, ActorSystem: writer(), BatchDocs: 50,
		Tokenizers: tokenizersWith(g), FlushDeadline: flushDeadline, Logger: slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	waitStarted(t, w, 2)
	before := remotePID(t, w)

	lost := logs.next("node lost; its workers' batches are re-delivered")
	a.kill(t)
	waitFor(t, lost, "the killed node declared lost", pauseWait)
	connected := logs.next("node connected")
	startNodeWith(t, nil, nodeListenEnv+"="+a.addr) // the same address, a new process
	waitFor(t, connected, "the node connected again", time.Minute)
	for i := 0; ; i++ { // polling for a state change
		if pid := remotePID(t, w); pid != "" && pid != before {
			break
		}
		if i == 1000 {
			t.Fatal("the node's worker did not start again")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The local worker waits at the gate with its first batch, so the
	// remote one takes the others and ships them at the commit.
	addAll(t, w, 0, killDocs)
	g.release()
	ctx, cancel := context.WithTimeout(context.Background(), flushDeadline)
	defer cancel()
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactly(t, ids(t, w), killDocs)
	if logs.count("segment installed") == 0 {
		t.Fatal("no segment came from the reconnected node")
	}
}

// remotePID is the remote worker's actor ("" while it starts).
func remotePID(t testing.TB, w *hermes.Writer) string {
	t.Helper()
	workers, err := w.Workers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if workers[1].PID == nil {
		return ""
	}
	return workers[1].PID.String()
}
