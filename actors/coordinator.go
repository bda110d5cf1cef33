package actors

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/supervisor"
)

// coordinator is the actor around coordinatorCore (coordinator_core.go),
// which owns intake, the ledger, the workers' generations and the flush.
// This file only turns actor events into core events and performs the
// core's effects: sends, spawns, restarts and timers.
//
// It is the workers' parent and supervisor (it implements
// actor.SupervisorStrategy): a panic or a stop of a worker becomes a core
// event, and the core decides what happens to the worker and its batches.
type coordinator struct {
	cfg       *Config
	committer *actor.PID
	core      *coordinatorCore

	remote *remoteWorkers // the positions on other nodes, after the local ones

	workers []*actor.PID     // each position's current actor
	gens    []*atomic.Uint64 // read by a worker's producer on restart
	sup     actor.Supervisor // for restarts after a backoff
	self    *actor.PID
	system  *actor.ActorSystem

	timersMu sync.Mutex
	timers   map[supervisor.Timer]struct{}
	stopped  bool
}

func newCoordinator(cfg *Config, committer *actor.PID) *coordinator {
	remote := newRemoteWorkers(cfg, int32(cfg.Workers))
	core := newCoordinatorCore(coreConfig{
		Workers: cfg.Workers + remote.count(), BatchDocs: cfg.BatchDocs, BatchBytes: cfg.BatchBytes, MaxCrashes: cfg.MaxCrashes,
		Backoff: cfg.Backoff, Seed: cfg.Seed, Now: cfg.clock().Now, Logger: cfg.logger(), Serial: cfg.Serial,
	})
	c := &coordinator{cfg: cfg, committer: committer, core: core, remote: remote, timers: map[supervisor.Timer]struct{}{}}
	for i := 0; i < cfg.Workers+remote.count(); i++ {
		c.workers = append(c.workers, nil)
		c.gens = append(c.gens, new(atomic.Uint64))
	}
	return c
}

func (c *coordinator) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.self, c.system = ctx.Self(), ctx.ActorSystem()
		if sup, ok := ctx.(actor.Supervisor); ok {
			c.sup = sup
		}
		c.remote.connect(ctx)
		c.perform(ctx, c.core.start())

	case *messages.WorkersRequest:
		refs := make([]*messages.WorkerRef, len(c.workers))
		for i, gen := range c.core.generations() {
			refs[i] = &messages.WorkerRef{Worker: int32(i), Generation: gen, Pid: c.workers[i]}
		}
		ctx.Respond(&messages.WorkersResponse{Workers: refs})

	case *actor.Terminated:
		if c.remote.receive(ctx, c, m) {
			return
		}
		if id := c.position(m.Who); id >= 0 {
			c.perform(ctx, c.core.step(workerStopped{worker: id}))
		}

	case *actor.Stopping:
		c.core.step(coordinatorStopping{})
		c.remote.stop(ctx)
		c.timersMu.Lock()
		c.stopped = true
		for t := range c.timers {
			t.Stop()
		}
		c.timers = nil
		c.timersMu.Unlock()

	case *messages.AddDocuments, *messages.RequestWork, *messages.SegmentBuilt, *messages.FlushAck,
		*messages.PrepareRequest, *messages.CancelPrepare, *messages.AbortRequest, *messages.ReturnDurable, restartDue, deadlineDue,
		*messages.SegmentShipped, *messages.SegmentInstalled:
		c.perform(ctx, c.core.step(m))

	default:
		c.remote.receive(ctx, c, m)
	}
}

// HandleFailure is the workers' supervision: the core hears of the panic,
// with the document the worker was adding or the segment write that failed.
func (c *coordinator) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason interface{}, _ interface{}) {
	c.sup = sup
	id := c.position(child)
	if id < 0 {
		sup.StopChildren(child) // an old actor of a replaced worker
		return
	}
	ev := workerFailed{worker: id, generation: c.core.workers[id].generation, reason: fmt.Sprint(reason)}
	var ap addPanic
	var be buildError
	if err, ok := reason.(error); ok && errors.As(err, &be) {
		ev.buildFailed, ev.flushID = true, be.round
		ev.code = errorCode(be.err)
	} else if ap, ok = reason.(addPanic); ok {
		ev.blame = &supervisor.Blame{Seq: ap.seq, Index: ap.index}
		ev.reason = fmt.Sprint(ap.reason)
	}
	c.perform(nil, c.core.step(ev))
}

// errorCode classifies an error for a message.
func errorCode(err error) messages.ErrorCode {
	switch {
	case errors.Is(err, storage.ErrDiskFull):
		return messages.ErrorCode_ERROR_DISK_FULL
	case errors.Is(err, storage.ErrCorrupt):
		return messages.ErrorCode_ERROR_CORRUPT
	}
	return messages.ErrorCode_ERROR_NONE
}

// perform carries out the core's effects. ctx is nil inside HandleFailure,
// which has no actor context to send from.
func (c *coordinator) perform(ctx actor.Context, effects []effect) {
	send := func(pid *actor.PID, msg interface{}) {
		if ctx != nil {
			ctx.Send(pid, msg)
		} else {
			c.system.Root.Send(pid, msg)
		}
	}
	for _, e := range effects {
		switch e := e.(type) {
		case toWorker:
			if f, ok := e.msg.(*messages.FlushRequest); ok {
				f.ReplyTo = c.self
			}
			if c.remote.has(e.worker) {
				c.remote.send(c, e.worker, e.msg)
				continue
			}
			send(c.workers[e.worker], e.msg)
		case toCommitter:
			send(c.committer, e.msg)
		case forwardToCommitter:
			ctx.RequestWithCustomSender(c.committer, e.msg, ctx.Sender())
		case spawnWorker:
			if c.remote.has(e.worker) {
				c.remote.start(c, e.worker, e.generation)
				continue
			}
			c.spawn(ctx, e.worker, e.generation)
		case restartWorker:
			if c.remote.has(e.worker) {
				c.remote.start(c, e.worker, e.generation)
				continue
			}
			c.gens[e.worker].Store(e.generation)
			c.sup.RestartChildren(c.workers[e.worker])
		case after:
			c.schedule(e)
		case releaseCredits:
			c.cfg.Env.ReleaseCredits(e.n)
		case deleteFiles:
			removeFiles(c.cfg, e.files)
		case fetchSegment:
			c.remote.fetch(c, e.shipped)
		case releaseSegment:
			c.remote.release(c, e.shipped)
		}
	}
}

func (c *coordinator) spawn(ctx actor.Context, id int32, generation uint64) {
	c.gens[id].Store(generation)
	gen := c.gens[id]
	props := actor.PropsFromProducer(func() actor.Actor {
		return &worker{cfg: c.cfg, id: id, generation: gen.Load(), coordinator: c.self}
	})
	c.workers[id] = ctx.Spawn(props)
}

// schedule delivers an event to the coordinator after a delay.
func (c *coordinator) schedule(e after) {
	c.timersMu.Lock()
	defer c.timersMu.Unlock()
	if c.stopped {
		return
	}
	var t supervisor.Timer
	t = c.cfg.clock().AfterFunc(e.d, func() {
		c.timersMu.Lock()
		_, live := c.timers[t]
		delete(c.timers, t)
		c.timersMu.Unlock()
		if live {
			c.system.Root.Send(c.self, e.event)
		}
	})
	c.timers[t] = struct{}{}
}

// position returns the worker position whose current actor is pid, or -1.
func (c *coordinator) position(pid *actor.PID) int32 {
	for i, p := range c.workers {
		if same(p, pid) { // a remote position has no actor while it starts
			return int32(i)
		}
	}
	return -1
}
