package actors

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/supervisor"
)

// coordinator owns intake and the ledger. Documents wait in its queue until
// a worker asks for work; it then cuts a batch (at most BatchDocs documents,
// about BatchBytes), records it in the ledger and hands it over. Busy
// workers do not ask, so free ones take up the slack.
//
// It is also the workers' parent and supervisor (it implements
// actor.SupervisorStrategy): a worker that panics is restarted after a
// backoff, one that stops is replaced, and in both cases the batches it held
// go back to the queue from the ledger, so no document is lost.
type coordinator struct {
	cfg       *Config
	committer *actor.PID

	workers   []*workerSlot
	restarter *supervisor.Restarter
	stopping  bool

	queue      []*messages.Document // accepted documents not yet in a batch
	ledger     *supervisor.Ledger[*messages.Document]
	segments   []*messages.SegmentInfo // durable, not yet handed to a commit
	segmentDoc uint64                  // documents in segments
	rejected   []*messages.Rejected
}

// workerSlot is one worker position. A panicked worker keeps its PID and
// gets the next generation; a stopped one is replaced by a new PID.
type workerSlot struct {
	id         int32
	pid        *actor.PID
	generation atomic.Uint64 // read by the worker's producer on restart
	idle       bool          // asked for work and got none yet
}

func newCoordinator(cfg *Config, committer *actor.PID) *coordinator {
	return &coordinator{
		cfg:       cfg,
		committer: committer,
		restarter: supervisor.NewRestarter(cfg.Backoff, cfg.Clock, cfg.Seed),
		ledger:    supervisor.NewLedger[*messages.Document](cfg.MaxCrashes),
	}
}

func (c *coordinator) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		for i := 0; i < c.cfg.Workers; i++ {
			slot := &workerSlot{id: int32(i)}
			c.workers = append(c.workers, slot)
			c.spawn(ctx, slot)
		}

	case *messages.AddDocuments:
		c.queue = append(c.queue, m.Docs...)
		c.dispatch(ctx)

	case *messages.RequestWork:
		if slot := c.slot(m.Worker); slot != nil && m.Generation == slot.generation.Load() {
			slot.idle = true
			c.dispatch(ctx)
		}

	case *messages.SegmentBuilt:
		c.segmentDurable(m.Worker, m.Generation, m.Segment, m.Batches)

	case *messages.DrainRequest:
		c.drain(ctx)
		ctx.Respond(&messages.Drained{Round: m.Round, Workers: c.refs()})

	case *messages.RoundResult:
		for _, ack := range m.Acks {
			if ack.Segment != nil {
				c.segmentDurable(ack.Worker, ack.Generation, ack.Segment, ack.Batches)
			}
		}
		ctx.Respond(c.check(m.Round))

	case *messages.WorkersRequest:
		ctx.Respond(&messages.WorkersResponse{Workers: c.refs()})

	case *actor.Terminated:
		c.workerStopped(ctx, m.Who)

	case *actor.Stopping:
		c.stopping = true
		c.restarter.Close()
	}
}

func (c *coordinator) spawn(ctx actor.Context, slot *workerSlot) {
	props := actor.PropsFromProducer(func() actor.Actor {
		return &worker{cfg: c.cfg, id: slot.id, generation: slot.generation.Load(), coordinator: ctx.Self()}
	})
	slot.pid = ctx.Spawn(props)
	slot.idle = false
}

// dispatch hands batches to idle workers: re-deliveries first, oldest first,
// then new documents.
func (c *coordinator) dispatch(ctx actor.Context) {
	for _, slot := range c.workers {
		if !slot.idle {
			continue
		}
		b := c.nextBatch()
		if b == nil {
			return
		}
		c.send(ctx, slot, b)
	}
}

// drain pushes every queued document and re-delivery to the workers, round
// robin, so that the flush requests sent after it cover them.
func (c *coordinator) drain(ctx actor.Context) {
	for i := 0; ; i++ {
		b := c.nextBatch()
		if b == nil {
			return
		}
		c.send(ctx, c.workers[i%len(c.workers)], b)
	}
}

func (c *coordinator) nextBatch() *supervisor.Batch[*messages.Document] {
	if b, ok := c.ledger.NextRedelivery(); ok {
		return b
	}
	if len(c.queue) == 0 {
		return nil
	}
	n, bytes := 0, 0
	for n < len(c.queue) && n < c.cfg.BatchDocs && (n == 0 || bytes < c.cfg.BatchBytes) {
		bytes += messageBytes(c.queue[n])
		n++
	}
	docs := c.queue[:n:n]
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil // let the backing array go
	}
	c.cfg.ReleaseCredits(n)
	return c.ledger.Open(docs, bytes)
}

func (c *coordinator) send(ctx actor.Context, slot *workerSlot, b *supervisor.Batch[*messages.Document]) {
	c.ledger.Assign(b.Seq, slot.id)
	slot.idle = false
	ctx.Send(slot.pid, &messages.Batch{Seq: b.Seq, Docs: b.Docs, Generation: slot.generation.Load()})
}

