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
// the live heap makes it collect again at once, over and over. The budget
// covers what the writer holds: the builders, the documents its ledger
// keeps until their segment is durable, and the primary keys of the
// documents added since the last commit (up to half the budget). So unless
// GOMEMLIMIT says otherwise, the soft limit is the budget plus 20% (the
// default budget when budget is 0), which the live heap stays under, and
// the process's peak resident set within the budget plus 30%. Should the
// live heap come within an eighth of the budget of that limit anyway (more
// keys than half the budget, huge documents), the limit follows the live
// heap plus an eighth of the budget, so a collection comes at most once per
// budget/8 allocated rather than back to back. (It followed the live heap
// plus a quarter: the limit then rose above the budget plus 20% in an
// ordinary run at each segment build, and the peak resident set with it.)
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
			want := max(base, int64(sample[0].Value.Uint64())+budget/8)
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
