package actors

import (
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
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
	answers := make(chan *messages.DurableResponse, 1)
	committer := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*messages.DurableResponse); ok {
			answers <- m
		}
	}))
	defer sys.Root.Stop(committer)

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
