package supervisor

import (
	"fmt"
	"math/rand/v2"
	"slices"
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
	if rej := l.WorkerLost(0, nil, "stopped"); len(rej) != 0 {
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

// A worker that crashes whenever it adds the poison document, and says so:
// the ledger rejects that one document after maxCrashes crashes, and every
// other document goes through, each once.
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
				crashes := 0
				for len(queue) > 0 {
					b := queue[0]
					queue = queue[1:]
					at := slices.Index(b.Docs, poison)
					if at >= 0 {
						crashes++
						rejected = append(rejected, l.WorkerLost(0, &Blame{Seq: b.Seq, Index: at}, "panic: poison")...)
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
				if crashes != 2 {
					t.Fatalf("%d crashes to isolate the poison document, want MaxCrashes = 2", crashes)
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

func TestLedgerInnocentDocumentsAreNotBlamed(t *testing.T) {
	l := NewLedger[int](2)
	bad := l.Open([]int{1, 2, 3}, 3)
	innocent := l.Open([]int{4}, 1)
	for i := 0; i < 5; i++ {
		l.Assign(innocent.Seq, 0)
		if i < 2 {
			l.Assign(bad.Seq, 0)
		}
		// The crash blames document 2 only while it exists; the others
		// ride along.
		l.WorkerLost(0, &Blame{Seq: bad.Seq, Index: 1}, "boom")
		for {
			if _, ok := l.NextRedelivery(); !ok {
				break
			}
		}
	}
	if len(innocent.Crashes) != 0 || fmt.Sprint(bad.Docs) != "[1 3]" || len(bad.Crashes) != 0 {
		t.Fatalf("innocent crashes %v; bad batch %v with crashes %v; want only document 2 gone", innocent.Crashes, bad.Docs, bad.Crashes)
	}
	if l.Outstanding() != 2 {
		t.Fatalf("outstanding %d, want both batches", l.Outstanding())
	}
}

func TestFailuresBackOffOnlyOnDifferentInput(t *testing.T) {
	b := Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2}
	f := NewFailures(b, 1)
	now := time.Unix(1_700_000_000, 0)
	check := func(what string, input uint64, want time.Duration) {
		t.Helper()
		if d, _ := f.Failed(0, input, now); d != want {
			t.Fatalf("%s: delay %v, want %v", what, d, want)
		}
	}
	check("first failure", 7, 0)
	check("same document again", 7, 0)
	check("different document", 8, 10*time.Millisecond)
	check("unknown input", 0, 20*time.Millisecond)
	check("unknown input again", 0, 40*time.Millisecond)
	f.Progress(0)
	check("after progress", 9, 0)
	if d, _ := f.Failed(1, 5, now); d != 0 {
		t.Fatalf("another worker has its own history: delay %v", d)
	}
}

func TestLedgerDurableLateOnlyForBatchesNotHandedOutAgain(t *testing.T) {
	l := NewLedger[int](2)
	a := l.Open([]int{1}, 1)
	b := l.Open([]int{2}, 1)
	l.Assign(a.Seq, 0)
	l.Assign(b.Seq, 0)
	l.WorkerLost(0, nil, "stopped")
	l.Assign(b.Seq, 1) // b went to worker 1; a still waits
	if err := l.DurableLate([]uint64{a.Seq, b.Seq}); err == nil {
		t.Fatal("a late segment holding a batch handed out again was kept")
	}
	if err := l.DurableLate([]uint64{a.Seq}); err != nil {
		t.Fatalf("a late segment of a waiting batch: %v", err)
	}
	if _, ok := l.NextRedelivery(); ok {
		t.Fatal("a batch made durable late was still re-delivered")
	}
	if l.Outstanding() != 1 {
		t.Fatalf("outstanding %d, want only b", l.Outstanding())
	}
}

// A crash reported after its worker was already lost without blame (a
// remote worker's Terminated overtook its report) still counts: in a batch
// waiting for re-delivery the document is rejected at once on its
// MaxCrashes-th crash; in a batch a worker holds it is counted, and
// rejected at its next crash.
func TestLedgerLateBlame(t *testing.T) {
	l := NewLedger[int](2)
	b := l.Open([]int{10, 11, 12}, 3)
	l.Assign(b.Seq, 0)
	l.WorkerLost(0, &Blame{Seq: b.Seq, Index: 1}, "panic") // first crash, reported in order
	l.Assign(b.Seq, 0)
	l.WorkerLost(0, nil, "stopped") // the second: Terminated first, no blame
	if r := l.LateBlame(Blame{Seq: b.Seq, Index: 1}, "late panic"); len(r) != 1 || r[0].Doc != 11 || r[0].Reason != "late panic" {
		t.Fatalf("late blame of the second crash, batch waiting: rejected %v, want doc 11", r)
	}
	if got, _ := l.Batch(b.Seq); !slices.Equal(got.Docs, []int{10, 12}) {
		t.Fatalf("batch holds %v after the rejection, want [10 12]", got.Docs)
	}

	l = NewLedger[int](2)
	held := l.Open([]int{20, 21}, 2)
	l.Assign(held.Seq, 0)
	l.WorkerLost(0, nil, "stopped")
	r, _ := l.NextRedelivery()
	l.Assign(r.Seq, 1) // handed out again before the late report
	if r := l.LateBlame(Blame{Seq: held.Seq, Index: 0}, "late panic"); len(r) != 0 {
		t.Fatalf("late blame of a held batch rejected %v at once, want nothing yet", r)
	}
	if r := l.WorkerLost(1, &Blame{Seq: held.Seq, Index: 0}, "panic"); len(r) != 1 || r[0].Doc != 20 {
		t.Fatalf("the next crash rejected %v, want doc 20 (its second crash)", r)
	}
	if r := l.LateBlame(Blame{Seq: 99, Index: 0}, "x"); len(r) != 0 {
		t.Fatalf("late blame of an unknown batch rejected %v", r)
	}
}
