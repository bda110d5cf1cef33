// Package remote tests a writer with workers on other nodes, each node a
// separate OS process on 127.0.0.1: the test binary re-executes itself as a
// node (HERMES_TEST_NODE) on port 0 and prints its address.
package remote

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

	"github.com/hermes-search/hermes-go/internal/nodetest"
	"github.com/hermes-search/hermes-go/node"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// The test process plays the writer with one remote for the binary's life:
// protoactor's remote cannot be shut down cleanly, and one process cannot
// host two (see package node's tests).
func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) != "" {
		os.Exit(runNodeProcess())
	}
	if os.Getenv(partitionWriterEnv) != "" {
		os.Exit(runPartitionWriter())
	}
	goleak.VerifyTestMain(m, nodetest.LeakOptions()...)
}

const (
	nodeEnv        = "HERMES_TEST_NODE"
	nodeScratchEnv = "HERMES_TEST_SCRATCH"
	nodeListenEnv  = "HERMES_TEST_LISTEN" // default 127.0.0.1:0
	// nodePauseEnv makes the node pause once at a point (pausingDir).
	nodePauseEnv = "HERMES_TEST_PAUSE"
)

// runNodeProcess serves workers until stdin closes (the test ended, or the
// test process died).
func runNodeProcess() int {
	cfg := node.Config{Listen: os.Getenv(nodeListenEnv), Scratch: os.Getenv(nodeScratchEnv), Tokenizers: tokenizers(), Logger: debugLogger()}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if point := os.Getenv(nodePauseEnv); point != "" {
		resume := make(chan os.Signal, 1)
		signal.Notify(resume, syscall.SIGUSR1)
		cfg.OpenScratch = func(path string) (storage.Directory, error) {
			dir, err := storage.NewFS(path)
			if err != nil {
				return nil, err
			}
			return &pausingDir{Directory: dir, point: point, resume: resume, opened: map[string]bool{}}, nil
		}
	}
	n, err := node.ServeWorkers(quietSystem(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	nodetest.ServeUntilStdinCloses(n.Address())
	return 0
}

// Points where a node pauses (nodePauseEnv), and the line it prints there.
const (
	// pauseBuild: as a worker's segment build creates its meta file, the
	// last: every other file of the segment is written, the segment is not
	// complete.
	pauseBuild = "build"
	// pauseServe: as the file server reads the first chunk the writer asks
	// for, so after the worker reported its segment (SegmentShipped, its
	// FlushAck) and before the writer installed it.
	pauseServe   = "serve"
	pausedPrefix = "hermes-node-paused "
)

// pausingDir is a node's scratch directory that pauses the node once, at
// point: it prints pausedPrefix+point and blocks the file operation until
// the process receives SIGUSR1 (a test kills it before, or cuts the network
// and then lets it go on).
type pausingDir struct {
	storage.Directory
	point  string
	resume <-chan os.Signal
	once   sync.Once
	mu     sync.Mutex
	opened map[string]bool
}

func (d *pausingDir) pause() {
	d.once.Do(func() {
		fmt.Println(pausedPrefix + d.point)
		<-d.resume
	})
}

func (d *pausingDir) Create(name string) (storage.WriteFile, error) {
	if d.point == pauseBuild && strings.HasSuffix(name, ".meta") {
		d.pause()
	}
	return d.Directory.Create(name)
}

// Open pauses at the second open of a file for pauseServe: the worker opens
// each file it built once (shipping.Describe hashes it), the file server at
// every chunk it reads.
func (d *pausingDir) Open(name string) (storage.ReadFile, error) {
	if d.point == pauseServe {
		d.mu.Lock()
		again := d.opened[name]
		d.opened[name] = true
		d.mu.Unlock()
		if again {
			d.pause()
		}
	}
	return d.Directory.Open(name)
}

// nodeProcess is a node running as a child process.
type nodeProcess struct {
	*nodetest.Process
	addr string
}

// startNode starts a node process and waits for its address.
func startNode(t testing.TB) *nodeProcess {
	t.Helper()
	return startNodeWith(t, nil)
}

// startNodeWith starts a node process with env added, under the command
// prefix wrap (e.g. ip netns exec NS), and waits for its address.
func startNodeWith(t testing.TB, wrap []string, env ...string) *nodeProcess {
	t.Helper()
	p := nodetest.Start(t, wrap, append([]string{nodeEnv + "=1", nodeScratchEnv + "=" + t.TempDir()}, env...)...)
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

// tokenizers are the built-in ones, "poison", which panics on a text
// holding POISON (the writer and the nodes register it), and "gate", which
// is "simple" on nodes (see gate for the writer's).
func tokenizers() *analysis.Registry {
	return tokenizersWith(nil)
}

// tokenizersWith is tokenizers with g as "gate" (nil: "simple").
func tokenizersWith(g *gate) *analysis.Registry {
	reg := analysis.NewRegistry()
	simple, err := reg.Get("simple")
	if err != nil {
		panic(err)
	}
	if err := reg.Register("poison", poison{simple}); err != nil {
		panic(err)
	}
	var gated analysis.Tokenizer = simple
	if g != nil {
		g.Tokenizer, gated = simple, g
	}
	if err := reg.Register("gate", gated); err != nil {
		panic(err)
	}
	return reg
}

// gate is "simple" held shut at its first text until open is closed: the
// writer's local worker waits there with its first batch, so a remote
// worker takes every other batch.
type gate struct {
	analysis.Tokenizer
	once     sync.Once
	open     chan struct{}
	released sync.Once
}

func newGate(t testing.TB) *gate {
	g := &gate{open: make(chan struct{})}
	t.Cleanup(g.release)
	return g
}

// release opens the gate (again: no effect).
func (g *gate) release() { g.released.Do(func() { close(g.open) }) }

func (g *gate) Tokenize(text string, emit func(analysis.Token)) {
	g.once.Do(func() { <-g.open })
	g.Tokenizer.Tokenize(text, emit)
}

type poison struct{ analysis.Tokenizer }

func (p poison) Tokenize(text string, emit func(analysis.Token)) {
	if strings.Contains(text, "POISON") {
		panic("poison document")
	}
	p.Tokenizer.Tokenize(text, emit)
}
