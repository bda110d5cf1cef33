package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
)

// worker owns one segment builder. It asks the coordinator for work when
// free, adds each batch to its builder, writes the builder as a durable
// segment when it passes 80% of its memory budget (SegmentBuilt) or when a
// flush round asks (FlushAck).
//
// A worker keeps no state worth saving: when it panics, the coordinator
// re-delivers every batch it held from the ledger, and the restarted worker
// (a new generation, same PID) starts from an empty builder. Batches queued
// for an earlier generation are dropped on arrival for the same reason.
type worker struct {
	cfg         *Config
	id          int32
	generation  uint64
	coordinator *actor.PID

	// adding is the document being added, recorded before each add: a
	// panic in the builder (a tokenizer's, say) blames exactly it.
	adding addPanic

	builder   *segment.Builder
	batches   []uint64 // sequence numbers of the batches in builder
	heldBytes int64    // their memory: the ledger keeps them until they are durable
}

// buildError is how a worker reports a failed segment write (an I/O error
// such as a full disk): it panics with it, so its supervisor treats the
// failure like any crash (nothing is lost: the batches are re-delivered) but
// can tell the commit actor the real cause.
type buildError struct {
	err   error
	round uint64 // the flush round, 0 outside one
}

func (e buildError) Error() string { return "build segment: " + e.err.Error() }

func (e buildError) Unwrap() error { return e.err }

// addPanic is how a worker reports a panic while adding a document: it
// names the document (index in batch seq), so that its supervisor blames
// that document alone.
type addPanic struct {
	seq    uint64
	index  int
	reason interface{}
}

func (p addPanic) String() string {
	return fmt.Sprintf("adding document %d of batch %d: %v", p.index, p.seq, p.reason)
}

func (w *worker) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.cfg.logger().Debug("worker started", "worker", w.id, "generation", w.generation)
		w.askForWork(ctx)

	case *messages.Batch:
		if m.Generation != w.generation {
			return // queued for a crashed incarnation; the ledger re-delivers it
		}
		w.add(m)
		if w.overBudget() {
			if info := w.build(0); info != nil {
				ctx.Send(w.coordinator, &messages.SegmentBuilt{
					Worker: w.id, Generation: w.generation, Segment: info, Batches: w.takeBatches(),
				})
			}
		}
		w.askForWork(ctx)

	case *messages.FlushRequest:
		w.cfg.logger().Debug("flush requested", "worker", w.id, "generation", w.generation, "round", m.Round)
		ack := &messages.FlushAck{Round: m.Round, Worker: w.id, Generation: w.generation}
		if info := w.build(m.Round); info != nil {
			ack.Segment = info
			ack.Batches = w.takeBatches()
		}
		ctx.Send(m.ReplyTo, ack)
	}
}

func (w *worker) askForWork(ctx actor.Context) {
	ctx.Send(w.coordinator, &messages.RequestWork{Worker: w.id, Generation: w.generation})
}

func (w *worker) add(b *messages.Batch) {
	if w.builder == nil {
		w.builder = segment.NewBuilder(w.cfg.Schema, w.cfg.Env.Tokenizers())
	}
	defer func() {
		if r := recover(); r != nil {
			w.adding.reason = r
			panic(w.adding)
		}
	}()
	for i, m := range b.Docs {
		w.adding = addPanic{seq: b.Seq, index: i}
		// Documents were validated at intake; an error here is a bug in
		// the builder, and a panic hands it to the supervisor, which
		// isolates the document that causes it.
		if err := w.builder.Add(m.SegmentDocument()); err != nil {
			panic(fmt.Sprintf("worker %d: add document: %v", w.id, err))
		}
		w.heldBytes += int64(heldBytes(m))
	}
	w.batches = append(w.batches, b.Seq)
}

func (w *worker) overBudget() bool {
	if w.builder == nil || w.builder.NumDocs() < minSegmentDocs {
		return false
	}
	used := w.builder.EstimatedMemoryBytes() + w.heldBytes
	return float64(used) >= buildThreshold*float64(w.cfg.WorkerMemory)
}

// build writes the builder as a durable segment (every file fsynced) and
// returns its description, or nil when the builder is empty. round is the
// flush round asking for it, 0 for a build under memory pressure.
func (w *worker) build(round uint64) *messages.SegmentInfo {
	if w.builder == nil || w.builder.NumDocs() == 0 {
		return nil
	}
	start := time.Now()
	b := w.builder
	w.builder = nil
	w.heldBytes = 0
	id, err := w.cfg.newSegmentID()
	var meta *segment.Meta
	if err == nil {
		meta, err = b.Build(w.cfg.Dir, id)
	}
	if err != nil {
		w.cfg.logger().Error("segment build failed", "worker", w.id, "error", err)
		panic(buildError{err: err, round: round})
	}
	w.cfg.logger().Info("segment built", "worker", w.id, "generation", w.generation,
		"segment", meta.ID.String(), "docs", meta.NumDocs, "bytes", meta.Bytes, since(start))
	return &messages.SegmentInfo{Id: meta.ID.String(), NumDocs: meta.NumDocs, Files: meta.Files, Bytes: meta.Bytes}
}

func (w *worker) takeBatches() []uint64 {
	b := w.batches
	w.batches = nil
	return b
}
