package actors

import (
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/node"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/shipping"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/worker"
)

// A local worker that panics right after it shipped its flush's segment:
// the panic reaches the coordinator as a system message (HandleFailure),
// ahead of the SegmentShipped waiting in its mailbox. The failure is news
// only after that segment: it is kept, nothing is re-delivered, and the
// flush takes one round.
func TestLocalPanicAfterShippingKeepsTheSegment(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	cfg := testRemoteConfig(t, "")
	cfg.Remote = nil
	cfg.Workers, cfg.BatchDocs, cfg.Serial = 2, 2, true
	committer, answers := fakeCommitter(t, sys)

	// The race, made certain: worker 0's SegmentShipped for its flush goes
	// back to the mailbox, and the worker's panic (Failure, a system
	// message) is handled before it.
	var coord *coordinator
	panicked := false
	panicAfterShipping := func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(ctx actor.ReceiverContext, env *actor.MessageEnvelope) {
			if m, ok := env.Message.(*messages.SegmentShipped); ok && m.Worker == 0 && m.Round > 0 && !panicked {
				panicked = true
				self, w := ctx.Self(), coord.workers[0]
				sys.Root.Send(self, m)
				p, _ := sys.ProcessRegistry.Get(self)
				p.SendSystemMessage(self, &actor.Failure{Who: w, Reason: "boom after shipping"})
				return
			}
			next(ctx, env)
		}
	}
	props := actor.PropsFromProducer(func() actor.Actor {
		coord = newCoordinator(cfg, committer)
		return coord
	}, actor.WithReceiverMiddleware(panicAfterShipping))
	coordinator := sys.Root.Spawn(props)
	defer func() { _ = sys.Root.StopFuture(coordinator).Wait() }()

	const docs = 4
	add := &messages.AddDocuments{}
	for i := 1; i <= docs; i++ {
		add.Docs = append(add.Docs, ToMessage(&segment.Document{Values: []segment.FieldValue{{Field: "text", Kind: segment.KindString, Str: "words"}}}, uint64(i)))
	}
	sys.Root.Send(coordinator, add)
	sys.Root.Send(coordinator, &messages.PrepareRequest{UpTo: docs, DeadlineMs: time.Minute.Milliseconds()})
	select {
	case res := <-answers:
		if res.Error != "" || res.Docs != docs || len(res.Segments) != 2 || res.Rounds != 1 {
			t.Fatalf("prepare answered docs=%d segments=%d rounds=%d error=%q; want %d docs in 2 segments after 1 round",
				res.Docs, len(res.Segments), res.Rounds, res.Error, docs)
		}
	case <-time.After(time.Minute + 10*time.Second):
		t.Fatal("no answer to the prepare")
	}
	if !panicked {
		t.Fatal("worker 0 shipped no segment for its flush")
	}
}

// A remote worker lost right after it shipped its flush's segment: its
// Terminated (a system message) overtakes the SegmentShipped in the
// coordinator's mailbox, or its host's WorkerFailed comes while the segment
// is fetched. Either way the loss is news only after the fetch: the
// segment is kept, nothing is re-delivered, and the flush takes one round.
func TestRemoteLossAfterShippingKeepsTheSegment(t *testing.T) {
	for _, loss := range []string{"terminated", "failed"} {
		t.Run(loss, func(t *testing.T) { testRemoteLossAfterShipping(t, loss) })
	}
}

// The news of a worker's loss waits for the fetch of a segment it shipped
// before, but not forever: when the fetch hangs (its node's file server is
// silent), the worker is taken as lost after StartTimeout, long before the
// fetch would fail (the fetcher's idle timeout, 30 s): its position has a
// new generation.
func TestRemoteLossWaitsForAFetchAtMostStartTimeout(t *testing.T) {
	testRemoteLossAfterShipping(t, "fetch-hangs")
}

// A worker panics on a document after shipping a segment, and the fetch
// of that segment then fails: the failed fetch ends the worker's generation
// while its failure was held. The failure still counts, late: its document
// is blamed (and, with MaxCrashes 1, rejected), as when the failure comes
// first.
func TestRemoteFailureHeldByAFetchThatFailsKeepsItsBlame(t *testing.T) {
	testRemoteLossAfterShipping(t, "fetch-fails")
}

