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
