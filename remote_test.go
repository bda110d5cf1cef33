package hermes_test

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// A writer with workers on nodes refuses SetTokenizer, clearly: a node
// resolves tokenizers by name when it starts a worker, so the change would
// reach the local workers only. (No node is reached here: the actor system
// has no remote, so the nodes are lost at once and Create does not wait.)
func TestSetTokenizerRefusedWithNodes(t *testing.T) {
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(system.Shutdown) // after the writer closes (cleanups run last first)
	w := create(t, storage.NewMem(), hermes.Config{Workers: 1, Nodes: []string{"127.0.0.1:1"}, ActorSystem: system})
	err := w.SetTokenizer("body", "simple")
	if !errors.Is(err, hermes.ErrRemoteTokenizer) {
		t.Fatalf("SetTokenizer with Config.Nodes: %v, want ErrRemoteTokenizer", err)
	}
}
