package actors

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/node"
)

// Connecting to nodes, and reconnecting to lost ones, without ever making
// the coordinator wait. A node's positions are gone (workerGone: they take
// no work, and a flush does not wait for them) until its host is greeted;
// then they come back, each with a new generation. The greeting runs on its
// own goroutine, bounded by RemoteConfig.ConnectTimeout, and reports to the
// coordinator as nodeConnected. A node that cannot be reached, or that is
// lost later, is dialled again after a backoff, redialFirst doubling to
// redialMax, for as long as the writer lives. When the coordinator stops,
// the greetings under way are abandoned and waited for (stopDialing), so
// none outlives the writer.

const (
	redialFirst = time.Second
	redialMax   = 30 * time.Second
)

// remoteConn is a node's connection state.
type remoteConn struct {
	index    int  // the node's place in remoteWorkers.nodes
	dialing  bool // a greeting is under way
	failures int  // failed greetings in a row, for the backoff
	attempts int  // greetings started, to name each host afresh
}

// nodeConnected: a greeting ended, with the host or the reason it failed.
type nodeConnected struct {
	node int
	host *node.Host
	err  error
}

// redialDue: time to greet a lost node again.
type redialDue struct{ node int }

// notConnected is a node's lost reason before its first greeting ended.
const notConnected = "not connected yet"

// connect starts greeting a host on every node, without waiting: the
// positions of a node start once its greeting succeeds.
func (r *remoteWorkers) connect(ctx actor.Context) {
	if len(r.nodes) == 0 {
		return
	}
	r.dialing, r.endDialing = context.WithCancel(context.Background())
	if !remoteStarted(ctx.ActorSystem()) {
		for _, n := range r.nodes {
			n.lost = "the writer's actor system has no remote (start it with node.StartRemote)"
		}
		return
	}
	for i, n := range r.nodes {
		n.conn.index = i
		n.lost = notConnected
		r.dial(ctx.ActorSystem(), ctx.Self(), n)
	}
}

// dial greets a new host on n, in the background.
func (r *remoteWorkers) dial(system *actor.ActorSystem, self *actor.PID, n *remoteNode) {
	timeout := r.cfg.Remote.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	n.conn.dialing = true
	n.conn.attempts++
	// A new name for each greeting: the host of an earlier one may live on
	// the node still (a partition it has not noticed); the node stops it
	// when this writer greets the new one.
	name := fmt.Sprintf("writer-%s-%s-%d", system.ID, strings.ReplaceAll(self.Id, "/", "-"), n.conn.attempts)
	index, addr := n.conn.index, n.addr
	r.dials.Add(1)
	go func() {
		defer r.dials.Done()
		h, err := node.ConnectContext(r.dialing, system, addr, name, self, timeout)
		system.Root.Send(self, nodeConnected{node: index, host: h, err: err})
	}()
}

// stopDialing abandons the greetings under way and waits for them to end;
// the coordinator is stopping.
func (r *remoteWorkers) stopDialing() {
	if r.endDialing != nil {
		r.endDialing()
	}
	r.dials.Wait()
}

// connected takes the end of a greeting: the node's positions come back, or
// the next greeting is scheduled.
func (r *remoteWorkers) connected(ctx actor.Context, c *coordinator, m nodeConnected) {
	n := r.nodes[m.node]
	n.conn.dialing = false
	if m.err != nil {
		n.conn.failures++
		if n.conn.failures == 1 {
			r.cfg.logger().Error("node unreachable; its workers wait until it answers", "node", n.addr, "error", m.err)
		} else {
			r.cfg.logger().Warn("node still unreachable", "node", n.addr, "attempts", n.conn.failures, "error", m.err)
		}
		r.redialLater(c, n)
		return
	}
	n.host, n.lost, n.conn.failures = m.host, "", 0
	ctx.Watch(n.host.PID)
	r.spawnFetcher(ctx, n)
	r.cfg.logger().Info("node connected", "node", n.addr, "host", n.host.PID.String())
	for _, id := range slices.Sorted(maps.Keys(r.slots)) {
		if r.slots[id].node == n {
			r.reviveIfConnected(ctx, c, id)
		}
	}
}

// redialLater schedules the next greeting of a lost node.
func (r *remoteWorkers) redialLater(c *coordinator, n *remoteNode) {
	if n.conn.dialing {
		return
	}
	delay := redialMax
	if n.conn.failures < 6 {
		delay = min(redialMax, redialFirst<<n.conn.failures)
	}
	c.schedule(after{d: delay, event: redialDue{node: n.conn.index}})
}

func (r *remoteWorkers) redial(ctx actor.Context, c *coordinator, m redialDue) {
	n := r.nodes[m.node]
	if n.lost == "" || n.conn.dialing {
		return
	}
	r.dial(ctx.ActorSystem(), ctx.Self(), n)
}

// reviveIfConnected brings a gone position back when its node is connected:
// the core starts a new generation of it (as after a backoff).
func (r *remoteWorkers) reviveIfConnected(ctx actor.Context, c *coordinator, id int32) {
	s := r.slots[id]
	if s == nil || s.node.host == nil || s.node.lost != "" {
		return
	}
	if w := c.core.slot(id); w != nil && !w.live {
		c.perform(ctx, c.core.step(restartDue{worker: id, generation: w.generation}))
	}
}
