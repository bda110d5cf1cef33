package supervisor

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Restarter schedules restarts of failed children after a backoff that grows
// with each consecutive failure of the same child. It is safe for concurrent
// use.
type Restarter struct {
	backoff Backoff
	clock   Clock

	mu      sync.Mutex
	rnd     *rand.Rand
	history map[string]failureHistory
	pending map[Timer]struct{}
	closed  bool
}

type failureHistory struct {
	count int
	last  time.Time
}

// NewRestarter returns a Restarter; seed makes the jitter reproducible.
func NewRestarter(b Backoff, clock Clock, seed uint64) *Restarter {
	if clock == nil {
		clock = RealClock()
	}
	return &Restarter{
		backoff: b,
		clock:   clock,
		rnd:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		history: make(map[string]failureHistory),
		pending: make(map[Timer]struct{}),
	}
}

// Schedule records a failure of child and calls restart after the backoff.
// It returns the delay chosen and the child's consecutive failure count.
// After Close, Schedule does nothing and returns zeros.
func (r *Restarter) Schedule(child string, restart func()) (time.Duration, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, 0
	}
	now := r.clock.Now()
	h := r.history[child]
	if h.count > 0 && r.backoff.ResetAfter > 0 && now.Sub(h.last) > r.backoff.ResetAfter {
		h.count = 0
	}
	h.count++
	h.last = now
	r.history[child] = h
	delay := r.backoff.Delay(h.count, r.rnd)

	var t Timer
	t = r.clock.AfterFunc(delay, func() {
		r.mu.Lock()
		_, live := r.pending[t]
		delete(r.pending, t)
		r.mu.Unlock()
		if live {
			restart()
		}
	})
	r.pending[t] = struct{}{}
	return delay, h.count
}

// Forget drops a child's failure history (it stopped for good).
func (r *Restarter) Forget(child string) {
	r.mu.Lock()
	delete(r.history, child)
	r.mu.Unlock()
}

// Close cancels every pending restart; later Schedules do nothing.
func (r *Restarter) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for t := range r.pending {
		t.Stop()
		delete(r.pending, t)
	}
}
