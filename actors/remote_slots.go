package actors

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/node"
	"github.com/hermes-search/hermes-go/shipping"
)

// RemoteConfig places workers on other nodes (package node). The actor
// system must have remote started with node.StartRemote.
type RemoteConfig struct {
	// Nodes are the nodes' addresses (host:port).
	Nodes []string
	// WorkersPerNode is how many workers run on each node; default 1.
	WorkersPerNode int
	// ConnectTimeout bounds each greeting of a node (the writer does not
	// wait for it); default 10 s.
	ConnectTimeout time.Duration
	// StartTimeout bounds a node's answer to StartWorker; default 10 s. A
	// node that does not answer in time loses the position, as a node
	// that refuses: its batches go to the other workers.
	StartTimeout time.Duration
}

// remoteWorkers performs the coordinator's effects for the worker positions
// on other nodes, which follow the local ones: it greets one host per node
// in the background (remote_connect.go: a node's positions are gone until it
// answers, and come back when a lost node answers again), starts each
// generation with StartWorker (messages for a worker
// still starting wait here), watches hosts and workers, and has shipped
// segments fetched by the node's fetcher into the index directory.
//
// The decisions stay in the core: a lost host is workerGone for each of its
// positions, a lost worker workerStopped, a host's WorkerFailed workerFailed,
// and the fetch's SegmentInstalled goes to the core as it is. Only the news
// of a worker's loss is put in order here: behind what the worker sent
// before, and the fetches of the segments it shipped (holdLoss).
type remoteWorkers struct {
	cfg   *Config
	nodes []*remoteNode
	slots map[int32]*remoteSlot // by worker position

	// The greetings of nodes under way (remote_connect.go): dialing ends
	// when the coordinator stops, and dials counts their goroutines.
	dialing    context.Context
	endDialing context.CancelFunc
	dials      sync.WaitGroup
}

type remoteNode struct {
	addr    string
	host    *node.Host // nil until connected
	fetcher *actor.PID
	lost    string // why the node is lost or not connected; "" while it lives

	conn remoteConn // connecting and reconnecting (remote_connect.go)
}

type remoteSlot struct {
	node       *remoteNode
	generation uint64
	pid        *actor.PID    // nil while StartWorker is under way
	pending    []interface{} // messages for the starting worker
	// The news of the worker's loss (workerStopped or workerFailed), held
	// while a segment it shipped before is fetched (holdLoss).
	lossNews interface{}
}

// remoteStopped is a remote worker's Terminated, handled in order behind
// the messages the worker sent before it stopped.
type remoteStopped struct {
	worker     int32
	generation uint64
}

// remoteLossDue bounds how long the news of a worker's loss is held.
type remoteLossDue struct {
	worker     int32
	generation uint64
}

// remoteStartFailed: a worker could not be started on its node.
type remoteStartFailed struct {
	worker     int32
	generation uint64
	reason     string
}

// remoteStartDue: StartTimeout after a StartWorker; if the worker has not
// started by then, its node never answered.
type remoteStartDue struct {
	worker     int32
	generation uint64
}

// newRemoteWorkers returns the remote positions, numbered from first.
func newRemoteWorkers(cfg *Config, first int32) *remoteWorkers {
	r := &remoteWorkers{cfg: cfg, slots: map[int32]*remoteSlot{}}
	if cfg.Remote == nil {
		return r
	}
	per := cfg.Remote.WorkersPerNode
	if per <= 0 {
		per = 1
	}
	id := first
	for _, addr := range cfg.Remote.Nodes {
		n := &remoteNode{addr: addr}
		r.nodes = append(r.nodes, n)
		for i := 0; i < per; i++ {
			r.slots[id] = &remoteSlot{node: n}
			id++
		}
	}
	return r
}

func (r *remoteWorkers) count() int { return len(r.slots) }

func (r *remoteWorkers) has(id int32) bool { return r.slots[id] != nil }

// spawnFetcher starts the fetcher of n's segments, once: it outlives
// reconnections (a transfer from a lost host fails on its own).
func (r *remoteWorkers) spawnFetcher(ctx actor.Context, n *remoteNode) {
	if n.fetcher == nil {
		n.fetcher = ctx.SpawnPrefix(shipping.NewFetcher(shipping.FetcherConfig{Dir: r.cfg.Dir, Logger: r.cfg.logger()}), "fetch")
	}
}

