package actors

import (
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/supervisor"
	"github.com/hermes-search/hermes-go/worker"
)

// coordinator is the actor around coordinatorCore (coordinator_core.go),
// which owns intake, the ledger, the workers' generations and the flush.
// This file only turns actor events into core events and performs the
// core's effects: sends, spawns, restarts and timers.
//
// Local workers run the same code as workers on nodes (package worker):
// the coordinator is their parent and supervisor, as a host is on a node
// (it implements actor.SupervisorStrategy). A worker that panics is
// stopped and reported as WorkerFailed, a stopped one is workerStopped, and
// the core decides what happens to the position and its batches; each
// generation is a new actor. A local worker builds in the index directory,
// so its SegmentShipped needs no fetch: the segment is installed in place.
type coordinator struct {
	cfg       *Config
	committer *actor.PID
	core      *coordinatorCore

	local  []*localSlot   // the positions beside the writer, first
	remote *remoteWorkers // the positions on other nodes, after the local ones

	workers []*actor.PID // each position's current actor
	self    *actor.PID
	system  *actor.ActorSystem

	timersMu sync.Mutex
	timers   map[supervisor.Timer]struct{}
	stopped  bool
}

// localStopped is the stop of a local worker's generation, handled in
// order behind the messages the worker sent before it stopped.
type localStopped struct {
	worker     int32
	generation uint64
}

// localSlot is what the coordinator knows of a local worker's actor.
type localSlot struct {
	generation uint64 // of the position's current actor
	stopped    bool   // it was stopped (it panicked) or it terminated
}

func newCoordinator(cfg *Config, committer *actor.PID) *coordinator {
	remote := newRemoteWorkers(cfg, int32(cfg.Workers))
	core := newCoordinatorCore(coreConfig{
		Workers: cfg.Workers + remote.count(), BatchDocs: cfg.BatchDocs, BatchBytes: cfg.BatchBytes, MaxCrashes: cfg.MaxCrashes,
		Backoff: cfg.Backoff, Seed: cfg.Seed, Now: cfg.clock().Now, Logger: cfg.logger(), Serial: cfg.Serial,
	})
	c := &coordinator{cfg: cfg, committer: committer, core: core, remote: remote, timers: map[supervisor.Timer]struct{}{}}
	for i := 0; i < cfg.Workers; i++ {
		c.local = append(c.local, &localSlot{})
	}
	c.workers = make([]*actor.PID, cfg.Workers+remote.count())
	return c
}

func (c *coordinator) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.self, c.system = ctx.Self(), ctx.ActorSystem()
		c.remote.connect(ctx)
		c.perform(ctx, c.core.start())

	case *messages.WorkersRequest:
		refs := make([]*messages.WorkerRef, len(c.workers))
		for i, gen := range c.core.generations() {
			refs[i] = &messages.WorkerRef{Worker: int32(i), Generation: gen, Pid: c.actorOf(int32(i), gen)}
		}
		ctx.Respond(&messages.WorkersResponse{Workers: refs})

	case *actor.Terminated:
		if c.remote.receive(ctx, c, m) {
			return
		}
		if id := c.position(m.Who); id >= 0 && int(id) < len(c.local) {
			s := c.local[id]
			wasStopped := s.stopped
			s.stopped = true // nothing more is sent to it
			if !wasStopped && !c.core.stopping {
				// Terminated is a system message: it overtakes what the
				// worker sent before it stopped, such as the segment of a
				// build it finished after the stop was asked. Its stop is
				// news only after those, or the core would hand that
				// segment's batches out again and discard the segment.
				ctx.Send(c.self, localStopped{worker: id, generation: s.generation})
			}
		}

	case localStopped:
		if c.core.isCurrent(m.worker, m.generation) {
			c.perform(ctx, c.core.step(workerStopped{worker: m.worker}))
		}

	case *messages.WorkerFailed:
		if c.remote.receive(ctx, c, m) {
			return
		}
		// A local worker's, from HandleFailure, which stopped it: in order
		// behind what the worker sent before it panicked.
		if m.Worker >= 0 && int(m.Worker) < len(c.local) && c.local[m.Worker].stopped && same(m.Pid, c.workers[m.Worker]) && c.core.isCurrent(m.Worker, m.Generation) {
			c.perform(ctx, c.core.step(failure(m, "")))
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

	case *IntakeReady:
		if docs := c.cfg.Intake.take(m); len(docs) > 0 {
			c.perform(ctx, c.core.step(&messages.AddDocuments{Docs: docs}))
		}

	case *messages.AddDocuments, *messages.RequestWork, *messages.SegmentBuilt, *messages.FlushAck,
		*messages.PrepareRequest, *messages.CancelPrepare, *messages.AbortRequest, *messages.ReturnDurable, restartDue, deadlineDue,
		*messages.SegmentShipped:
		c.perform(ctx, c.core.step(m))

	case *messages.SegmentInstalled:
		if m.Code != messages.ErrorCode_ERROR_NONE {
			c.remote.fetchFailed(ctx, c, m.Id)
		}
		c.perform(ctx, c.core.step(m))
		c.remote.installed(ctx, c) // news of a loss may wait for this fetch

	default:
		c.remote.receive(ctx, c, m)
	}
}