// segmentDurable takes a worker's durable segment. A segment from an older
// generation, or holding a batch the ledger already re-delivered, is
// discarded: those batches are being indexed again elsewhere, and keeping
// both copies would index them twice.
func (c *coordinator) segmentDurable(worker int32, generation uint64, seg *messages.SegmentInfo, batches []uint64) {
	slot := c.slot(worker)
	var err error
	if slot == nil || generation != slot.generation.Load() {
		err = fmt.Errorf("worker %d generation %d is gone", worker, generation)
	} else {
		err = c.ledger.Durable(worker, batches)
	}
	if err != nil {
		c.cfg.logger().Warn("discarding stale segment", "segment", seg.Id, "reason", err)
		removeFiles(c.cfg, seg.Files)
		return
	}
	c.segments = append(c.segments, seg)
	c.segmentDoc += uint64(seg.NumDocs)
}

// check answers a round: complete when nothing is queued and every batch is
// in a durable segment. A complete answer hands the segments and rejected
// documents over to the commit actor.
func (c *coordinator) check(round uint64) *messages.RoundChecked {
	if len(c.queue) > 0 || c.ledger.Outstanding() > 0 {
		return &messages.RoundChecked{Round: round, OutstandingBatches: int32(c.ledger.Outstanding())}
	}
	res := &messages.RoundChecked{Round: round, Complete: true, Segments: c.segments, Rejected: c.rejected, Docs: c.segmentDoc}
	c.segments, c.rejected, c.segmentDoc = nil, nil, 0
	return res
}

// HandleFailure is the workers' supervision: a panicked worker's batches go
// back to the queue (the one being processed is blamed, and split or
// rejected when it keeps crashing workers), the worker gets a new generation
// and restarts after a backoff, and the commit actor hears of it so the
// round waits for the restarted worker's ack.
func (c *coordinator) HandleFailure(system *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason interface{}, message interface{}) {
	slot := c.slotByPID(child)
	if slot == nil {
		sup.StopChildren(child)
		return
	}
	var failed uint64
	if b, ok := actor.UnwrapEnvelopeMessage(message).(*messages.Batch); ok && b.Generation == slot.generation.Load() {
		failed = b.Seq
	}
	var be buildError
	buildFailed := false
	if err, ok := reason.(error); ok && errors.As(err, &be) {
		buildFailed = true
		failed = 0 // a failed write blames no document
		if c.cfg.BuildFailed != nil {
			c.cfg.BuildFailed(be.err)
		}
	}
	why := fmt.Sprint(reason)
	for _, r := range c.ledger.WorkerLost(slot.id, failed, "worker panicked: "+why) {
		c.reject(r)
	}
	gen := slot.generation.Add(1)
	slot.idle = false
	delay, count := c.restarter.Schedule(child.Id, func() { sup.RestartChildren(child) })
	c.cfg.logger().Warn("worker failed; restarting", "worker", slot.id, "generation", gen,
		"reason", why, "failures", count, "backoff", delay)
	// A supervisor strategy has no actor context to send from.
	system.Root.Send(c.committer, &messages.WorkerDown{Worker: slot.id, Generation: gen, Restarted: true, Reason: why, BuildFailed: buildFailed, Round: be.round, Pid: child})
}

// workerStopped replaces a worker that stopped (killed, or lost with its
// node): its batches go back to the queue, and the round stops waiting.
func (c *coordinator) workerStopped(ctx actor.Context, who *actor.PID) {
	slot := c.slotByPID(who)
	if slot == nil || c.stopping {
		return
	}
	for _, r := range c.ledger.WorkerLost(slot.id, 0, "worker stopped") {
		c.reject(r)
	}
	c.restarter.Forget(who.Id)
	gen := slot.generation.Add(1)
	c.cfg.logger().Warn("worker stopped; replacing it", "worker", slot.id, "generation", gen)
	c.spawn(ctx, slot)
	ctx.Send(c.committer, &messages.WorkerDown{Worker: slot.id, Generation: gen, Reason: "stopped", Pid: slot.pid})
}

func (c *coordinator) reject(r supervisor.Rejection[*messages.Document]) {
	c.cfg.logger().Error("document rejected", "reason", r.Reason)
	c.rejected = append(c.rejected, &messages.Rejected{Reason: r.Reason, Doc: r.Doc})
}

func (c *coordinator) refs() []*messages.WorkerRef {
	refs := make([]*messages.WorkerRef, len(c.workers))
	for i, s := range c.workers {
		refs[i] = &messages.WorkerRef{Worker: s.id, Generation: s.generation.Load(), Pid: s.pid}
	}
	return refs
}

func (c *coordinator) slot(id int32) *workerSlot {
	if id < 0 || int(id) >= len(c.workers) {
		return nil
	}
	return c.workers[id]
}

func (c *coordinator) slotByPID(pid *actor.PID) *workerSlot {
	for _, s := range c.workers {
		if s.pid.Equal(pid) {
			return s
		}
	}
	return nil
}
