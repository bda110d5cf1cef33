package node

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
	goleak.VerifyTestMain(m,
		// The writer's remote: gRPC transports and protoactor's endpoint
		// actors, alive until the process exits.
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
		// Redialing a killed node: DialRetries tries, 2 s apart.
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/remote.(*endpointWriter).initialize"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/remote.(*endpointWriter).initializeInternal.func1"),
		goleak.IgnoreAnyFunction("github.com/asynkron/protoactor-go/actor.NewFuture"),
	)
}

const (
	nodeEnv        = "HERMES_TEST_NODE"
	nodeScratchEnv = "HERMES_TEST_SCRATCH"
	listenEnv      = "HERMES_TEST_LISTEN" // default 127.0.0.1:0
	listeningLine  = "hermes-node-listening "
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
	fmt.Println(listeningLine + n.Address())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// nodeProcess is a node running as a child process.
type nodeProcess struct {
	addr    string
	scratch string
	cmd     *exec.Cmd
	stdin   io.Closer
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
	cmd := selfCommand(wrap, append([]string{nodeEnv + "=1", nodeScratchEnv + "=" + scratch}, env...)...)
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
	p := &nodeProcess{scratch: scratch, cmd: cmd, stdin: stdin}
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

// selfCommand runs the test binary, without tests, with env added, under
// the command prefix wrap.
func selfCommand(wrap []string, env ...string) *exec.Cmd {
	args := append(append([]string(nil), wrap...), os.Args[0], "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
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
