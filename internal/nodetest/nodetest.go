// Package nodetest runs a test binary again as a child process, for tests
// that need a node (or a writer) in another OS process: the child serves,
// prints ListeningLine and its address, and lives until its stdin closes.
// It is shared by the tests of package node and tests/remote.
package nodetest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// ListeningLine starts the line a child prints once it serves, followed by
// its address.
const ListeningLine = "hermes-node-listening "

// LeakOptions ignore the goroutines of a protoactor remote that lives as
// long as the test binary (as a service's would): protoactor's remote
// cannot be shut down cleanly (Shutdown races with its own endpoint
// events), and one process cannot host two of them.
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		// gRPC transports and protoactor's endpoint actors.
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
	}
}

// ServeUntilStdinCloses is the end of a child's main: it prints
// ListeningLine and addr, then waits until stdin closes (the test ended,
// or the test process died).
func ServeUntilStdinCloses(addr string) {
	fmt.Println(ListeningLine + addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// SelfCommand runs the test binary, without tests, with env added, under
// the command prefix wrap (e.g. ip netns exec NS).
func SelfCommand(wrap []string, env ...string) *exec.Cmd {
	args := append(append([]string(nil), wrap...), os.Args[0], "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// Process is a child running the test binary.
type Process struct {
	Addr  string // what the child printed after ListeningLine
	Cmd   *exec.Cmd
	stdin io.WriteCloser

	// The lines the child printed after its address, read until its
	// stdout closes; changed is closed and replaced at each.
	mu      sync.Mutex
	lines   []string
	closed  bool
	changed chan struct{}
}

// Start starts SelfCommand(wrap, env...) and waits for its address. The
// child is stopped when the test ends.
func Start(t testing.TB, wrap []string, env ...string) *Process {
	t.Helper()
	cmd := SelfCommand(wrap, env...)
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
	p := &Process{Cmd: cmd, stdin: stdin, changed: make(chan struct{})}
	t.Cleanup(p.Stop)
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if !strings.HasPrefix(line, ListeningLine) {
		t.Fatalf("node process: %q, %v", line, err)
	}
	p.Addr = strings.TrimSpace(strings.TrimPrefix(line, ListeningLine))
	// Ends when the child's stdout closes (it exited, or was killed).
	go p.readLines(out)
	return p
}

func (p *Process) readLines(out *bufio.Reader) {
	sc := bufio.NewScanner(out)
	for {
		more := sc.Scan()
		p.mu.Lock()
		if more {
			p.lines = append(p.lines, sc.Text())
		} else {
			p.closed = true
		}
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		if !more {
			return
		}
	}
}

// WaitLine waits until the child prints a line starting with prefix (after
// its address), for at most timeout, and returns the rest of that line; it
// fails the test if the child exits or stays silent. Lines printed before
// the call count; each line is returned once.
func (p *Process) WaitLine(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		i := slices.IndexFunc(p.lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
		var rest string
		if i >= 0 {
			rest = strings.TrimPrefix(p.lines[i], prefix)
			p.lines = slices.Delete(p.lines, i, i+1)
		}
		closed, changed := p.closed, p.changed
		p.mu.Unlock()
		switch {
		case i >= 0:
			return rest
		case closed:
			t.Fatalf("the child exited without printing %q...", prefix)
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("the child did not print %q... within %v", prefix, timeout)
		}
	}
}

// Tell writes line to the child's stdin.
func (p *Process) Tell(t testing.TB, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatalf("telling the child %q: %v", line, err)
	}
}

// Kill kills the child with SIGKILL, as a crash or the OOM killer would.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.Cmd.Wait()
}

// Stop closes the child's stdin and waits for it to exit, killing it after
// 10 s.
func (p *Process) Stop() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { _ = p.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-done
	}
}