// remoteStarted reports whether system has protoactor remote.
func remoteStarted(system *actor.ActorSystem) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return remote.GetRemote(system) != nil
}

// start starts generation of the worker at position id on its node.
func (r *remoteWorkers) start(c *coordinator, id int32, generation uint64) {
	s := r.slots[id]
	if s.pid != nil {
		c.system.Root.Stop(s.pid) // an old generation still running (its segment failed to arrive)
	}
	s.generation, s.pid, s.pending, s.lossNews = generation, nil, nil, nil
	c.workers[id] = nil
	if s.node.lost != "" {
		c.system.Root.Send(c.self, remoteStartFailed{worker: id, generation: generation, reason: "node " + s.node.addr + " lost: " + s.node.lost})
		return
	}
	schema, err := r.cfg.Schema.MarshalJSON()
	if err != nil {
		c.system.Root.Send(c.self, remoteStartFailed{worker: id, generation: generation, reason: "schema: " + err.Error()})
		return
	}
	c.system.Root.RequestWithCustomSender(s.node.host.PID, &messages.StartWorker{
		Worker: id, Generation: generation, Schema: schema, MemoryBudget: r.cfg.WorkerMemory,
		Coordinator: c.self,
	}, c.self)
	c.schedule(after{d: r.startTimeout(), event: remoteStartDue{worker: id, generation: generation}})
}

func (r *remoteWorkers) startTimeout() time.Duration {
	if r.cfg.Remote.StartTimeout > 0 {
		return r.cfg.Remote.StartTimeout
	}
	return 10 * time.Second
}

// send sends msg to the worker at position id, or keeps it until the
// worker has started.
func (r *remoteWorkers) send(c *coordinator, id int32, msg interface{}) {
	s := r.slots[id]
	switch {
	case s.pid != nil:
		c.system.Root.Send(s.pid, msg)
	case s.node.lost == "":
		s.pending = append(s.pending, msg)
	}
}

