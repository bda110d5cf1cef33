// Package worker is a location-transparent indexing worker: it depends only
// on messages, a directory of its own to build segments in, tokenizers and a
// logger. It shares no storage.Directory with the writer and calls nothing
// in it, so the same code runs beside the coordinator or on a node (package
// node starts it for StartWorker).
//
// Protocol, with the coordinator:
//
//	worker --RequestWork{worker, generation}--> coordinator      (when free)
//	coordinator --Batch{seq, docs, generation}--> worker
//	worker --SegmentShipped{round 0, segment, batches, files}--> coordinator   (past 80% of its budget)
//	committer --FlushRequest{round, reply_to}--> worker
//	worker --SegmentShipped{round, ...} | FlushAck{round} (nothing held)--> reply_to
//
// The segment of a SegmentShipped lies in the worker's directory, served by
// the file server files; the coordinator has it fetched (package shipping)
// before it counts the batches as durable. A worker keeps nothing worth
// saving: when it panics, its supervisor stops it and reports WorkerFailed,
// and the coordinator re-delivers its batches to the next generation.
package worker

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/shipping"
	"github.com/hermes-search/hermes-go/storage"
)

// As the writer's local workers (actors/config.go): a builder is written as
// a segment past 80% of the budget, and not before it holds 100 documents.
const (
	buildThreshold = 0.8
	minSegmentDocs = 100
)

// Config is what a worker needs.
type Config struct {
	Worker     int32
	Generation uint64
	Schema     *segment.Schema
	// Tokenizers maps each indexed text field to its tokenizer
	// (segment.ResolveTokenizers).
	Tokenizers   map[string]analysis.Tokenizer
	MemoryBudget int64
	Coordinator  *actor.PID
	// Dir is the worker's own directory: segments are built there and
	// stay until the writer releases them through Files.
	Dir storage.Directory
	// Files is the file server over Dir that the writer fetches from.
	Files *actor.PID
	// Now dates segment ids; it must follow the writer's clock (see
	// StartWorker.id_clock_ms).
	Now    func() time.Time
	Logger *slog.Logger
}

// Props returns the props of a worker. Each generation must be spawned
// under a new name: PIDs carry no incarnation.
func Props(cfg Config) *actor.Props {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return actor.PropsFromProducer(func() actor.Actor { return &worker{cfg: cfg} })
}

type worker struct {
	cfg     Config
	builder *segment.Builder
	batches []uint64
}

// BuildError is the panic value of a failed segment write (an I/O error
// such as a full disk), so the supervisor can report it as such.
type BuildError struct {
	Err   error
	Round uint64 // the flush round, 0 outside one
}

func (e BuildError) Error() string { return "build segment: " + e.Err.Error() }

func (e BuildError) Unwrap() error { return e.Err }

// AddPanic is the panic value of a worker that panicked while adding a
// document (a tokenizer's panic, say): it names the document, so the
// coordinator blames it alone.
type AddPanic struct {
	Batch  uint64 // the batch's seq
	Doc    int    // the document's index in the batch
	Reason any
}

func (p AddPanic) String() string {
	return fmt.Sprintf("adding document %d of batch %d: %v", p.Doc, p.Batch, p.Reason)
}

func (w *worker) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.askForWork(ctx)

	case *messages.Batch:
		if m.Generation != w.cfg.Generation {
			return // for another incarnation; the ledger re-delivers it
		}
		w.add(m)
		if w.overBudget() {
			if s := w.build(ctx, 0); s != nil {
				ctx.Send(w.cfg.Coordinator, s)
			}
		}
		w.askForWork(ctx)

	case *messages.FlushRequest:
		if s := w.build(ctx, m.Round); s != nil {
			ctx.Send(m.ReplyTo, s)
		} else {
			ctx.Send(m.ReplyTo, &messages.FlushAck{Round: m.Round, Worker: w.cfg.Worker, Generation: w.cfg.Generation})
		}
	}
}

func (w *worker) askForWork(ctx actor.Context) {
	ctx.Send(w.cfg.Coordinator, &messages.RequestWork{Worker: w.cfg.Worker, Generation: w.cfg.Generation})
}

func (w *worker) add(b *messages.Batch) {
	if w.builder == nil {
		w.builder = segment.NewBuilder(w.cfg.Schema, w.cfg.Tokenizers)
	}
	adding := -1
	defer func() {
		if r := recover(); r != nil {
			panic(AddPanic{Batch: b.Seq, Doc: adding, Reason: r})
		}
	}()
	for i, m := range b.Docs {
		adding = i
		// Documents were validated at intake; an error here is a bug, and
		// the panic hands it to the supervisor, which blames this document.
		if err := w.builder.Add(m.SegmentDocument()); err != nil {
			panic(fmt.Sprintf("worker %d: add document: %v", w.cfg.Worker, err))
		}
	}
	w.batches = append(w.batches, b.Seq)
}

func (w *worker) overBudget() bool {
	if w.builder == nil || w.builder.NumDocs() < minSegmentDocs {
		return false
	}
	return float64(w.builder.EstimatedMemoryBytes()) >= buildThreshold*float64(w.cfg.MemoryBudget)
}

// build writes the builder as a segment in the worker's directory and
// describes it for shipping; nil when the builder is empty.
func (w *worker) build(ctx actor.Context, round uint64) *messages.SegmentShipped {
	if w.builder == nil || w.builder.NumDocs() == 0 {
		return nil
	}
	start := time.Now()
	b := w.builder
	w.builder = nil
	meta, err := b.Build(w.cfg.Dir, segment.NewIDAt(w.cfg.Now()))
	var seg *messages.ShippedSegment
	if err == nil {
		seg, err = shipping.Describe(w.cfg.Dir, meta)
	}
	if err != nil {
		w.cfg.Logger.Error("segment build failed", "worker", w.cfg.Worker, "generation", w.cfg.Generation, "error", err)
		panic(BuildError{Err: err, Round: round})
	}
	w.cfg.Logger.Info("segment built", "worker", w.cfg.Worker, "generation", w.cfg.Generation,
		"segment", seg.Id, "docs", seg.NumDocs, "bytes", seg.Bytes, "took", time.Since(start))
	batches := w.batches
	w.batches = nil
	return &messages.SegmentShipped{
		Worker: w.cfg.Worker, Generation: w.cfg.Generation, Round: round,
		Segment: seg, Batches: batches, Files: w.cfg.Files,
	}
}
