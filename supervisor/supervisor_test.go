package supervisor

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestBackoffGrowsExponentiallyWithinJitterAndCap(t *testing.T) {
	b := Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5}
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 12; n++ {
		want := 10 * time.Millisecond << (n - 1)
		if want > time.Second {
			want = time.Second
		}
		for i := 0; i < 50; i++ {
			d := b.Delay(n, rnd)
			if d > want || d < want/2 {
				t.Fatalf("failure %d: delay %v outside [%v, %v]", n, d, want/2, want)
			}
		}
	}
	// Without jitter the sequence is exact: 10, 20, 40 ms.
	b.Jitter = 0
	for n, want := range []time.Duration{10, 20, 40} {
		if d := b.Delay(n+1, rnd); d != want*time.Millisecond {
			t.Fatalf("failure %d: delay %v, want %v", n+1, d, want*time.Millisecond)
		}
	}
}

func TestBackoffJitterSpreadsDelays(t *testing.T) {
	b := DefaultBackoff()
	rnd := rand.New(rand.NewPCG(7, 7))
	seen := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		seen[b.Delay(3, rnd)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("20 jittered delays gave only %d distinct values", len(seen))
	}
}

func TestRestarterWaitsForBackoffOnInjectedClock(t *testing.T) {
	clock := newFakeClock()
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, ResetAfter: time.Minute}
	r := NewRestarter(b, clock, 1)
	restarts := 0
	d1, n1 := r.Schedule("w1", func() { restarts++ })
	if d1 != 100*time.Millisecond || n1 != 1 {
		t.Fatalf("first failure: delay %v count %d", d1, n1)
	}
	clock.Advance(99 * time.Millisecond)
	if restarts != 0 {
		t.Fatal("restarted before the backoff elapsed")
	}
	clock.Advance(time.Millisecond)
	if restarts != 1 {
		t.Fatalf("restarts = %d after the backoff, want 1", restarts)
	}
	d2, n2 := r.Schedule("w1", func() { restarts++ })
	if d2 != 200*time.Millisecond || n2 != 2 {
		t.Fatalf("second failure: delay %v count %d, want 200ms 2", d2, n2)
	}
	clock.Advance(200 * time.Millisecond)
	// A quiet period longer than ResetAfter starts the count again.
	clock.Advance(2 * time.Minute)
	if d, n := r.Schedule("w1", func() { restarts++ }); d != 100*time.Millisecond || n != 1 {
		t.Fatalf("after a quiet period: delay %v count %d, want 100ms 1", d, n)
	}
	// Another child has its own history.
	if _, n := r.Schedule("w2", func() { restarts++ }); n != 1 {
		t.Fatalf("w2 count %d, want 1", n)
	}
	r.Close()
	clock.Advance(time.Hour)
	if restarts != 2 {
		t.Fatalf("restarts = %d: Close must cancel pending restarts", restarts)
	}
}

func TestLedgerDurableRemovesOnlyHeldBatches(t *testing.T) {
	l := NewLedger[string](2)
	a := l.Open([]string{"a1", "a2"}, 10)
	b := l.Open([]string{"b1"}, 5)
	if a.Seq != 1 || b.Seq != 2 {
		t.Fatalf("sequence numbers %d, %d; want 1, 2", a.Seq, b.Seq)
	}
	l.Assign(a.Seq, 0)
	l.Assign(b.Seq, 1)
	if err := l.Durable(0, []uint64{a.Seq, b.Seq}); err == nil {
		t.Fatal("worker 0 made batch 2, held by worker 1, durable")
	}
	if l.Outstanding() != 2 {
		t.Fatal("a rejected Durable changed the ledger")
	}
	if err := l.Durable(0, []uint64{a.Seq}); err != nil {
		t.Fatal(err)
	}
	if err := l.Durable(0, []uint64{a.Seq}); err == nil {
		t.Fatal("a batch became durable twice")
	}
	if l.Outstanding() != 1 {
		t.Fatalf("outstanding %d, want 1", l.Outstanding())
	}
}

func TestLedgerRedeliversLostWorkersBatchesInOrder(t *testing.T) {
	l := NewLedger[int](2)
	for i := 0; i < 4; i++ {
		l.Assign(l.Open([]int{i}, 1).Seq, int32(i%2))
	}
	if rej := l.WorkerLost(0, 0, "stopped"); len(rej) != 0 {
		t.Fatalf("a stop rejected %v", rej)
	}
	var got []uint64
	for {
		b, ok := l.NextRedelivery()
		if !ok {
			break
		}
		got = append(got, b.Seq)
	}
	if fmt.Sprint(got) != "[1 3]" {
		t.Fatalf("redelivered %v, want [1 3]", got)
	}
	if fmt.Sprint(l.HeldBy(1)) != "[2 4]" {
		t.Fatalf("worker 1 holds %v, want [2 4]", l.HeldBy(1))
	}
}

