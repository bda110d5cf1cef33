package actors

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/node"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/supervisor"
)

// A node that greets the writer but never answers StartWorker is a lost
// worker, not a hang: after StartTimeout its position is given up, what
// the flush pushed to it goes to the local worker, and the prepare
// completes long before its deadline with every document.
func TestNodeSilentOnStartWorkerIsALostWorker(t *testing.T) {
	// The silent node: a host that takes the Hello and ignores the rest. It
	// is served by the writer's own actor system (two protoactor remotes in
	// one process race on gRPC's global logger); the writer reaches it over
	// gRPC all the same.
	silentHost := actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*messages.Hello); ok {
			ctx.Respond(&messages.HelloAck{ProtocolVersion: node.ProtocolVersion, MessageSetHash: node.MessageSetHash(), Files: ctx.Self()})
		}
	})
	writerSys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	writerRemote, err := node.StartRemote(writerSys, "127.0.0.1", 0, nil, remote.WithKinds(remote.NewKind(node.HostKind, silentHost)))
	if err != nil {
		t.Fatal(err)
	}
	defer writerRemote.Shutdown(true)

	cfg := testRemoteConfig(t, writerSys.Address())
	cfg.Remote.StartTimeout = 100 * time.Millisecond
	committer, answers := fakeCommitter(t, writerSys)
	coordinator := writerSys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return newCoordinator(cfg, committer) }))
	defer func() { _ = writerSys.Root.StopFuture(coordinator).Wait() }()

	const docs = 20
	add := &messages.AddDocuments{}
	for i := 1; i <= docs; i++ {
		add.Docs = append(add.Docs, ToMessage(&segment.Document{Values: []segment.FieldValue{{Field: "text", Kind: segment.KindString, Str: "words"}}}, uint64(i)))
	}
	writerSys.Root.Send(coordinator, add)
	const deadline = time.Minute
	writerSys.Root.Send(coordinator, &messages.PrepareRequest{UpTo: docs, DeadlineMs: deadline.Milliseconds()})
	start := time.Now()
	select {
	case res := <-answers:
		if res.Error != "" || res.Docs != docs {
			t.Fatalf("prepare answered %v after %v; want all %d documents", res, time.Since(start), docs)
		}
	case <-time.After(deadline + 10*time.Second):
		t.Fatal("the prepare hung on a node that never answers StartWorker")
	}
}

type stubEnv struct{ toks map[string]analysis.Tokenizer }

func (e stubEnv) Tokenizers() map[string]analysis.Tokenizer { return e.toks }
func (stubEnv) ReleaseCredits(int)                          {}
func (stubEnv) Committed(*storage.Metadata)                 {}
func (stubEnv) Fatal(error)                                 {}
func (stubEnv) PendingKeyBytes() int64                      { return 0 }

// Workers (WorkersRequest) names the actor of each position's current
// generation, and none for a position whose node is lost: the old worker's
// PID belongs to a generation that has ended.
func TestWorkersNameNoActorForALostNodesPosition(t *testing.T) {
	var hellos atomic.Int32
	hosts := make(chan *actor.PID, 4)
	workers := make(chan *actor.PID, 4)
	host := actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *messages.Hello:
			if hellos.Add(1) > 1 { // the node stays away after its loss
				ctx.Respond(&messages.HelloAck{Error: "not again"})
				return
			}
			hosts <- ctx.Self()
			ctx.Respond(&messages.HelloAck{ProtocolVersion: node.ProtocolVersion, MessageSetHash: node.MessageSetHash(), Files: ctx.Self()})
		case *messages.StartWorker:
			// Not the host's child: it outlives the host, as a worker
			// behind a partition does.
			pid := ctx.ActorSystem().Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
			workers <- pid
			ctx.Respond(&messages.WorkerStarted{Worker: m.Worker, Generation: m.Generation, Pid: pid})
		}
	})
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	rem, err := node.StartRemote(sys, "127.0.0.1", 0, nil, remote.WithKinds(remote.NewKind(node.HostKind, host)))
	if err != nil {
		t.Fatal(err)
	}
	defer rem.Shutdown(true)
	logs := &logWaiter{msg: "node lost; its workers' batches are re-delivered", seen: make(chan struct{})}
	cfg := testRemoteConfig(t, sys.Address())
	cfg.Logger = slog.New(logs)
	committer := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	defer sys.Root.Stop(committer)
	coordinator := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return newCoordinator(cfg, committer) }))
	defer func() { _ = sys.Root.StopFuture(coordinator).Wait() }()

	hostPID, workerPID := <-hosts, <-workers
	defer sys.Root.Stop(workerPID)
	refs := askWorkers(t, sys, coordinator)
	for !same(refs[1].Pid, workerPID) { // WorkerStarted may still be on its way
		refs = askWorkers(t, sys, coordinator)
	}
	sys.Root.Stop(hostPID) // the node is lost
	<-logs.seen
	refs = askWorkers(t, sys, coordinator)
	if refs[1].Generation == 0 || refs[1].Pid != nil {
		t.Fatalf("after its node was lost, position 1 is generation %d with actor %v; want a new generation and no actor", refs[1].Generation, refs[1].Pid)
	}
}

