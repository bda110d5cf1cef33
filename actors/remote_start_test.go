package actors

import (
	"log/slog"
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
	cfg := &Config{
		Dir: dir, Schema: schema, Env: stubEnv{toks}, IDs: ids,
		Workers: 1, WorkerMemory: 64 << 20, BatchDocs: 4, BatchBytes: 1 << 20, MaxCrashes: 2,
		Backoff: supervisor.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 2},
		Remote:  &RemoteConfig{Nodes: []string{writerSys.Address()}, ConnectTimeout: 10 * time.Second, StartTimeout: 100 * time.Millisecond},
		Logger:  slog.New(slog.DiscardHandler),
	}
	answers := make(chan *messages.DurableResponse, 1)
	committer := writerSys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*messages.DurableResponse); ok {
			answers <- m
		}
	}))
	defer writerSys.Root.Stop(committer)
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
