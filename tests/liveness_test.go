package tests

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// faults is a workload under faults: poison documents among the adds, and a
// killer that stops a random worker every killEvery on average.
type faults struct {
	poisonEvery int           // one poison document per this many; 0: none
	killEvery   time.Duration // 0: no kills
}

// liveWriter makes a writer with the default Config but for the chaos
// tokenizer, the deadline and the logger, which tells workers' progress to
// progress if not nil.
func liveWriter(tb testing.TB, deadline time.Duration, progress *workerProgress) *hermes.Writer {
	tb.Helper()
	log := logger()
	if progress != nil {
		progress.next = log
		log = slog.New(progress)
	}
	w, err := hermes.Create(context.Background(), storage.NewMem(), schema(tb, "chaos"),
		hermes.Config{Workers: 2, Tokenizers: registry(tb, newChaos(tb, 1, 0)), FlushDeadline: deadline, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// workerProgress is a log handler that notes the worker generations that
// made progress: asked to flush after adding their batches, or built a
// segment (the writer's structured events). It passes records on to next,
// if set.
type workerProgress struct {
	mu     sync.Mutex
	worked map[string]bool // by workerKey
	next   *slog.Logger
}

func workerKey(worker, generation any) string { return fmt.Sprint(worker, "/", generation) }

// hasWorked reports whether generation of worker made progress.
func (p *workerProgress) hasWorked(worker int, generation uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.worked[workerKey(worker, generation)]
}

func (p *workerProgress) Enabled(context.Context, slog.Level) bool { return true }

func (p *workerProgress) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "flush requested" || r.Message == "segment built" {
		var worker, generation any
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "worker":
				worker = a.Value.Any()
			case "generation":
				generation = a.Value.Any()
			}
			return true
		})
		p.mu.Lock()
		if p.worked == nil {
			p.worked = map[string]bool{}
		}
		p.worked[workerKey(worker, generation)] = true
		p.mu.Unlock()
	}
	if p.next != nil && p.next.Handler().Enabled(ctx, r.Level) {
		return p.next.Handler().Handle(ctx, r)
	}
	return nil
}

func (p *workerProgress) WithAttrs([]slog.Attr) slog.Handler { return p } // the writer adds none
func (p *workerProgress) WithGroup(string) slog.Handler      { return p }

// startKiller stops a random worker every mean on average (exponentially
// distributed pauses on the killer's clock, seeded) until the returned stop
// is called, and returns how many it stopped. With progress, it stops only
// workers whose generation made progress, so that the fault rate is
// relative to the system's progress rather than to the machine's speed: on
// a loaded machine, where adding a batch takes longer than a worker's
// mean life, a wall-clock killer would leave no worker to finish one, and
// no system could commit. Each generation is then stopped soon after it
// starts building the segment of the batches it added, often mid-build.
func startKiller(tb testing.TB, w *hermes.Writer, mean time.Duration, seed uint64, progress *workerProgress) (stop func() int) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	kills := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		rnd := rand.New(rand.NewPCG(seed, 5))
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Duration(rnd.ExpFloat64() * float64(mean))):
			}
			workers, err := w.Workers(context.Background())
			if err != nil {
				return
			}
			victim := workers[rnd.IntN(len(workers))]
			if progress != nil && !progress.hasWorked(victim.ID, victim.Generation) {
				continue
			}
			w.ActorSystem().Root.Stop(victim.PID)
			kills++
		}
	}()
	return func() int {
		close(done)
		wg.Wait()
		return kills
	}
}

