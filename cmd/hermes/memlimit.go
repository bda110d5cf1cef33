package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// limitMemory keeps the process near its indexing budget without making
// the collector run back to back. Go's collector lets the heap grow to
// twice the live data; a soft limit keeps it lower, but a limit at or below
// the live heap makes it collect again at once, over and over. The live
// heap is the builders' budget plus what the writer holds outside it, above
// all the primary keys of the documents added since the last commit (about
// 40 bytes plus the key each), which a run of a million documents in one commit makes
// large. So unless GOMEMLIMIT says otherwise, the soft limit is the budget
// plus 20% (the default budget when budget is 0), and while the live heap
// is larger than that allows, it follows the live heap plus a quarter of
// the budget, so a collection comes at most once per budget/4 allocated.
// It returns the function that stops following and restores the previous
// limit.
func limitMemory(budget int64) (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	if budget == 0 {
		budget = defaultMemory
	}
	base := budget + budget/5
	prev := debug.SetMemoryLimit(base)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		limit := base
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return // an old runtime: keep the fixed limit
			}
			want := max(base, int64(sample[0].Value.Uint64())+budget/4)
			if want != limit {
				limit = want
				debug.SetMemoryLimit(limit)
			}
		}
	}()
	return func() {
		close(stop)
		<-stopped
		debug.SetMemoryLimit(prev)
	}
}
