// Package remote tests a writer with workers on other nodes, each node a
// separate OS process on 127.0.0.1: the test binary re-executes itself as a
// node (HERMES_TEST_NODE) on port 0 and prints its address.
package remote

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"

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
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("google.golang.org/grpc.(*Server).Serve"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/transport.(*controlBuffer).get"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/transport.(*http2Client).keepalive"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/transport.(*http2Server).keepalive"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/transport.(*recvBufferReader).read"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc.(*addrConn).resetTransport"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/transport.newHTTP2Server.func2"),
		goleak.IgnoreAnyFunction("google.golang.org/grpc/internal/transport.newHTTP2Client.func6"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/remote.(*endpointReader).Receive"),
		// Redialing a killed node: node.DialRetries tries, 2 s apart.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/remote.(*endpointWriter).initialize"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/remote.(*endpointWriter).initializeInternal.func1"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewFuture"),
	)
}

const (
	nodeEnv        = "HERMES_TEST_NODE"
	nodeScratchEnv = "HERMES_TEST_SCRATCH"
	listeningLine  = "hermes-node-listening "
)

// runNodeProcess serves workers until stdin closes (the test ended, or the
// test process died).
func runNodeProcess() int {
	n, err := node.ServeWorkers(quietSystem(), node.Config{Listen: "127.0.0.1:0", Scratch: os.Getenv(nodeScratchEnv), Tokenizers: tokenizers(), Logger: debugLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(listeningLine + n.Address())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

type nodeProcess struct {
	addr  string
	cmd   *exec.Cmd
	stdin io.Closer
}

func startNode(t testing.TB) *nodeProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeEnv+"=1", nodeScratchEnv+"="+t.TempDir())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodeProcess{cmd: cmd, stdin: stdin}
	t.Cleanup(p.stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, listeningLine) {
		t.Fatalf("node process: %q, %v", line, err)
	}
	p.addr = strings.TrimSpace(strings.TrimPrefix(line, listeningLine))
	return p
}

// kill kills the node with SIGKILL, as a crash or the OOM killer would.
func (p *nodeProcess) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func (p *nodeProcess) stop() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
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
