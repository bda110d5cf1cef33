package remote

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// Targeted kill -9 of a node during a commit, each at a point the node or
// the writer stops at and announces (no timing): in the middle of a segment
// build, after the node reported its segment (its FlushAck) but before the
// writer fetched it, and after the writer fetched it but before the commit
// counted it. Each time the commit finishes within the flush deadline on
// the local worker, every acknowledged key is in the index exactly once, and
// every committed segment passes its integrity check.

const (
	killDocs      = 2000
	flushDeadline = 30 * time.Second
	// pauseWait bounds the wait for a node to reach its pause point.
	pauseWait = 30 * time.Second
)

// gatedSchema is schema with the body through "gate".
func gatedSchema(t testing.TB) *hermes.Schema {
	t.Helper()
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "gate"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gatedWriter opens a writer with one local worker, held at g, and one
// remote worker on n, with every document added: the remote worker holds
// all but the local worker's first batch, and builds them at the commit
// (its budget is far larger).
func gatedWriter(t testing.TB, dir storage.Directory, n *nodeProcess, g *gate, log slog.Handler) *hermes.Writer {
	t.Helper()
	w, err := hermes.Create(context.Background(), dir, gatedSchema(t), hermes.Config{
		Workers: 1, Nodes: []string{n.addr}, ActorSystem: writer(), BatchDocs: 50,
		Tokenizers: tokenizersWith(g), FlushDeadline: flushDeadline, Logger: slog.New(log),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	waitStarted(t, w, 2)
	addAll(t, w, 0, killDocs)
	return w
}

// startCommit commits in the background; the result is the commit's error
// and how long it took.
func startCommit(w *hermes.Writer) <-chan commitResult {
	done := make(chan commitResult, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), flushDeadline)
		defer cancel()
		_, err := w.Commit(ctx)
		done <- commitResult{err, time.Since(start)}
	}()
	return done
}

type commitResult struct {
	err  error
	took time.Duration
}

// checkCommitted checks the commit's result, the keys, and the integrity of
// every committed segment (as hermes check does: footers, whole-file
// checksums, document counts).
func checkCommitted(t testing.TB, w *hermes.Writer, dir storage.Directory, res commitResult) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("commit after the node's kill: %v (after %v)", res.err, res.took)
	}
	t.Logf("commit finished %v after it started", res.took.Round(time.Millisecond))
	checkExactly(t, ids(t, w), killDocs)
	checkIntegrity(t, dir)
}

func checkIntegrity(t testing.TB, dir storage.Directory) {
	t.Helper()
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	user, err := segment.ParseSchema(meta.Schema)
	if err != nil {
		t.Fatal(err)
	}
	s, err := index.InternalSchema(user) // what segments are built with
	if err != nil {
		t.Fatal(err)
	}
	var docs uint32
	for _, si := range meta.Segments {
		id, err := segment.ParseID(si.ID)
		if err != nil {
			t.Fatal(err)
		}
		r, err := segment.Open(dir, id, s)
		if err != nil {
			t.Fatalf("segment %s: %v", si.ID, err)
		}
		err = r.CheckIntegrity()
		num := r.NumDocs()
		r.Close()
		if err != nil {
			t.Fatalf("segment %s: %v", si.ID, err)
		}
		if uint32(num) != si.NumDocs {
			t.Fatalf("segment %s holds %d documents, metadata.json says %d", si.ID, num, si.NumDocs)
		}
		docs += si.NumDocs - si.NumDeleted
	}
	if docs != killDocs {
		t.Fatalf("metadata.json counts %d live documents, want %d", docs, killDocs)
	}
}

// kill -9 of a node in the middle of its segment build: the flush round
// loses that worker, its batches go to the local worker, and the commit
// finishes with every document once.
func TestNodeKilledMidBuild(t *testing.T) {
	killNodeAtPause(t, pauseBuild, "killed in its build")
}

// kill -9 of a node after its worker reported its segment (SegmentShipped,
// the flush's ack), as the writer asks for the first chunk: the fetch fails,
// its partial files are removed, the batches go to the local worker.
func TestNodeKilledAfterFlushAck(t *testing.T) {
	killNodeAtPause(t, pauseServe, "killed before it served one")
}

// killNodeAtPause kills the node where it pauses (its nodePauseEnv point)
// during a commit, then checks the commit: every document once, and no
// segment of that node installed.
func killNodeAtPause(t *testing.T, pause, when string) {
	a := startNodeWith(t, nil, nodePauseEnv+"="+pause)
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g, logs := newGate(t), &installs{}
	w := gatedWriter(t, dir, a, g, logs)
	done := startCommit(w)
	a.WaitLine(t, pausedPrefix+pause, pauseWait)
	a.kill(t)
	g.release()
	checkCommitted(t, w, dir, <-done)
	if logs.count() != 0 {
		t.Fatalf("%d segments installed from a node %s", logs.count(), when)
	}
}

// killAtInstall kills the node when the writer's fetcher has installed its
// segment (every file durable and verified in the index) and, before the
// fetcher reports it, waits until the coordinator has taken the node's
// loss: the segment then arrives at the coordinator as a late one, of a
// generation the loss ended.
type killAtInstall struct {
	node   *nodeProcess
	gate   *gate
	killed sync.Once
	lost   chan struct{}
	once   sync.Once // closes lost
	errs   chan error
	stale  chan struct{}
}

func (h *killAtInstall) Enabled(context.Context, slog.Level) bool { return true }
func (h *killAtInstall) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "segment installed":
		h.killed.Do(func() {
			if err := h.node.Cmd.Process.Kill(); err != nil {
				h.errs <- err
				return
			}
			_ = h.node.Cmd.Wait()
			select {
			case <-h.lost:
			case <-time.After(pauseWait):
				h.errs <- errNotLost
				return
			}
			h.gate.release()
		})
	case "node lost; its workers' batches are re-delivered":
		h.once.Do(func() { close(h.lost) })
	case "discarding stale segment":
		select {
		case <-h.stale:
		default:
			close(h.stale)
		}
	}
	if l := debugLogger(); l != nil {
		return l.Handler().Handle(context.Background(), r)
	}
	return nil
}
func (h *killAtInstall) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *killAtInstall) WithGroup(string) slog.Handler      { return h }

var errNotLost = errString("the writer did not declare the killed node lost")

type errString string

func (e errString) Error() string { return string(e) }

// kill -9 of a node after the writer fetched its segment but before the
// commit counted it: the node's loss comes first and re-delivers the
// batches; the late segment then counts only if none of its batches was
// handed out again (else its files are deleted). Either way every document
// is in the commit once.
func TestNodeKilledBeforeInstallCounted(t *testing.T) {
	a := startNode(t)
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g := newGate(t)
	h := &killAtInstall{node: a, gate: g, lost: make(chan struct{}), errs: make(chan error, 1), stale: make(chan struct{})}
	w := gatedWriter(t, dir, a, g, h)
	res := <-startCommit(w)
	select {
	case err := <-h.errs:
		t.Fatal(err)
	default:
	}
	select {
	case <-h.lost:
	default:
		t.Fatal("the node was never killed: no segment was installed from it")
	}
	checkCommitted(t, w, dir, res)
	select {
	case <-h.stale:
		t.Log("the late segment was discarded")
	default:
		t.Log("the late segment counted")
	}
}
