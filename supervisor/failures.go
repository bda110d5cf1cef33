package supervisor

import (
	"math/rand/v2"
	"time"
)

// Failures decides how long a failed worker waits before its restart. A
// worker failing on the input it failed on last time (a poison document on
// its way to rejection) or failing for the first time since it last made
// progress restarts at once: its batches are re-delivered, and waiting would
// only hold the commit up. A worker that keeps failing on different input
// is broken in a way no document explains, and waits a growing Backoff.
// Progress (a batch added, a segment written) starts the count again.
//
// It is a plain data structure, owned by one actor; the caller schedules
// the restart.
type Failures struct {
	backoff Backoff
	rnd     *rand.Rand
	history map[int32]failureHistory
}

type failureHistory struct {
	count int       // failures on distinct input since the last progress
	input uint64    // the input of the last failure; 0 if unknown
	last  time.Time // when it happened
}

// NewFailures returns an empty history; seed makes the jitter reproducible.
func NewFailures(b Backoff, seed uint64) *Failures {
	return &Failures{backoff: b, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), history: map[int32]failureHistory{}}
}

// Failed records a failure of worker at now on input (0 when no input is to
// blame: a failed write, a panic outside an add) and returns the delay
// before its restart and its count of failures on distinct input.
func (f *Failures) Failed(worker int32, input uint64, now time.Time) (time.Duration, int) {
	h := f.history[worker]
	if h.count > 0 && f.backoff.ResetAfter > 0 && now.Sub(h.last) > f.backoff.ResetAfter {
		h = failureHistory{}
	}
	h.last = now
	if input != 0 && input == h.input {
		f.history[worker] = h
		return 0, h.count
	}
	h.count++
	h.input = input
	f.history[worker] = h
	if h.count == 1 {
		return 0, 1
	}
	return f.backoff.Delay(h.count-1, f.rnd), h.count
}

// Progress records that worker did useful work: its next failure restarts
// it at once.
func (f *Failures) Progress(worker int32) { delete(f.history, worker) }