func testRemoteLossAfterShipping(t *testing.T, loss string) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	// The node: a host in the writer's own actor system (see
	// TestNodeSilentOnStartWorkerIsALostWorker) whose workers build in
	// their own directory, served by a file server.
	nodeDir := storage.NewMem()
	files := sys.Root.Spawn(shipping.NewFileServer(nodeDir, slog.New(slog.DiscardHandler)))
	silent := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	defer sys.Root.Stop(silent)
	var cfg *Config
	host := actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *messages.Hello:
			ctx.Respond(&messages.HelloAck{ProtocolVersion: node.ProtocolVersion, MessageSetHash: node.MessageSetHash(), Files: files})
		case *messages.StartWorker:
			served := files
			if loss == "fetch-hangs" && m.Worker == 0 && m.Generation == 1 {
				served = silent // generation 1: the first after the node connected
			}
			pid := ctx.Spawn(worker.Props(worker.Config{
				Worker: m.Worker, Generation: m.Generation, Schema: cfg.Schema, Tokenizers: cfg.Env.Tokenizers,
				MemoryBudget: m.MemoryBudget, Coordinator: m.Coordinator, Dir: nodeDir, Files: served,
				NewID:  worker.IDsFrom(ctx.ActorSystem(), m.Coordinator, m.Worker, m.Generation, 10*time.Second),
				Logger: slog.New(slog.DiscardHandler),
			}))
			ctx.Respond(&messages.WorkerStarted{Worker: m.Worker, Generation: m.Generation, Pid: pid})
		}
	})
	rem, err := node.StartRemote(sys, "127.0.0.1", 0, nil, remote.WithKinds(remote.NewKind(node.HostKind, host)))
	if err != nil {
		t.Fatal(err)
	}
	defer rem.Shutdown(true)
	cfg = testRemoteConfig(t, sys.Address())
	told := &logWaiter{msg: "segment fetch outlasted its worker's loss; the loss is news now", seen: make(chan struct{})}
	cfg.Workers, cfg.BatchDocs, cfg.Serial = 0, 2, true
	cfg.Remote.WorkersPerNode = 2
	if loss == "fetch-hangs" {
		cfg.Remote.StartTimeout = 500 * time.Millisecond
		cfg.Logger = slog.New(told)
	}
	if loss == "fetch-fails" {
		cfg.MaxCrashes = 1
	}
	committer, answers := fakeCommitter(t, sys)

	// The race, made certain: worker 0's SegmentShipped for its flush goes
	// back to the mailbox, with the news of the worker's loss beside it.
	var coord *coordinator
	lost := false
	loseAfterShipping := func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(ctx actor.ReceiverContext, env *actor.MessageEnvelope) {
			if m, ok := env.Message.(*messages.SegmentShipped); ok && m.Worker == 0 && m.Round > 0 && !lost {
				lost = true
				self, w := ctx.Self(), coord.remote.slots[0].pid
				switch loss {
				case "fetch-hangs":
					next(ctx, env) // its fetch starts, and hangs
				case "fetch-fails": // an id this writer never issued: refused
					failing := proto.Clone(m).(*messages.SegmentShipped)
					failing.Segment.Id = "not-issued"
					sys.Root.Send(self, failing)
				default:
					sys.Root.Send(self, m)
				}
				sys.Root.Stop(w) // its own Terminated comes later, no news
				switch loss {
				case "terminated": // overtakes the SegmentShipped
					p, _ := sys.ProcessRegistry.Get(self)
					p.SendSystemMessage(self, &actor.Terminated{Who: w})
				case "failed", "fetch-hangs": // the host's, behind the SegmentShipped
					sys.Root.Send(self, &messages.WorkerFailed{Worker: 0, Generation: m.Generation, Pid: w, Reason: "boom after shipping"})
				case "fetch-fails": // blaming the first document it holds
					first := int32(0)
					sys.Root.Send(self, &messages.WorkerFailed{Worker: 0, Generation: m.Generation, Pid: w, Reason: "boom after shipping", BlamedBatch: m.Batches[0], BlamedDoc: &first})
				}
				return
			}
			next(ctx, env)
		}
	}
	props := actor.PropsFromProducer(func() actor.Actor {
		coord = newCoordinator(cfg, committer)
		return coord
	}, actor.WithReceiverMiddleware(loseAfterShipping))
	coordinator := sys.Root.Spawn(props)
	defer func() { _ = sys.Root.StopFuture(coordinator).Wait() }()

	for refs := askWorkers(t, sys, coordinator); refs[0].Pid == nil || refs[1].Pid == nil; { // the node connects, the workers start
		refs = askWorkers(t, sys, coordinator)
	}
	const docs = 4
	add := &messages.AddDocuments{}
	for i := 1; i <= docs; i++ {
		add.Docs = append(add.Docs, ToMessage(&segment.Document{Values: []segment.FieldValue{{Field: "text", Kind: segment.KindString, Str: "words"}}}, uint64(i)))
	}
	sys.Root.Send(coordinator, add)
	sys.Root.Send(coordinator, &messages.PrepareRequest{UpTo: docs, DeadlineMs: time.Minute.Milliseconds()})
	if loss == "fetch-hangs" {
		select {
		case <-told.seen:
		case <-time.After(10 * time.Second):
			t.Fatal("the loss of a worker whose segment's fetch hangs was held for 10 s")
		}
		if refs := askWorkers(t, sys, coordinator); refs[0].Generation < 2 {
			t.Fatalf("position 0 is generation %d after its loss; want a new one", refs[0].Generation)
		}
		return
	}
	if loss == "fetch-fails" {
		select {
		case res := <-answers:
			if res.Error != "" || len(res.Rejected) != 1 || res.Docs != docs-1 {
				t.Fatalf("prepare answered docs=%d rejected=%d error=%q; want %d docs and the blamed one rejected",
					res.Docs, len(res.Rejected), res.Error, docs-1)
			}
		case <-time.After(time.Minute + 10*time.Second):
			t.Fatal("no answer to the prepare")
		}
		return
	}
	select {
	case res := <-answers:
		if res.Error != "" || res.Docs != docs || len(res.Segments) != 2 || res.Rounds != 1 {
			t.Fatalf("prepare answered docs=%d segments=%d rounds=%d error=%q; want %d docs in 2 segments after 1 round",
				res.Docs, len(res.Segments), res.Rounds, res.Error, docs)
		}
	case <-time.After(time.Minute + 10*time.Second):
		t.Fatal("no answer to the prepare")
	}
	if !lost {
		t.Fatal("worker 0 shipped no segment for its flush")
	}
}
