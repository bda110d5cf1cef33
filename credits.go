package hermes

import (
	"context"
	"sync"
	"sync/atomic"
)

// credits bound the documents accepted but not yet taken by a worker. Actor
// mailboxes are unbounded, so this counter is the backpressure: taking a
// credit never blocks, and waiting for one is explicit (AddDocumentWait).
//
// Taking is one atomic operation, as every add takes a credit; the mutex
// and the channel serve only the waiters, when credits return (a batch at
// a time).
type credits struct {
	available atomic.Int64

	mu     sync.Mutex
	freed  chan struct{} // closed and replaced whenever credits return
	closed bool          // freed stays closed: no credit will return
}

func newCredits(n int) *credits {
	c := &credits{freed: make(chan struct{})}
	c.available.Store(int64(n))
	return c
}

// takeUpTo takes as many of n credits as are available and returns how
// many it took.
func (c *credits) takeUpTo(n int) int {
	for {
		a := c.available.Load()
		k := min(a, int64(n))
		if k <= 0 {
			return 0
		}
		if c.available.CompareAndSwap(a, a-k) {
			return int(k)
		}
	}
}

// give returns n credits and wakes waiters.
func (c *credits) give(n int) {
	c.available.Add(int64(n))
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		close(c.freed)
		c.freed = make(chan struct{})
	}
}

// close wakes every waiter for good: the writer is closing or failed.
func (c *credits) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.freed)
	}
}

// changed returns a channel closed the next time credits return. A waiter
// takes it before its last try, so that credits returned in between wake it.
func (c *credits) changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.freed
}

// wait blocks until credits return or ctx ends.
func (c *credits) wait(ctx context.Context, changed <-chan struct{}) error {
	select {
	case <-changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
