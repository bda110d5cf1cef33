package hermes

import (
	"context"
	"sync"
)

// credits bound the documents accepted but not yet taken by a worker. Actor
// mailboxes are unbounded, so this counter is the backpressure: taking a
// credit never blocks, and waiting for one is explicit (AddDocumentWait).
type credits struct {
	mu        sync.Mutex
	available int
	freed     chan struct{} // closed and replaced whenever credits return
	closed    bool          // freed stays closed: no credit will return
}

func newCredits(n int) *credits {
	return &credits{available: n, freed: make(chan struct{})}
}

// tryTake takes n credits if all are available.
func (c *credits) tryTake(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.available < n {
		return false
	}
	c.available -= n
	return true
}

// give returns n credits and wakes waiters.
func (c *credits) give(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.available += n
	if !c.closed {
		close(c.freed)
		c.freed = make(chan struct{})
	}
}

// close wakes every waiter for good: the writer is closing.
func (c *credits) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.freed)
	}
}

// changed returns a channel closed the next time credits return.
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