// receive handles the remote workers' messages that need more than the
// core: it returns false for others.
func (r *remoteWorkers) receive(ctx actor.Context, c *coordinator, msg interface{}) bool {
	switch m := msg.(type) {
	case *messages.WorkerStarted:
		s := r.slots[m.Worker]
		if s == nil {
			return true
		}
		if s.generation != m.Generation || !c.core.isCurrent(m.Worker, m.Generation) || s.pid != nil {
			if m.Pid != nil {
				ctx.Stop(m.Pid) // started for a generation that ended meanwhile
			}
			return true
		}
		if m.Error != "" {
			r.cfg.logger().Error("node refused to start a worker; its position is not used", "node", s.node.addr, "worker", m.Worker, "error", m.Error)
			c.perform(ctx, c.core.step(workerGone{worker: m.Worker, reason: m.Error}))
			return true
		}
		s.pid = m.Pid
		c.workers[m.Worker] = m.Pid
		ctx.Watch(m.Pid)
		for _, p := range s.pending {
			ctx.Send(m.Pid, p)
		}
		s.pending = nil

	case *messages.SegmentIDRequest:
		// The writer allocates every segment id, on its clock, recorded in
		// the journal before the node makes any file of it.
		res := &messages.SegmentIDResponse{}
		if !c.core.isCurrent(m.Worker, m.Generation) {
			res.Error = fmt.Sprintf("worker %d generation %d has ended", m.Worker, m.Generation)
		} else if id, err := r.cfg.newSegmentID(); err != nil {
			res.Error = err.Error()
		} else {
			res.Id = id.String()
		}
		ctx.Respond(res)

	case remoteStartDue:
		if s := r.slots[m.worker]; s != nil && s.generation == m.generation && s.pid == nil && c.core.isCurrent(m.worker, m.generation) {
			reason := fmt.Sprintf("node %s did not answer StartWorker within %v", s.node.addr, r.startTimeout())
			r.cfg.logger().Error("node silent; its position is not used", "node", s.node.addr, "worker", m.worker, "generation", m.generation, "waited", r.startTimeout())
			s.pending = nil
			c.perform(ctx, c.core.step(workerGone{worker: m.worker, reason: reason}))
		}

	case remoteStartFailed:
		if s := r.slots[m.worker]; s != nil && s.generation == m.generation && c.core.isCurrent(m.worker, m.generation) {
			c.perform(ctx, c.core.step(workerGone{worker: m.worker, reason: m.reason}))
			r.reviveIfConnected(ctx, c, m.worker) // the node connected meanwhile
		}

	case nodeConnected:
		r.connected(ctx, c, m)

	case redialDue:
		r.redial(ctx, c, m)

	case *messages.WorkerFailed:
		// The host stopped the worker; its Terminated may come first, and
		// then this is of an old generation (the core still takes its blame).
		if r.slots[m.Worker] == nil {
			return false // a local worker's
		}
		if c.core.isCurrent(m.Worker, m.Generation) {
			r.holdLoss(ctx, c, m.Worker, failure(m, "on node: "))
			return true
		}
		c.perform(ctx, c.core.step(failure(m, "on node: ")))

	case remoteStopped:
		if c.core.isCurrent(m.worker, m.generation) {
			r.holdLoss(ctx, c, m.worker, workerStopped{worker: m.worker})
		}

	case remoteLossDue:
		if s := r.slots[m.worker]; s != nil && s.generation == m.generation && s.lossNews != nil {
			r.cfg.logger().Warn("segment fetch outlasted its worker's loss; the loss is news now", "worker", m.worker, "generation", m.generation, "waited", r.lossWait())
			r.tellLoss(ctx, c, m.worker)
		}

	case *actor.Terminated:
		for _, n := range r.nodes {
			if n.host != nil && same(n.host.PID, m.Who) {
				if n.lost == "" {
					n.lost = "host terminated (" + m.Why.String() + ")"
					r.cfg.logger().Error("node lost; its workers' batches are re-delivered", "node", n.addr, "why", m.Why.String())
				}
				for _, id := range slices.Sorted(maps.Keys(r.slots)) {
					if s := r.slots[id]; s.node == n {
						s.pending = nil
						if _, failed := s.lossNews.(workerFailed); failed {
							r.tellLoss(ctx, c, id) // for its blame
						}
						s.lossNews = nil
						c.perform(ctx, c.core.step(workerGone{worker: id, reason: "node " + n.addr + " lost"}))
					}
				}
				r.redialLater(c, n)
				return true
			}
			if same(n.fetcher, m.Who) {
				return true
			}
		}
		for id, s := range r.slots {
			if same(s.pid, m.Who) {
				if c.core.isCurrent(id, s.generation) {
					// Terminated is a system message: it overtakes what the
					// worker sent before it stopped, such as a segment it
					// shipped. Its stop is news only after those.
					ctx.Send(c.self, remoteStopped{worker: id, generation: s.generation})
				}
				return true
			}
		}
		return false

	default:
		return false
	}
	return true
}

// holdLoss hands the core the news of a worker's loss (ev: workerStopped or
// workerFailed of its current generation), unless a segment it shipped
// before is being fetched: the news then waits for the fetch to end
// (installed), or the core would hand that segment's batches out again and
// refuse the segment once fetched. The wait is bounded by lossWait, so that
// a fetch that hangs delays the re-delivery of the worker's other batches
// no longer; the loss of the node itself is never held.
func (r *remoteWorkers) holdLoss(ctx actor.Context, c *coordinator, id int32, ev interface{}) {
	s := r.slots[id]
	if !c.core.fetchingFrom(id, s.generation) {
		c.perform(ctx, c.core.step(ev))
		return
	}
	switch s.lossNews.(type) {
	case nil:
		c.schedule(after{d: r.lossWait(), event: remoteLossDue{worker: id, generation: s.generation}})
		s.lossNews = ev
	case workerStopped:
		s.lossNews = ev // a failure carries blame
	}
}