// cycle adds n documents (poison ones among them) and commits, returning
// the commit's latency. committed, if not nil, gets the ids committed.
func cycle(tb testing.TB, w *hermes.Writer, rnd *rand.Rand, next *int, n int, f faults, committed map[string]bool) (time.Duration, hermes.CommitResult) {
	tb.Helper()
	poison := 0
	added := make([]string, 0, n)
	for i := 0; i < n; i++ {
		body := text(rnd)
		if f.poisonEvery > 0 && rnd.IntN(f.poisonEvery) == 0 {
			body += " POISON"
			poison++
		}
		k := id("doc", *next)
		add(tb, w, newDoc(k, uint64(*next), body))
		added = append(added, k)
		*next++
	}
	start := time.Now()
	res, err := w.Commit(context.Background())
	took := time.Since(start)
	if err != nil {
		tb.Fatalf("commit after %v: %v", took, err)
	}
	if res.Docs+len(res.Rejected) != n || len(res.Rejected) != poison {
		tb.Fatalf("commit: %d documents and %d rejected, want %d and the %d poison ones", res.Docs, len(res.Rejected), n-poison, poison)
	}
	if committed != nil {
		for _, k := range added {
			committed[k] = true
		}
		for _, r := range res.Rejected {
			delete(committed, r.Key)
		}
	}
	return took, res
}

// Commits finish under faults, with the default backoff: with a poison
// document per 2,000 and a worker killed every 10 ms on average once it
// made progress (startKiller), each commit of 1,000 documents finishes
// within a 10 s flush deadline (30 s under the race detector; they take
// milliseconds without it, see BenchmarkChaos), loses nothing and indexes
// nothing twice, and once the killing stops the next commit needs a single
// flush round, as a clean one. Workers are often stopped mid-build: the
// segment they finish must count (coordinator_stop_mid_build.txt), or
// commits take many more rounds.
func TestCommitsFinishUnderFaults(t *testing.T) {
	progress := &workerProgress{}
	w := liveWriter(t, raceSlowdown*10*time.Second, progress)
	defer w.Close()
	rnd := rand.New(rand.NewPCG(1, 7))
	next := 0
	f := faults{poisonEvery: 2000, killEvery: 10 * time.Millisecond}
	stop := startKiller(t, w, f.killEvery, 1, progress)
	committed := map[string]bool{}
	for i := 0; i < 3; i++ {
		took, res := cycle(t, w, rnd, &next, 1000, f, committed)
		t.Logf("commit %d under faults: %v, %d flush rounds", i, took, res.FlushRounds)
	}
	kills := stop()
	if kills == 0 {
		t.Fatal("the killer stopped no worker: does the writer still log workers' progress (workerProgress)?")
	}
	_, res := cycle(t, w, rnd, &next, 1000, faults{}, committed)
	if res.FlushRounds != 1 {
		t.Fatalf("the commit after the killing stopped took %d flush rounds, want 1", res.FlushRounds)
	}
	t.Logf("%d workers killed during 3 commits", kills)
	checkExactly(t, readerIDs(t, w), committed, "after the commits under faults")
}

// BenchmarkChaos measures commits of 2,000 documents under faults: clean,
// (a) one poison document per 2,000, (b) a worker killed every 10 ms on
// average, (c) both; and (d) a clean commit right after killing stopped.
// It reports commit latency p50 and max and documents committed per second.
// Run with -benchtime=Nx for N commits.
func BenchmarkChaos(b *testing.B) {
	for _, bc := range []struct {
		name string
		f    faults
	}{
		{"clean", faults{}},
		{"poison", faults{poisonEvery: 2000}},
		{"kill", faults{killEvery: 10 * time.Millisecond}},
		{"both", faults{poisonEvery: 2000, killEvery: 10 * time.Millisecond}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := liveWriter(b, 5*time.Minute, nil)
			defer w.Close()
			rnd := rand.New(rand.NewPCG(2, 7))
			next := 0
			var stop func() int
			if bc.f.killEvery > 0 {
				// On the wall clock: a measurement at a fixed fault rate.
				stop = startKiller(b, w, bc.f.killEvery, 2, nil)
			}
			var lat []time.Duration
			docs := 0
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				took, res := cycle(b, w, rnd, &next, 2000, bc.f, nil)
				lat = append(lat, took)
				docs += res.Docs
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if stop != nil {
				stop()
				took, _ := cycle(b, w, rnd, &next, 2000, faults{}, nil)
				b.ReportMetric(float64(took.Microseconds())/1000, "after-ms")
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(docs)/elapsed.Seconds(), "docs/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
