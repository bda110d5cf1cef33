package hermes_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// A service that brings its own actor system keeps it, and its own actors,
// when the writer closes; the writer's actors are gone.
func TestEmbeddedActorSystemCloseStopsOnlyTheWritersActors(t *testing.T) {
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer system.Shutdown()
	echo := system.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if s, ok := c.Message().(string); ok {
			c.Respond(s)
		}
	}))
	before := processCount(system)

	w := create(t, storage.NewMem(), hermes.Config{Workers: 3, ActorSystem: system})
	if w.ActorSystem() != system {
		t.Fatal("the writer did not use the given actor system")
	}
	workers, err := w.Workers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(workers) != 3 {
		t.Fatalf("%d workers, want 3", len(workers))
	}
	if during := processCount(system); during < before+3 {
		t.Fatalf("%d processes with the writer running, %d before: its actors are not in the system", during, before)
	}
	mustAdd(t, w, doc("1", "embedded"))
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if after := processCount(system); after != before {
		t.Fatalf("%d processes after Close, %d before: the writer left actors behind", after, before)
	}
	for _, wk := range workers {
		if _, ok := system.ProcessRegistry.GetLocal(wk.PID.Id); ok {
			t.Fatalf("worker %d still registered after Close", wk.ID)
		}
	}
	// The service's own actor still answers.
	res, err := system.Root.RequestFuture(echo, "ping", 10*time.Second).Result()
	if err != nil || res != "ping" {
		t.Fatalf("the service's actor answered %v, %v after the writer closed", res, err)
	}
}

func TestSetTokenizerAppliesToNewSegments(t *testing.T) {
	reg := analysis.NewRegistry()
	// "reversed" indexes each word backwards, so a search tells which
	// tokenizer built a segment.
	simple, _ := reg.Get("simple")
	err := reg.Register("reversed", analysis.TokenizerFunc(func(text string, emit func(analysis.Token)) {
		simple.Tokenize(text, func(tok analysis.Token) {
			for i, j := 0, len(tok.Term)-1; i < j; i, j = i+1, j-1 {
				tok.Term[i], tok.Term[j] = tok.Term[j], tok.Term[i]
			}
			emit(tok)
		})
	}))
	if err != nil {
		t.Fatal(err)
	}
	w := create(t, storage.NewMem(), hermes.Config{Workers: 2, Tokenizers: reg})
	ctx := context.Background()
	mustAdd(t, w, doc("a", "hello"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.SetTokenizer("body", "reversed"); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, w, doc("b", "hello"))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The query parser analyses with the simple tokenizer, so each
	// spelling finds exactly the document built with the matching one.
	for q, want := range map[string]string{"body:hello": "a", "body:olleh": "b"} {
		hits, err := r.Search(ctx, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 {
			t.Fatalf("%s: %d hits, want 1", q, len(hits))
		}
		if id := hits[0].Key; id.Str != want {
			t.Fatalf("%s found %q, want %q", q, id.Str, want)
		}
	}
	if err := w.SetTokenizer("body", "no-such-tokenizer"); err == nil {
		t.Fatal("an unknown tokenizer name was accepted")
	}
	if err := w.SetTokenizer("id", "simple"); err == nil {
		t.Fatal("SetTokenizer accepted a keyword field")
	}
}

// processCount counts the actors registered in the system.
func processCount(system *actor.ActorSystem) int {
	n := 0
	for _, bucket := range system.ProcessRegistry.LocalPIDs.LocalPIDs {
		n += bucket.Count()
	}
	return n
}
