//go:build unix

package worker

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/internal/corpus"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// BenchmarkSegmentSplit asks what a second worker costs in the segments
// it writes: the same realmix documents (about what one worker holds at
// the default budget) built into one segment, into two halves one after the
// other (what two workers with half the budget each write), and into two
// halves at once on two goroutines (what they do), and, for the trend, into
// four quarters in turn. It reports the
// process's CPU time, a document and an iteration (adding and building,
// the collector included). Segment count alone is the
// difference between "1" and "2 in turn"; sharing the cores and caches,
// between "2 in turn" and "2 at once".
func BenchmarkSegmentSplit(b *testing.B) {
	s := corpus.Schema(true)
	docs, _ := corpus.Realmix(b, s, 80_000)
	toks, err := segment.ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	build := func(part []*segment.Document) {
		bl := segment.NewBuilder(s, toks)
		for _, d := range part {
			if err := bl.Add(d); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bl.Build(storage.NewMem(), segment.NewID()); err != nil {
			b.Fatal(err)
		}
	}
	half := len(docs) / 2
	for _, mode := range []string{"1", "2-in-turn", "2-at-once", "4-in-turn"} {
		b.Run("segments="+mode, func(b *testing.B) {
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				start := processCPU()
				switch mode {
				case "1":
					build(docs)
				case "2-in-turn":
					build(docs[:half])
					build(docs[half:])
				case "4-in-turn":
					q := len(docs) / 4
					for k := 0; k < 4; k++ {
						build(docs[k*q : (k+1)*q])
					}
				case "2-at-once":
					var wg sync.WaitGroup
					for _, part := range [][]*segment.Document{docs[:half], docs[half:]} {
						wg.Add(1)
						go func() { defer wg.Done(); build(part) }()
					}
					wg.Wait()
				}
				cpu += processCPU() - start
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(docs)), "cpu-ns/doc")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(fmt.Sprint("getrusage: ", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
