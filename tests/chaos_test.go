package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/supervisor"
)

// fastBackoff keeps chaos tests quick while still exercising the backoff.
var fastBackoff = supervisor.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond, Multiplier: 2, Jitter: 0.5}

func TestPoisonDocumentsAreIsolatedAndEverythingElseIndexed(t *testing.T) {
	c := newChaos(t, 1, 0)
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), schema(t, "chaos"),
		hermes.Config{Workers: 2, Tokenizers: registry(t, c), WorkerBackoff: fastBackoff})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rnd := rand.New(rand.NewPCG(1, 1))
	want := map[string]bool{}
	poison := map[string]bool{}
	for i := 0; i < 3000; i++ {
		k := id("doc", i)
		body := text(rnd)
		if i%997 == 500 {
			body += " POISON"
			poison[k] = true
		} else {
			want[k] = true
		}
		add(t, w, newDoc(k, uint64(i), body))
	}
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != len(poison) {
		t.Fatalf("rejected %d documents, want the %d poison ones: %+v", len(res.Rejected), len(poison), res.Rejected)
	}
	for _, r := range res.Rejected {
		if !poison[r.Key] || !strings.Contains(r.Reason, "chaos: poison document") {
			t.Fatalf("rejected %q for %q; want only poison documents, with the panic's message", r.Key, r.Reason)
		}
		if v, _ := r.Doc.Get("id"); v.Str != r.Key {
			t.Fatalf("rejected document carries id %q, key %q", v.Str, r.Key)
		}
	}
	if res.Docs != len(want) {
		t.Fatalf("committed %d docs, want %d", res.Docs, len(want))
	}
	checkExactly(t, readerIDs(t, w), want, "after commit")
}

func TestKilledWorkersLoseNothing(t *testing.T) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 2))
			ctx := context.Background()
			w, err := hermes.Create(ctx, storage.NewMem(), schema(t, ""),
				hermes.Config{Workers: 3, MaxIndexingMemory: 3 << 20, BatchDocs: 32, WorkerBackoff: fastBackoff})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			system := w.ActorSystem()
			kill := func() {
				workers, err := w.Workers(ctx)
				if err != nil {
					t.Fatal(err)
				}
				victim := workers[rnd.IntN(len(workers))]
				if rnd.IntN(2) == 0 {
					system.Root.Stop(victim.PID) // stops between two messages
				} else {
					system.Root.Poison(victim.PID) // stops after what is queued
				}
			}
			want := map[string]bool{}
			for i := 0; i < 3000; i++ {
				k := id("doc", i)
				want[k] = true
				add(t, w, newDoc(k, uint64(i), text(rnd)))
				if i%250 == 0 {
					kill()
				}
			}
			// Kill workers while the flush round runs, too.
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				kill()
				kill()
			}()
			res, err := w.Commit(ctx)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if res.Docs != len(want) || len(res.Rejected) != 0 {
				t.Fatalf("committed %d docs, rejected %d; want %d and none", res.Docs, len(res.Rejected), len(want))
			}
			checkExactly(t, readerIDs(t, w), want, "after commit")
			workers, err := w.Workers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(workers) != 3 {
				t.Fatalf("%d workers after the kills, want 3 (each replaced)", len(workers))
			}
		})
	}
}

// TestChaosManyCommitsAndAborts runs thousands of documents through many
// commits and aborts while workers panic at random and get killed. After
// every step the index must hold exactly the documents of successful commits,
// each once; rejected documents are reported and absent.
func TestChaosManyCommitsAndAborts(t *testing.T) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			c := newChaos(t, seed, 0.002)
			rnd := rand.New(rand.NewPCG(seed, 3))
			ctx := context.Background()
			dir := storage.NewMem()
			cfg := hermes.Config{Workers: 2, MaxIndexingMemory: 2 << 20, BatchDocs: 64,
				Tokenizers: registry(t, c), WorkerBackoff: fastBackoff, FlushDeadline: time.Minute, Logger: logger()}
			w, err := hermes.Create(ctx, dir, schema(t, "chaos"), cfg)
			if err != nil {
				t.Fatal(err)
			}
			committed := map[string]bool{}
			next := 0
			for cycle := 0; cycle < 12; cycle++ {
				batch := map[string]bool{}
				for i, n := 0, 100+rnd.IntN(300); i < n; i++ {
					k := id("doc", next)
					body := text(rnd)
					if rnd.IntN(500) == 0 {
						body += " POISON"
					}
					add(t, w, newDoc(k, uint64(next), body))
					batch[k] = true
					next++
					if rnd.IntN(200) == 0 {
						workers, err := w.Workers(ctx)
						if err != nil {
							t.Fatal(err)
						}
						w.ActorSystem().Root.Stop(workers[rnd.IntN(len(workers))].PID)
					}
				}
				p, err := w.PrepareCommit(ctx)
				if err != nil {
					t.Fatalf("cycle %d: %v", cycle, err)
				}
				rejected := map[string]bool{}
				for _, r := range p.Result().Rejected {
					if !batch[r.Key] {
						t.Fatalf("cycle %d: rejected %q, which is not from this cycle", cycle, r.Key)
					}
					rejected[r.Key] = true
				}
				if p.Result().Docs+len(rejected) != len(batch) {
					t.Fatalf("cycle %d: prepared %d + rejected %d docs, added %d", cycle, p.Result().Docs, len(rejected), len(batch))
				}
				switch rnd.IntN(3) {
				case 0:
					if err := p.Abort(); err != nil {
						t.Fatal(err)
					}
				default:
					if _, err := p.Commit(ctx); err != nil {
						t.Fatalf("cycle %d: %v", cycle, err)
					}
					for k := range batch {
						if !rejected[k] {
							committed[k] = true
						}
					}
				}
				checkExactly(t, readerIDs(t, w), committed, fmt.Sprintf("cycle %d", cycle))
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// Reopening sees exactly the committed documents.
			r, err := hermes.OpenReader(ctx, dir, hermes.Config{Tokenizers: registry(t, newChaos(t, seed, 0))})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			checkExactly(t, allIDs(t, r), committed, "after reopening")
		})
	}
}
