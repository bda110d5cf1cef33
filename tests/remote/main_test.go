// Package remote tests a writer with workers on other nodes, each node a
// separate OS process on 127.0.0.1: the test binary re-executes itself as a
// node (HERMES_TEST_NODE) on port 0 and prints its address.
package remote

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

	"github.com/hermes-search/hermes-go/internal/nodetest"
	"github.com/hermes-search/hermes-go/node"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// The test process plays the writer with one remote for the binary's life:
// protoactor's remote cannot be shut down cleanly, and one process cannot
// host two (see package node's tests).
func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) != "" {
		os.Exit(runNodeProcess())
	}
	goleak.VerifyTestMain(m, nodetest.LeakOptions()...)
}

const (
	nodeEnv        = "HERMES_TEST_NODE"
	nodeScratchEnv = "HERMES_TEST_SCRATCH"
)

// runNodeProcess serves workers until stdin closes (the test ended, or the
// test process died).
func runNodeProcess() int {
	n, err := node.ServeWorkers(quietSystem(), node.Config{Listen: "127.0.0.1:0", Scratch: os.Getenv(nodeScratchEnv), Tokenizers: tokenizers(), Logger: debugLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	nodetest.ServeUntilStdinCloses(n.Address())
	return 0
}

// nodeProcess is a node running as a child process.
type nodeProcess struct {
	*nodetest.Process
	addr string
}

// startNode starts a node process and waits for its address.
func startNode(t testing.TB) *nodeProcess {
	t.Helper()
	p := nodetest.Start(t, nil, nodeEnv+"=1", nodeScratchEnv+"="+t.TempDir())
	return &nodeProcess{Process: p, addr: p.Addr}
}

// kill kills the node with SIGKILL, as a crash or the OOM killer would.
func (p *nodeProcess) kill(t testing.TB) {
	t.Helper()
	p.Kill(t)
}

func quietSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithDeadLetterThrottleInterval(time.Millisecond), actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
}

// debugLogger logs to stderr when HERMES_DEBUG is set.
func debugLogger() *slog.Logger {
	if os.Getenv("HERMES_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("pid", os.Getpid())
}

var (
	writerOnce   sync.Once
	writerSystem *actor.ActorSystem
)

// writer returns the test process's actor system, with remote started.
func writer() *actor.ActorSystem {
	writerOnce.Do(func() {
		writerSystem = quietSystem()
		if _, err := node.StartRemote(writerSystem, "127.0.0.1", 0, nil); err != nil {
			panic(err)
		}
	})
	return writerSystem
}

// tokenizers are the built-in ones and "poison", which panics on a text
// holding POISON (the writer and the nodes register it).
func tokenizers() *analysis.Registry {
	reg := analysis.NewRegistry()
	simple, err := reg.Get("simple")
	if err != nil {
		panic(err)
	}
	if err := reg.Register("poison", poison{simple}); err != nil {
		panic(err)
	}
	return reg
}

type poison struct{ analysis.Tokenizer }

func (p poison) Tokenize(text string, emit func(analysis.Token)) {
	if strings.Contains(text, "POISON") {
		panic("poison document")
	}
	p.Tokenizer.Tokenize(text, emit)
}
