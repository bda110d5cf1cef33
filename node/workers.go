package node

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/worker"
)

// hostedWorker is what a host knows of a worker it started.
type hostedWorker struct {
	id          int32
	generation  uint64
	coordinator *actor.PID
}

// startWorker starts a worker for StartWorker: a new actor name for every
// generation, its segments built in the host's scratch directory and served
// by the host's file server. A schema the node cannot read or a tokenizer it
// lacks is an error naming it.
func (h *host) startWorker(ctx actor.Context, m *messages.StartWorker) *messages.WorkerStarted {
	res := &messages.WorkerStarted{Worker: m.Worker, Generation: m.Generation}
	fail := func(format string, args ...any) *messages.WorkerStarted {
		res.Error = fmt.Sprintf("hermes node %s: worker %d generation %d: ", h.node.Address(), m.Worker, m.Generation) + fmt.Sprintf(format, args...)
		h.node.log.Warn("StartWorker refused", "error", res.Error)
		return res
	}
	if m.Coordinator == nil || m.MemoryBudget <= 0 {
		return fail("StartWorker needs a coordinator and a positive memory budget")
	}
	schema, err := segment.ParseSchema(m.Schema)
	if err != nil {
		return fail("schema: %v", err)
	}
	toks, err := segment.ResolveTokenizers(schema, h.node.tokenizers, m.Tokenizers)
	if err != nil {
		return fail("%v (this node has %v)", err, h.node.tokenizers.Names())
	}
	props := worker.Props(worker.Config{
		Worker: m.Worker, Generation: m.Generation, Schema: schema,
		Tokenizers:   func() map[string]analysis.Tokenizer { return toks },
		MemoryBudget: m.MemoryBudget, Coordinator: m.Coordinator,
		Dir: h.dir, Files: h.files,
		NewID:  worker.IDsFrom(ctx.ActorSystem(), m.Coordinator, m.Worker, m.Generation, DetectionBound),
		Logger: h.node.log,
	})
	pid, err := ctx.SpawnNamed(props, fmt.Sprintf("worker-%d-g%d", m.Worker, m.Generation))
	if errors.Is(err, actor.ErrNameExists) {
		return fail("already started")
	} else if err != nil {
		return fail("%v", err)
	}
	h.workers[pid.Id] = hostedWorker{id: m.Worker, generation: m.Generation, coordinator: m.Coordinator}
	h.node.log.Info("worker started", "worker", m.Worker, "generation", m.Generation, "pid", pid.String())
	res.Pid = pid
	return res
}

// HandleFailure supervises the host's workers: a worker that panics is
// stopped (not restarted: the coordinator keeps the restart policy, the
// backoff and poison isolation, and starts the next generation), and the
// coordinator hears WorkerFailed with the batch it was processing. The
// coordinator also sees the worker's Terminated, possibly first.
func (h *host) HandleFailure(system *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, message any) {
	w, ok := h.workers[child.Id]
	if !ok {
		sup.StopChildren(child)
		return
	}
	// WorkerFailed goes out before the stop, so it travels ahead of the
	// worker's Terminated: the coordinator then learns the blame first.
	defer sup.StopChildren(child)
	failed := worker.Failed(w.id, w.generation, child, reason, message)
	h.node.log.Warn("worker failed; stopped", "worker", w.id, "generation", w.generation, "reason", failed.Reason, "blamed batch", failed.BlamedBatch)
	// A supervisor strategy has no actor context to send from.
	system.Root.Send(w.coordinator, failed)
}