// A worker that crashes whenever its batch holds the poison document: the
// ledger must isolate that one document and let every other one through.
func TestLedgerIsolatesPoisonDocument(t *testing.T) {
	for _, size := range []int{1, 2, 7, 256} {
		for _, poison := range []int{0, size / 2, size - 1} {
			t.Run(fmt.Sprintf("size%d/poison%d", size, poison), func(t *testing.T) {
				l := NewLedger[int](2)
				docs := make([]int, size)
				for i := range docs {
					docs[i] = i
				}
				first := l.Open(docs, size)
				l.Assign(first.Seq, 0)
				queue := []*Batch[int]{first}
				indexed := map[int]int{}
				var rejected []Rejection[int]
				for steps := 0; len(queue) > 0; steps++ {
					if steps > 10*size+10 {
						t.Fatal("isolation does not terminate")
					}
					b := queue[0]
					queue = queue[1:]
					crashed := false
					for _, d := range b.Docs {
						if d == poison {
							crashed = true
						}
					}
					if crashed {
						rejected = append(rejected, l.WorkerLost(0, b.Seq, "panic: poison")...)
						// The restarted worker drops what was queued for its
						// previous generation: the ledger re-delivers it.
						queue = nil
					} else {
						for _, d := range b.Docs {
							indexed[d]++
						}
						if err := l.Durable(0, []uint64{b.Seq}); err != nil {
							t.Fatal(err)
						}
					}
					for {
						r, ok := l.NextRedelivery()
						if !ok {
							break
						}
						l.Assign(r.Seq, 0)
						queue = append(queue, r)
					}
				}
				if len(rejected) != 1 || rejected[0].Doc != poison || rejected[0].Reason != "panic: poison" {
					t.Fatalf("rejected %v, want only doc %d", rejected, poison)
				}
				for _, d := range docs {
					want := 1
					if d == poison {
						want = 0
					}
					if indexed[d] != want {
						t.Fatalf("doc %d indexed %d times, want %d", d, indexed[d], want)
					}
				}
				if l.Outstanding() != 0 {
					t.Fatalf("%d batches left outstanding", l.Outstanding())
				}
			})
		}
	}
}

func TestLedgerInnocentBatchesAreNotBlamed(t *testing.T) {
	l := NewLedger[int](2)
	bad := l.Open([]int{1}, 1)
	innocent := l.Open([]int{2}, 1)
	for i := 0; i < 5; i++ {
		l.Assign(innocent.Seq, 0)
		if i < 2 {
			l.Assign(bad.Seq, 0)
		}
		// The crash blames bad only while it exists; innocent rides along.
		l.WorkerLost(0, bad.Seq, "boom")
		for {
			if _, ok := l.NextRedelivery(); !ok {
				break
			}
		}
	}
	if innocent.Crashes != 0 {
		t.Fatalf("an innocent batch was blamed %d times", innocent.Crashes)
	}
	if l.Outstanding() != 1 {
		t.Fatalf("outstanding %d, want only the innocent batch", l.Outstanding())
	}
}

func TestRoundCountsAcksAcrossRestarts(t *testing.T) {
	r := NewRound(7, map[int32]uint64{0: 1, 1: 1, 2: 1})
	if !r.Ack(0, 1) {
		t.Fatal("a current ack did not count")
	}
	if r.Ack(0, 1) {
		t.Fatal("a second ack from the same worker counted")
	}
	// Worker 1 restarts: its old generation's ack no longer counts.
	if !r.Restarted(1, 2) {
		t.Fatal("an awaited worker's restart must ask for its flush again")
	}
	if r.Ack(1, 1) {
		t.Fatal("an ack from before the restart counted")
	}
	// Worker 0 acked, then crashed: the ledger check covers its batches in
	// the next round, so this round does not wait for it.
	if r.Restarted(0, 2) {
		t.Fatal("a worker that already acked was awaited again")
	}
	// Worker 2 stopped for good, then its replacement crashed.
	r.Lost(2)
	if r.Restarted(2, 5) {
		t.Fatal("a lost worker was awaited again")
	}
	if r.Done() {
		t.Fatal("round done while worker 1 still owes an ack")
	}
	if fmt.Sprint(r.Waiting()) != "[1]" {
		t.Fatalf("waiting %v", r.Waiting())
	}
	if !r.Ack(1, 2) || !r.Done() {
		t.Fatal("the ack from the restarted generation must finish the round")
	}
}
