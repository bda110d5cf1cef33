package node

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/shipping"
	"github.com/hermes-search/hermes-go/storage"
)

// buildBigSegment builds, in the host's scratch directory on the node, a
// segment whose stored-fields file holds about n KiB of incompressible
// bytes, so it spans several full chunks.
func buildBigSegment(t *testing.T, scratch string, n int) *messages.ShippedSegment {
	t.Helper()
	seg, err := buildBig(scratch, n)
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

func buildBig(scratch string, n int) (*messages.ShippedSegment, error) {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "blob", Type: segment.TypeBytes, Stored: true},
	)
	if err != nil {
		return nil, err
	}
	dir, err := storage.NewFS(scratch)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	b := segment.NewBuilder(s, nil)
	for i := range n {
		blob := make([]byte, 1024)
		for j := range blob {
			blob[j] = byte(rng.Uint32())
		}
		if err := b.Add((&segment.Document{}).AddString("id", fmt.Sprint(i)).AddBytes("blob", blob)); err != nil {
			return nil, err
		}
	}
	meta, err := b.Build(dir, segment.NewID())
	if err != nil {
		return nil, err
	}
	return shipping.Describe(dir, meta)
}

func startFetcher(t *testing.T, sys *actor.ActorSystem, dir storage.Directory) *actor.PID {
	pid := sys.Root.Spawn(shipping.NewFetcher(shipping.FetcherConfig{Dir: dir, Window: 4}))
	t.Cleanup(func() { _ = sys.Root.StopFuture(pid).Wait() })
	return pid
}

func fetch(t *testing.T, sys *actor.ActorSystem, fetcher, source *actor.PID, seg *messages.ShippedSegment) *messages.SegmentInstalled {
	t.Helper()
	res, err := sys.Root.RequestFuture(fetcher, &messages.FetchSegment{Segment: seg, Source: source}, testTimeout).Result()
	if err != nil {
		t.Fatal(err)
	}
	return res.(*messages.SegmentInstalled)
}

// A segment of several MiB crosses from a node process in full 1 MiB
// chunks, four in flight (frames above gRPC's default 4 MiB limit).
func TestShipSegmentFromNode(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	h, err := Connect(sys, n.addr, "host-"+t.Name(), writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	seg := buildBigSegment(t, h.Scratch, 5000)
	index := storage.NewFaulty(1)
	res := fetch(t, sys, startFetcher(t, sys, index), h.Files, seg)
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	if res.Bytes != seg.Bytes || res.Chunks < 5 {
		t.Fatalf("installed %d bytes in %d chunks; the segment has %d bytes", res.Bytes, res.Chunks, seg.Bytes)
	}
	for _, d := range seg.Files {
		if size, err := index.FileSize(d.Name); err != nil || size != d.Size {
			t.Fatalf("%s: %d bytes, %v; want %d", d.Name, size, err, d.Size)
		}
	}
}

// kill -9 of the node in the middle of a transfer: the fetch fails as soon
// as the connection drops, and the partial files are removed.
func TestNodeKilledMidTransfer(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	h, err := Connect(sys, n.addr, "host-"+t.Name(), writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	seg := buildBigSegment(t, h.Scratch, 5000)
	index := storage.NewFaulty(1)
	var killed time.Time
	index.OnOp(func(op storage.Op, name string) error {
		if op == storage.OpWrite && killed.IsZero() {
			n.kill(t) // while the fetcher writes its first chunk
			killed = time.Now()
		}
		return nil
	})
	res := fetch(t, sys, startFetcher(t, sys, index), h.Files, seg)
	index.OnOp(nil)
	if !strings.Contains(res.Error, "node lost") {
		t.Fatalf("error %q, want the node lost", res.Error)
	}
	t.Logf("transfer failed %v after kill -9, %d chunks written", time.Since(killed), res.Chunks)
	if names, _ := index.List(); len(names) != 0 {
		t.Fatalf("files left after a failed transfer: %v", names)
	}
	if u := index.Unsynced(); len(u) != 0 {
		t.Fatalf("removals not made durable: %v", u)
	}
}

// kill -9 of the node after it reported a segment but before the fetch
// starts: the fetch fails (node lost) once dialing the dead address gives up.
func TestNodeKilledBeforeTheFetch(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	h, err := Connect(sys, n.addr, "host-"+t.Name(), writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	seg := buildBigSegment(t, h.Scratch, 500)
	n.kill(t)
	start := time.Now()
	index := storage.NewFaulty(1)
	res := fetch(t, sys, startFetcher(t, sys, index), h.Files, seg)
	if !strings.Contains(res.Error, "node lost") {
		t.Fatalf("error %q, want the node lost", res.Error)
	}
	t.Logf("fetch from a dead node failed after %v", time.Since(start).Round(time.Millisecond))
	if names, _ := index.List(); len(names) != 0 {
		t.Fatalf("files left: %v", names)
	}
}