// HandleFailure supervises the local workers as a host does on a node: a
// worker that panics is stopped (each generation is a new actor) and
// reported as WorkerFailed, with the document it was adding or the segment
// write that failed; the core then decides. It runs on the coordinator's
// goroutine as a system message, ahead of what the worker sent before it
// panicked, such as a segment it finished: the failure goes to the
// mailbox behind those (as a local worker's stop does), or the core would
// hand that segment's batches out again and discard it. The worker's
// Terminated, which follows, is no news.
func (c *coordinator) HandleFailure(system *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, message interface{}) {
	sup.StopChildren(child)
	id := c.position(child)
	if id < 0 || int(id) >= len(c.local) || c.local[id].stopped {
		return // not a worker (a fetcher), or an old actor of a replaced one
	}
	s := c.local[id]
	s.stopped = true // nothing more is sent to it
	system.Root.Send(c.self, worker.Failed(id, s.generation, child, reason, message))
}

// failure is the core event for a worker's WorkerFailed; where says where
// the worker ran, for the reason.
func failure(m *messages.WorkerFailed, where string) workerFailed {
	ev := workerFailed{worker: m.Worker, generation: m.Generation, reason: where + m.Reason, buildFailed: m.BuildFailed, flushID: m.Round, code: m.Code}
	if m.BlamedDoc != nil {
		ev.blame = &supervisor.Blame{Seq: m.BlamedBatch, Index: int(m.GetBlamedDoc())}
	}
	return ev
}

// perform carries out the core's effects.
func (c *coordinator) perform(ctx actor.Context, effects []effect) {
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
			if s := c.local[e.worker]; !s.stopped {
				ctx.Send(c.workers[e.worker], e.msg)
			} // else its WorkerFailed is on its way: the core re-delivers
		case toCommitter:
			ctx.Send(c.committer, e.msg)
		case forwardToCommitter:
			ctx.RequestWithCustomSender(c.committer, e.msg, ctx.Sender())
		case spawnWorker:
			c.start(ctx, e.worker, e.generation)
		case restartWorker:
			c.start(ctx, e.worker, e.generation)
		case after:
			c.schedule(e)
		case releaseCredits:
			c.cfg.Env.ReleaseCredits(e.n)
		case deleteFiles:
			removeFiles(c.cfg, e.files)
		case fetchSegment:
			if !c.builtHere(e.shipped) {
				c.remote.fetch(c, e.shipped) // which refuses a worker not on a node
				continue
			}
			// A local worker built it in the index directory, with an id
			// from the index's journal: it is installed where it lies, at
			// once, so that no news of the worker's stop comes between.
			c.perform(ctx, c.core.step(&messages.SegmentInstalled{Id: e.shipped.Segment.Id, Bytes: e.shipped.Segment.Bytes}))
		case releaseSegment:
			if !c.builtHere(e.shipped) {
				c.remote.release(c, e.shipped)
				continue
			}
			var files []string
			for _, f := range e.shipped.Segment.Files {
				files = append(files, f.Name)
			}
			removeFiles(c.cfg, files)
		}
	}
}

// builtHere reports whether a shipped segment is a local worker's, built in
// the index directory. Only then are its files the index directory's: a
// message from a node (Files set), whatever position it names, never is.
func (c *coordinator) builtHere(m *messages.SegmentShipped) bool {
	return m.Files == nil && m.Worker >= 0 && int(m.Worker) < len(c.local)
}

// keyShare returns a local worker's share of the writer's pending primary
// keys, which its budget covers (worker.Config.SharedBytes); it runs on the
// worker's goroutine.
func (c *coordinator) keyShare() func() int64 {
	env, workers := c.cfg.Env, int64(max(1, len(c.local)))
	return func() int64 { return env.PendingKeyBytes() / workers }
}

// start starts generation of the worker at position id: on its node, or
// here as a child.
func (c *coordinator) start(ctx actor.Context, id int32, generation uint64) {
	if c.remote.has(id) {
		c.remote.start(c, id, generation)
		return
	}
	s := c.local[id]
	if !s.stopped && c.workers[id] != nil {
		ctx.Stop(c.workers[id]) // not expected: a position is restarted once its actor is gone
	}
	props := worker.Props(worker.Config{
		Worker: id, Generation: generation, Schema: c.cfg.Schema,
		Tokenizers:   c.cfg.Env.Tokenizers,
		MemoryBudget: c.cfg.WorkerMemory, LedgerInBudget: true, SharedBytes: c.keyShare(),
		Coordinator: c.self, Dir: c.cfg.Dir,
		NewID:  c.cfg.newSegmentID,
		Logger: c.cfg.logger(),
	})
	pid, err := ctx.SpawnNamed(props, fmt.Sprintf("worker-%d-g%d", id, generation))
	if err != nil { // a name in use: generations only increase, so a bug
		panic(fmt.Sprintf("spawn worker %d generation %d: %v", id, generation, err))
	}
	c.workers[id] = pid
	s.generation, s.stopped = generation, false
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

// actorOf returns the actor of position id for its current generation:
// for a position on a node, nil while the worker starts or the node is lost
// (the last worker's PID is of an ended generation). A local position
// names its last actor, stopped while it waits out a backoff (stopping it
// again changes nothing).
func (c *coordinator) actorOf(id int32, generation uint64) *actor.PID {
	if s := c.remote.slots[id]; s != nil {
		if s.generation == generation {
			return s.pid
		}
		return nil
	}
	return c.workers[id]
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

// errorCode classifies an error for a message.
func errorCode(err error) messages.ErrorCode { return messages.CodeOf(err) }