func askWorkers(t *testing.T, sys *actor.ActorSystem, coordinator *actor.PID) []*messages.WorkerRef {
	t.Helper()
	res, err := sys.Root.RequestFuture(coordinator, &messages.WorkersRequest{}, 10*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	return res.(*messages.WorkersResponse).Workers
}

// testRemoteConfig is a coordinator's config with one local worker and one
// on the node at addr.
func testRemoteConfig(t *testing.T, addr string) *Config {
	t.Helper()
	user, err := segment.NewSchema(segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true})
	if err != nil {
		t.Fatal(err)
	}
	schema, err := index.InternalSchema(user)
	if err != nil {
		t.Fatal(err)
	}
	dir := storage.NewMem()
	ids, err := NewSegmentIDs(dir, time.Now(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	toks, err := segment.ResolveTokenizers(schema, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Config{
		Dir: dir, Schema: schema, Env: stubEnv{toks}, IDs: ids,
		Workers: 1, WorkerMemory: 64 << 20, BatchDocs: 4, BatchBytes: 1 << 20, MaxCrashes: 2,
		Backoff: supervisor.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 2},
		Remote:  &RemoteConfig{Nodes: []string{addr}, ConnectTimeout: 10 * time.Second, StartTimeout: 10 * time.Second},
		Logger:  slog.New(slog.DiscardHandler),
	}
}

// logWaiter closes seen the first time msg is logged.
type logWaiter struct {
	msg  string
	once sync.Once
	seen chan struct{}
}

func (h *logWaiter) Enabled(context.Context, slog.Level) bool { return true }
func (h *logWaiter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}
func (h *logWaiter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logWaiter) WithGroup(string) slog.Handler      { return h }

// A WorkerFailed naming no worker position (a negative one, from a faulty
// or hostile node) is ignored: it must not crash the coordinator, which
// would fail the writer.
func TestCoordinatorIgnoresAWorkerFailedOfNoPosition(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	cfg := testRemoteConfig(t, "")
	cfg.Remote = nil
	failures := make(chan interface{}, 1)
	committer := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	defer sys.Root.Stop(committer)
	coordinator := sys.Root.WithGuardian(failureRecorder(failures)).Spawn(actor.PropsFromProducer(func() actor.Actor { return newCoordinator(cfg, committer) }))
	defer func() { _ = sys.Root.StopFuture(coordinator).Wait() }()

	sys.Root.Send(coordinator, &messages.WorkerFailed{Worker: -1, Reason: "forged"})
	if refs := askWorkers(t, sys, coordinator); len(refs) != 1 {
		t.Fatalf("%d workers, want 1", len(refs))
	}
	select {
	case reason := <-failures:
		t.Fatalf("the coordinator failed: %v", reason)
	default:
	}
}

// failureRecorder is a supervisor strategy that records a failure and
// stops the actor.
type failureRecorder chan interface{}

func (f failureRecorder) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, _ interface{}) {
	select {
	case f <- reason:
	default:
	}
	sup.StopChildren(child)
}

// A SegmentShipped from a node is never taken for a local worker's: a
// segment of no worker position is not installed, and the files of one
// refused are not deleted from the index directory (a local worker's stale
// segment is deleted in place; a node's names files on the node).
func TestNodeSegmentOfNoPositionTouchesNoIndexFile(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	cfg := testRemoteConfig(t, "")
	cfg.Remote = nil
	f, err := cfg.Dir.Create("kept.bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	committer, answers := fakeCommitter(t, sys)
	coordinator := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return newCoordinator(cfg, committer) }))
	defer func() { _ = sys.Root.StopFuture(coordinator).Wait() }()

	files := []*messages.FileDigest{{Name: "kept.bin"}}
	// Refused (its batch is unknown): released.
	sys.Root.Send(coordinator, &messages.SegmentShipped{Worker: 7, Segment: &messages.ShippedSegment{Id: "forged1", NumDocs: 1, Files: files}, Batches: []uint64{999}, Files: committer})
	// No batch to check: it would be installed.
	sys.Root.Send(coordinator, &messages.SegmentShipped{Worker: -1, Segment: &messages.ShippedSegment{Id: "forged2", NumDocs: 1, Files: files}, Files: committer})
	// Behind this answer, any install the coordinator sent itself is in
	// its mailbox, ahead of the prepare.
	askWorkers(t, sys, coordinator)
	sys.Root.Send(coordinator, &messages.PrepareRequest{DeadlineMs: time.Minute.Milliseconds()})
	select {
	case res := <-answers:
		if len(res.Segments) != 0 {
			t.Fatalf("the prepare holds %v; want no segment", res.Segments)
		}
	case <-time.After(time.Minute):
		t.Fatal("no answer to the prepare")
	}
	if _, err := cfg.Dir.Open("kept.bin"); err != nil {
		t.Fatalf("a node's release deleted a file of the index directory: %v", err)
	}
}

// fakeCommitter stands for the committer: it passes on the coordinator's
// DurableResponses, and stops with the test.
func fakeCommitter(t *testing.T, sys *actor.ActorSystem) (*actor.PID, chan *messages.DurableResponse) {
	answers := make(chan *messages.DurableResponse, 1)
	committer := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*messages.DurableResponse); ok {
			answers <- m
		}
	}))
	t.Cleanup(func() { sys.Root.Stop(committer) })
	return committer, answers
}
