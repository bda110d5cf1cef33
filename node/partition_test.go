package node

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/internal/nodetest"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/shipping"
	"github.com/hermes-search/hermes-go/storage"
)

// The partition test puts a writer and a node in two network namespaces
// joined by a veth pair, and cuts the link with a qdisc that drops every
// packet (`tc qdisc add dev X root pfifo limit 0`): a silent partition, no
// RST, no FIN. Deleting the qdisc heals it. Both processes are this test
// binary; they talk to the test over stdin/stdout lines.

const (
	partitionWriterEnv = "HERMES_TEST_PARTITION_WRITER"
	nodeAddrEnv        = "HERMES_TEST_NODE_ADDR"
)

// quietAfter is how long the idle case lets the connection rest before
// the cut (see runPartitionWriter).
const quietAfter = 2 * time.Second

// partitionSlack is what the test allows beyond DetectionBound for
// scheduling on a loaded machine; the target is under 15 s.
const partitionSlack = 3 * time.Second

// TestPartition cuts the network between a writer and a node twice: in the
// middle of a segment transfer, and while the connections are quiet (only
// keepalive pings can notice). Each time the writer must see the node's
// host as Terminated within DetectionBound (plus slack for a loaded
// machine); the transfer must fail and leave nothing; the node must drop
// the writer's host (deleting its scratch files) within the same bound; and
// after healing the node must serve new writers.
func TestPartition(t *testing.T) {
	ns := nodetest.NewNetns(t)
	node := startNodeAt(t, ns.NodeNS, ns.NodeAddr+":0")

	cmd := nodetest.SelfCommand(ns.InWriterNS(), partitionWriterEnv+"=1", nodeAddrEnv+"="+node.addr, listenEnv+"="+ns.WriterAddr+":0")
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
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	expect := func(prefix string) string {
		t.Helper()
		select {
		case line, ok := <-lines:
			if !ok || !strings.HasPrefix(line, prefix) {
				t.Fatalf("writer said %q (open %v), want %q...", line, ok, prefix)
			}
			return strings.TrimSpace(strings.TrimPrefix(line, prefix))
		case <-time.After(DetectionBound + 30*time.Second):
			t.Fatalf("writer silent, want %q", prefix)
			return ""
		}
	}
	tell := func(s string) {
		if _, err := fmt.Fprintln(stdin, s); err != nil {
			t.Fatal(err)
		}
	}

	// 1. Cut in the middle of a transfer.
	scratch := expect("scratch ")
	expect("transferring")
	ns.Cut(t)
	tell("cut")
	cutAt := time.Now()
	report := expect("lost ")
	// The node loses the writer too, on its own: its host stops and
	// deletes its scratch directory. (Polling a file system another
	// process changes.)
	for {
		if _, err := os.Stat(scratch); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Since(cutAt) > DetectionBound+partitionSlack {
			t.Fatalf("the node kept the host's scratch directory %s %v after the cut", scratch, time.Since(cutAt))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("cut mid-transfer: writer %s; node dropped the writer's host after %v", report, time.Since(cutAt).Round(time.Millisecond))
	ns.Heal(t)
	tell("healed")

	// 2. Cut an idle connection.
	expect("connected")
	ns.Cut(t)
	tell("cut")
	report = expect("lost ")
	t.Logf("cut while idle: %s", report)
	ns.Heal(t)
	tell("healed")
	expect("done")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// startNodeAt starts a node process in network namespace ns listening on
// listen.
func startNodeAt(t *testing.T, ns, listen string) *nodeProcess {
	return startNodeWith(t, []string{listenEnv + "=" + listen}, []string{"ip", "netns", "exec", ns})
}

// runPartitionWriter is the writer's side of TestPartition, in its own
// process and namespace. It prints what it sees; it exits non-zero when a
// detection takes longer than DetectionBound plus slack.
func runPartitionWriter() int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "partition writer: "+format+"\n", args...)
		return 1
	}
	host, _, err := net.SplitHostPort(os.Getenv(listenEnv))
	if err != nil {
		return fail("%v", err)
	}
	nodeAddr := os.Getenv(nodeAddrEnv)
	sys := quietSystem()
	if _, err := StartRemote(sys, host, 0, nil); err != nil {
		return fail("%v", err)
	}
	writer := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	in := bufio.NewScanner(os.Stdin)
	wait := func(want string) error {
		if !in.Scan() || in.Text() != want {
			return fmt.Errorf("test said %q, want %q", in.Text(), want)
		}
		return nil
	}
	// watchHost returns once the watch is in place, so no message is left
	// to send when the test cuts the link: only keepalives can notice.
	watchHost := func(pid *actor.PID) <-chan struct{} {
		ch := make(chan struct{})
		watching := make(chan struct{})
		sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
			switch m := ctx.Message().(type) {
			case *actor.Started:
				ctx.Watch(pid)
				// A request after the Watch on the same connection: its
				// answer means the Watch was delivered.
				if _, err := ctx.RequestFuture(pid, NewHello(writer), testTimeout).Result(); err != nil {
					fmt.Fprintln(os.Stderr, "partition writer: repeated Hello:", err)
				}
				close(watching)
			case *actor.Terminated:
				if m.Who.Equal(pid) {
					close(ch)
					ctx.Stop(ctx.Self())
				}
			}
		}))
		<-watching
		return ch
	}
	bound := DetectionBound + partitionSlack

	// 1. Mid-transfer: the test cuts the link while the fetcher writes its
	// first chunk.
	h, err := Connect(sys, nodeAddr, "host-transfer", writer, testTimeout)
	if err != nil {
		return fail("%v", err)
	}
	seg, err := buildBig(h.Scratch, 4000)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Println("scratch", h.Scratch)
	hostLost := watchHost(h.PID)
	index := storage.NewFaulty(1)
	var cutAt time.Time
	index.OnOp(func(op storage.Op, name string) error {
		if op == storage.OpWrite && cutAt.IsZero() {
			fmt.Println("transferring")
			if err := wait("cut"); err != nil {
				return err
			}
			cutAt = time.Now()
		}
		return nil
	})
	fetcher := sys.Root.Spawn(shipping.NewFetcher(shipping.FetcherConfig{Dir: index, Window: 4}))
	res, err := sys.Root.RequestFuture(fetcher, &messages.FetchSegment{Segment: seg, Source: h.Files}, 2*bound).Result()
	if err != nil {
		return fail("fetch: %v", err)
	}
	fetchFailed := time.Since(cutAt)
	installed := res.(*messages.SegmentInstalled)
	if !strings.Contains(installed.Error, "node lost") {
		return fail("fetch across a partition: %q, want the node lost", installed.Error)
	}
	if names, _ := index.List(); len(names) != 0 {
		return fail("files left after the failed fetch: %v", names)
	}
	select {
	case <-hostLost:
	case <-time.After(bound):
		return fail("host not Terminated within %v of the cut", bound)
	}
	hostTook := time.Since(cutAt)
	if fetchFailed > bound {
		return fail("fetch failed %v after the cut, bound %v", fetchFailed, bound)
	}
	fmt.Printf("lost host after %v, transfer failed after %v\n", hostTook.Round(time.Millisecond), fetchFailed.Round(time.Millisecond))
	if err := wait("healed"); err != nil {
		return fail("%v", err)
	}

	// 2. Idle: a new host (the node lives on after the partition), and
	// nothing on the wire when the link is cut.
	// Messages sent during the cut left a dial pending, which waits for
	// TCP's next SYN retransmission (they back off to 8 s and more).
	h, err = Connect(sys, nodeAddr, "host-idle", writer, 30*time.Second)
	if err != nil {
		return fail("connect after healing: %v", err)
	}
	hostLost = watchHost(h.PID)
	// Let the connection go quiet first: gRPC writes flow-control and ping
	// frames for a moment after traffic, and a cut while one is unacknowledged
	// is noticed in KeepaliveTimeout through TCP_USER_TIMEOUT (the fast case
	// above). Idle, only a keepalive ping can notice.
	time.Sleep(quietAfter)
	fmt.Println("connected")
	if err := wait("cut"); err != nil {
		return fail("%v", err)
	}
	cutAt = time.Now()
	select {
	case <-hostLost:
	case <-time.After(bound):
		return fail("idle host not Terminated within %v of the cut", bound)
	}
	fmt.Printf("lost idle host after %v\n", time.Since(cutAt).Round(time.Millisecond))
	if err := wait("healed"); err != nil {
		return fail("%v", err)
	}
	fmt.Println("done")
	return 0
}
