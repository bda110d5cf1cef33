package node

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

	"github.com/hermes-search/hermes-go/internal/nodetest"
)

// The tests run nodes as separate OS processes: the test binary re-executes
// itself with HERMES_TEST_NODE set, serves workers on 127.0.0.1 port 0 and
// prints its address. The test process plays the writer with one remote
// that lives as long as the binary (as a service's would): protoactor's
// remote cannot be shut down cleanly (Shutdown races with its own endpoint
// events), and one process cannot host two of them (Start sets gRPC's
// process-wide logger while the other serves).
func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) != "" {
		os.Exit(runNodeProcess())
	}
	if os.Getenv(partitionWriterEnv) != "" {
		os.Exit(runPartitionWriter())
	}
	if os.Getenv(tlsWriterEnv) != "" {
		os.Exit(runTLSWriter())
	}
	goleak.VerifyTestMain(m, nodetest.LeakOptions()...)
}

const (
	nodeEnv        = "HERMES_TEST_NODE"
	nodeScratchEnv = "HERMES_TEST_SCRATCH"
	listenEnv      = "HERMES_TEST_LISTEN" // default 127.0.0.1:0
)

// runNodeProcess is the node's main: it serves until its stdin closes (the
// test ended, or the test process died).
func runNodeProcess() int {
	sys := quietSystem()
	listen := os.Getenv(listenEnv)
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	cfg := Config{Listen: listen, Scratch: os.Getenv(nodeScratchEnv)}
	if dir := os.Getenv(tlsEnv); dir != "" {
		creds, err := loadTestTLS(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cfg.TLS = creds
	}
	n, err := ServeWorkers(sys, cfg)
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
	addr    string
	scratch string
}

// startNode starts a node process and waits for its address.
func startNode(t testing.TB) *nodeProcess {
	t.Helper()
	return startNodeWith(t, nil, nil)
}

// startNodeWith starts a node process with env added, under the command
// prefix wrap (e.g. ip netns exec NS), and waits for its address.
func startNodeWith(t testing.TB, env, wrap []string) *nodeProcess {
	t.Helper()
	scratch := t.TempDir()
	p := nodetest.Start(t, wrap, append([]string{nodeEnv + "=1", nodeScratchEnv + "=" + scratch}, env...)...)
	return &nodeProcess{Process: p, addr: p.Addr, scratch: scratch}
}

// kill kills the node with SIGKILL, as a crash or the OOM killer would.
func (p *nodeProcess) kill(t testing.TB) {
	t.Helper()
	p.Kill(t)
}

// quietSystem returns an actor system that logs nothing, or, with
// HERMES_TEST_LOG set, protoactor's own logs on stderr (for debugging).
func quietSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithDeadLetterThrottleInterval(time.Millisecond), actor.WithLoggerFactory(func(sys *actor.ActorSystem) *slog.Logger {
		if os.Getenv("HERMES_TEST_LOG") != "" {
			return slog.New(slog.NewTextHandler(os.Stderr, nil)).With("process", os.Getpid())
		}
		return slog.New(slog.DiscardHandler)
	}))
}

var (
	writerOnce   sync.Once
	writerSystem *actor.ActorSystem
)

// writer returns the test process's actor system, with remote started.
func writer() *actor.ActorSystem {
	writerOnce.Do(func() {
		writerSystem = quietSystem()
		if _, err := StartRemote(writerSystem, "127.0.0.1", 0, nil); err != nil {
			panic(err)
		}
	})
	return writerSystem
}
