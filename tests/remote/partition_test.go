package remote

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/internal/nodetest"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/node"
	"github.com/hermes-search/hermes-go/storage"
)

// The partition test runs a writer (with its coordinator, one local worker
// and one remote worker) and a node in two network namespaces joined by a
// veth pair, and cuts the link silently in the middle of a flush: the node
// is paused in its segment build, so the flush waits on it. The writer must
// declare the node lost within node.DetectionBound, complete the prepare on
// its local worker, and, once the link is healed and the node finishes its
// build, refuse the node's late segment. Both processes are this test
// binary; the test talks to the writer over its stdin and stdout.

const (
	partitionWriterEnv = "HERMES_TEST_PARTITION_WRITER"
	partitionNodeEnv   = "HERMES_TEST_PARTITION_NODE" // the node's address
	// partitionSlack is what the test allows beyond node.DetectionBound
	// for scheduling on a loaded machine (the target is 15 s).
	partitionSlack = 3 * time.Second
	// lateWait bounds the wait for the node's late segment after healing:
	// a connection the node dialled during the cut waits for TCP's next SYN
	// retransmission (they back off to 8 s and more).
	lateWait = 30 * time.Second
)

func TestPartitionMidFlush(t *testing.T) {
	ns := nodetest.NewNetns(t)
	n := startNodeWith(t, ns.InNodeNS(), nodeListenEnv+"="+ns.NodeAddr+":0", nodePauseEnv+"="+pauseBuild)
	w := nodetest.Start(t, ns.InWriterNS(), partitionWriterEnv+"=1", partitionNodeEnv+"="+n.addr, nodeListenEnv+"="+ns.WriterAddr+":0")
	long := node.DetectionBound + flushDeadline + lateWait

	n.WaitLine(t, pausedPrefix+pauseBuild, long)
	ns.Cut(t)
	w.Tell(t, "cut")
	t.Logf("node declared lost %s after the cut", w.WaitLine(t, "lost ", long))
	t.Logf("commit finished %s after the cut", w.WaitLine(t, "committed ", long))
	ns.Heal(t)
	if err := n.Cmd.Process.Signal(syscall.SIGUSR1); err != nil { // the build goes on
		t.Fatal(err)
	}
	w.Tell(t, "healed")
	t.Logf("late segment refused %s after healing", w.WaitLine(t, "refused ", long))
	w.WaitLine(t, "done", long)
}

// processT is a testing.TB for a child process: a failure prints to stderr
// and exits non-zero (the test then sees the child exit early).
type processT struct{ testing.TB }

func (processT) Helper()                 {}
func (processT) Log(args ...any)         { fmt.Fprintln(os.Stderr, args...) }
func (processT) Logf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (processT) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"partition writer:"}, args...)...)
	os.Exit(1)
}
func (processT) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "partition writer: "+f+"\n", a...)
	os.Exit(1)
}

// partitionLogs closes lost and refused when the writer logs the node's
// loss and the refusal of a segment of an old generation.
type partitionLogs struct {
	lost, refused chan struct{}
	once          [2]sync.Once
}

func (h *partitionLogs) Enabled(context.Context, slog.Level) bool { return true }
func (h *partitionLogs) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "node lost; its workers' batches are re-delivered":
		h.once[0].Do(func() { close(h.lost) })
	case "refusing a segment of an old generation":
		h.once[1].Do(func() { close(h.refused) })
	}
	if l := debugLogger(); l != nil {
		return l.Handler().Handle(context.Background(), r)
	}
	return nil
}
func (h *partitionLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *partitionLogs) WithGroup(string) slog.Handler      { return h }

// runPartitionWriter is the writer's side of TestPartitionMidFlush, in its
// own process and namespace.
func runPartitionWriter() int {
	t := processT{}
	host, _, err := net.SplitHostPort(os.Getenv(nodeListenEnv))
	if err != nil {
		t.Fatal(err)
	}
	sys := quietSystem()
	if _, err := node.StartRemote(sys, host, 0, nil); err != nil {
		t.Fatal(err)
	}
	fmt.Println(nodetest.ListeningLine + sys.Address())
	in := bufio.NewScanner(os.Stdin)
	wait := func(want string) {
		if !in.Scan() || in.Text() != want {
			t.Fatalf("test said %q, want %q", in.Text(), want)
		}
	}
	path, err := os.MkdirTemp("", "hermes-partition-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(path)
	dir, err := storage.NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{open: make(chan struct{})}
	logs := &partitionLogs{lost: make(chan struct{}), refused: make(chan struct{})}
	w, err := hermes.Create(context.Background(), dir, gatedSchema(t), hermes.Config{
		Workers: 1, Nodes: []string{os.Getenv(partitionNodeEnv)}, ActorSystem: sys, BatchDocs: 50,
		Tokenizers: tokenizersWith(g), FlushDeadline: flushDeadline, Logger: slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitStarted(t, w, 2)
	addAll(t, w, 0, killDocs)
	// The local worker holds one batch at the gate, the remote one all the
	// others; the node pauses in their build, and the test cuts the link.
	done := startCommit(w)
	wait("cut")
	cutAt := time.Now()
	// Traffic toward the node after the cut, as a flush makes (requests,
	// batches): unacknowledged, it is given up after
	// node.KeepaliveTimeout. Without it the loss waits for the keepalive
	// ping, up to node.DetectionBound (TestPartition in package node
	// measures that case).
	sys.Root.Send(actor.NewPID(os.Getenv(partitionNodeEnv), "partition-probe"), &messages.Hello{})
	g.release()
	bound := node.DetectionBound + partitionSlack
	select {
	case <-logs.lost:
	case <-time.After(bound):
		t.Fatalf("node not declared lost within %v of the cut", bound)
	}
	fmt.Println("lost", time.Since(cutAt).Round(time.Millisecond))
	res := <-done
	if res.err != nil {
		t.Fatalf("commit across the partition: %v", res.err)
	}
	fmt.Println("committed", time.Since(cutAt).Round(time.Millisecond))
	checkExactly(t, ids(t, w), killDocs)

	wait("healed")
	healedAt := time.Now()
	select {
	case <-logs.refused:
	case <-time.After(lateWait):
		t.Fatalf("no late segment from the node within %v of healing", lateWait)
	}
	fmt.Println("refused", time.Since(healedAt).Round(time.Millisecond))
	// Nothing came in with it: a commit now changes nothing.
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkExactly(t, ids(t, w), killDocs)
	checkIntegrity(t, dir)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Println("done")
	nodetest.ServeUntilStdinCloses("")
	return 0
}