// fetchFailed hands the core a failure held for the worker whose segment
// id failed to arrive, before the core hears of the failed fetch: the
// fetch has ended, and the failed fetch would otherwise end the worker's
// generation without the failure's blame and count.
func (r *remoteWorkers) fetchFailed(ctx actor.Context, c *coordinator, id string) {
	m := c.core.fetching[id]
	if m == nil {
		return
	}
	if s := r.slots[m.Worker]; s != nil && s.generation == m.Generation {
		if _, failed := s.lossNews.(workerFailed); failed {
			r.tellLoss(ctx, c, m.Worker)
		}
	}
}

// installed hands the core the loss news held for workers whose fetches
// have all ended.
func (r *remoteWorkers) installed(ctx actor.Context, c *coordinator) {
	for _, id := range slices.Sorted(maps.Keys(r.slots)) {
		if s := r.slots[id]; s.lossNews != nil && !c.core.fetchingFrom(id, s.generation) {
			r.tellLoss(ctx, c, id)
		}
	}
}

// tellLoss hands the core the news of the worker's loss held for it.
func (r *remoteWorkers) tellLoss(ctx actor.Context, c *coordinator, id int32) {
	s := r.slots[id]
	ev := s.lossNews
	s.lossNews = nil
	if _, stopped := ev.(workerStopped); stopped && !c.core.isCurrent(id, s.generation) {
		return // workerStopped names no generation
	}
	c.perform(ctx, c.core.step(ev))
}

// lossWait bounds how long the news of a worker's loss waits for its
// segments' fetches: StartTimeout, as long as a node may take to answer.
func (r *remoteWorkers) lossWait() time.Duration { return r.startTimeout() }

// fetch has a shipped segment fetched by its node's fetcher, if this writer
// allocated its id (SegmentIDRequest).
func (r *remoteWorkers) fetch(c *coordinator, m *messages.SegmentShipped) {
	fail := func(reason string) {
		c.system.Root.Send(c.self, &messages.SegmentInstalled{Id: m.Segment.Id, Error: reason, Code: messages.ErrorCode_ERROR_TRANSFER})
	}
	s := r.slots[m.Worker]
	switch {
	case s == nil:
		fail(fmt.Sprintf("worker %d is not remote", m.Worker))
	case s.node.lost != "":
		fail("node " + s.node.addr + " lost")
	case !r.cfg.IDs.Issued(m.Segment.Id):
		// Only ids this writer allocated (recorded in the journal) enter
		// the index directory: orphan cleanup can then remove what a
		// failed or interrupted fetch leaves.
		fail(fmt.Sprintf("segment id %q was not allocated by this writer", m.Segment.Id))
	default:
		r.cfg.logger().Debug("fetching segment", "node", s.node.addr, "worker", m.Worker, "generation", m.Generation, "segment", m.Segment.Id, "bytes", m.Segment.Bytes)
		c.system.Root.Send(s.node.fetcher, &messages.FetchSegment{Segment: m.Segment, Source: m.Files, ReplyTo: c.self})
	}
}

// release lets a node delete a segment that is not fetched.
func (r *remoteWorkers) release(c *coordinator, m *messages.SegmentShipped) {
	if m.Files == nil {
		return
	}
	rel := &messages.ReleaseSegment{Id: m.Segment.Id}
	for _, f := range m.Segment.Files {
		rel.Files = append(rel.Files, f.Name)
	}
	c.system.Root.Send(m.Files, rel)
}

// stop ends the greetings under way and stops the hosts (they would also
// stop when they see the coordinator terminate).
func (r *remoteWorkers) stop(ctx actor.Context) {
	r.stopDialing()
	for _, n := range r.nodes {
		if n.host != nil && n.lost == "" {
			ctx.Stop(n.host.PID)
		}
	}
}

// isCurrent reports whether generation is the worker's current one.
func (c *coordinatorCore) isCurrent(id int32, generation uint64) bool {
	return c.current(id, generation) != nil
}

// fetchingFrom reports whether a segment shipped by the worker's generation
// is being fetched.
func (c *coordinatorCore) fetchingFrom(id int32, generation uint64) bool {
	for _, s := range c.fetching {
		if s.Worker == id && s.Generation == generation {
			return true
		}
	}
	return false
}

// same reports whether a and b are the same actor (PID.Equal dereferences
// a nil receiver).
func same(a, b *actor.PID) bool { return a != nil && b != nil && a.Equal(b) }
