package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// BenchmarkAddWhileCommitting: 32 goroutines add documents
// (AddDocumentWait, retried at once if refused) while another commits in a
// loop, for 5 s per iteration. It reports documents accepted and refusals
// per second, and commits per second.
func BenchmarkAddWhileCommitting(b *testing.B) {
	for i := 0; i < b.N; i++ {
		w := create(b, storage.NewMem(), hermes.Config{Workers: 2})
		var accepted, refused, next atomic.Int64
		stop := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for g := 0; g < 32; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					n := next.Add(1)
					d := doc(fmt.Sprint("d", n), wordsFor(int(n)))
					for {
						err := w.AddDocumentWait(ctx, d)
						if err == nil {
							accepted.Add(1)
							break
						}
						if errors.Is(err, context.Canceled) {
							return
						}
						if !errors.Is(err, hermes.ErrCommitInProgress) {
							b.Error(err)
							return
						}
						refused.Add(1)
						select {
						case <-stop:
							return
						default:
						}
					}
				}
			}()
		}
		commits := 0
		start := time.Now()
		for time.Since(start) < 5*time.Second {
			if _, err := w.Commit(context.Background()); err != nil {
				b.Fatal(err)
			}
			commits++
		}
		close(stop)
		cancel()
		wg.Wait()
		elapsed := time.Since(start).Seconds()
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(accepted.Load())/elapsed, "accepted/s")
		b.ReportMetric(float64(refused.Load())/elapsed, "refused/s")
		b.ReportMetric(float64(commits)/elapsed, "commits/s")
	}
}

// BenchmarkIntake: 8 goroutines add small pre-built documents
// (AddDocumentWait) while the workers consume them, with and without a
// primary key. It reports the documents accepted per second: what intake
// (validation, the key set, credits, the hand-off to the coordinator) costs
// the callers while the workers build beside them.
//
// queue=all makes the queue hold every document of an iteration, so the
// callers never wait for the workers: intake's own rate. queue=default
// (10,000) measures the sustained rate, which the workers bound.
// queue=held is queue=all with the documents held in the coordinator's
// queue (Config.Deterministic: workers take them only at a commit), so
// that its CPU per document is intake's alone.
// It also reports the process's CPU time per document, workers included.
func BenchmarkIntake(b *testing.B) {
	const goroutines, perGoroutine = 8, 25_000
	keyed := testSchema(b)
	unkeyed, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
	)
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]*hermes.Document, goroutines*perGoroutine)
	for i := range docs {
		docs[i] = doc(fmt.Sprint("d", i), wordsFor(i))
	}
	for _, key := range []bool{false, true} {
		for _, queue := range []string{"all", "default", "held"} {
			b.Run(fmt.Sprintf("key=%v/queue=%s", key, queue), func(b *testing.B) {
				s := unkeyed
				if key {
					s = keyed
				}
				cfg := hermes.Config{Workers: 2}
				if queue != "default" {
					cfg.QueueCapacity = len(docs)
				}
				cfg.Deterministic = queue == "held"
				ctx := context.Background()
				var elapsed, cpu time.Duration
				for i := 0; i < b.N; i++ {
					w, err := hermes.Create(ctx, storage.NewMem(), s, cfg)
					if err != nil {
						b.Fatal(err)
					}
					var wg sync.WaitGroup
					start, cpuStart := time.Now(), cpuTime()
					for g := 0; g < goroutines; g++ {
						wg.Add(1)
						go func(mine []*hermes.Document) {
							defer wg.Done()
							for _, d := range mine {
								if err := w.AddDocumentWait(ctx, d); err != nil {
									b.Error(err)
									return
								}
							}
						}(docs[g*perGoroutine : (g+1)*perGoroutine])
					}
					wg.Wait()
					elapsed += time.Since(start)
					cpu += cpuTime() - cpuStart
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(docs)*b.N)/elapsed.Seconds(), "docs/s")
				// On a shared machine wall time overstates the cost: the
				// process's CPU time per document (the workers' included)
				// is steadier.
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(len(docs)*b.N), "cpu-ns/doc")
			})
		}
	}
}
