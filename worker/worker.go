// Package worker is the indexing worker, location-transparent: it depends
// only on messages, a directory to build segments in, tokenizers, a source
// of segment ids and a logger. It shares no state with the writer and calls
// nothing in it, so the same code runs beside the coordinator (package
// actors spawns it, building straight into the index directory) and on a
// node (package node starts it for StartWorker, building into the node's
// scratch directory).
//
// Protocol, with the coordinator:
//
//	worker --RequestWork{worker, generation}--> coordinator      (when free)
//	coordinator --Batch{seq, docs, generation, schema_version[, schema]}--> worker
//	worker --SegmentShipped{round 0, segment, batches, files}--> coordinator   (past 80% of its budget)
//	coordinator --FlushRequest{round, reply_to}--> worker
//	worker --SegmentShipped{round, ...} | FlushAck{round} (nothing held)--> reply_to
//
// A Batch of a newer schema version (the writer's schema grew: dynamic
// mapping) makes the worker write its builder, if it holds documents, as a
// segment (SegmentShipped, round 0) and build the next one with the new
// schema, which the first batch of each version to each generation
// carries. Every segment is thus built with one schema, which the commit
// that registers it extends.
//
// A SegmentShipped names a segment in the worker's directory. On a node
// (Files set) the coordinator has it fetched (package shipping) before it
// counts the batches as durable; beside the writer the directory is the
// index's and the segment is already in place. A worker keeps nothing worth
// saving: when it panics, its supervisor stops it and reports WorkerFailed
// (Failed), and the coordinator re-delivers its batches to the next
// generation, a new actor.
package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/shipping"
	"github.com/hermes-search/hermes-go/storage"
)

const (
	// BuildThreshold is the share of its budget at which a worker writes
	// its builder as a segment, as in the original.
	BuildThreshold = 0.8
	// MinSegmentDocs keeps a worker from writing tiny segments when a few
	// huge documents fill its budget.
	MinSegmentDocs = 100
	// MaxSharedShare caps what Config.SharedBytes counts against a budget,
	// as a share of it, so a builder always gets at least BuildThreshold -
	// MaxSharedShare (30%) of its budget and segments stay large. Past the
	// cap, the memory SharedBytes reports is outside the budget.
	MaxSharedShare = 0.5
)

// Config is what a worker needs.
type Config struct {
	Worker     int32
	Generation uint64
	Schema     *segment.Schema
	// Tokenizers returns the field -> tokenizer map
	// (segment.ResolveTokenizers); it is read for each new segment builder,
	// so a change applies from the worker's next segment.
	Tokenizers   func() map[string]analysis.Tokenizer
	MemoryBudget int64
	// LedgerInBudget: the memory budget also covers the documents the
	// writer's ledger holds for this worker until its segment is durable
	// (true beside the writer, whose MaxIndexingMemory covers both; on a
	// node the ledger's memory is the writer's, bounded by its credits).
	LedgerInBudget bool
	// SharedBytes, if set, returns memory outside the builder that this
	// worker's budget covers too: beside the writer, its share of the
	// primary keys the writer holds for the documents added since the last
	// commit (actors.Env.PendingKeyBytes), which grow with the commit and
	// go only when it ends. It counts up to MaxSharedShare of the budget.
	// It is read after each batch, on the worker's goroutine.
	SharedBytes func() int64
	Coordinator *actor.PID
	// Dir is where segments are built. They stay until the writer takes
	// them: in place (Files nil: Dir is the index directory) or fetched
	// through Files, which then releases them.
	Dir storage.Directory
	// Files is the file server over Dir that the writer fetches from, nil
	// when Dir is the index directory. With Files, each file is described
	// with its size and xxhash64 for the fetch to check.
	Files *actor.PID
	// NewID names each segment before any of its files exists. The writer
	// allocates ids, on its clock, recorded in its index's segment-id
	// journal: orphan cleanup relies on both.
	NewID  func() (segment.ID, error)
	Logger *slog.Logger
}

// Props returns the props of a worker. Each generation must be spawned
// under a new name: PIDs carry no incarnation.
func Props(cfg Config) *actor.Props {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return actor.PropsFromProducer(func() actor.Actor { return &worker{cfg: cfg} })
}

type worker struct {
	// cfg is the worker's own copy: cfg.Schema is the newest schema it was
	// sent (the builder's, or the next builder's), of version
	// schemaVersion.
	cfg           Config
	schemaVersion uint32
	builder       *segment.Builder
	batches       []uint64 // sequence numbers of the batches in builder
	heldBytes     int64    // their memory in the writer's ledger (LedgerInBudget)
	// flushSeen is the newest flush round asked of this worker.
	flushSeen uint64
	// doc is the document being added, decoded from its wire form into
	// the same values each time (the builder keeps no part of it).
	doc segment.Document
}

// BuildError is the panic value of a failed segment write (an I/O error
// such as a full disk), so the supervisor can report it as such.
type BuildError struct {
	Err error
	// Round is the newest flush round the worker had been asked for when
	// the write failed (the one it was serving, in a flush); 0 if none. A
	// failure under memory pressure that came before a flush's request
	// reached the worker is not that flush's.
	Round uint64
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

// Failed describes, for the coordinator, the panic of generation of worker
// (actor pid) with reason while it handled message: the supervisor of a
// worker (the coordinator beside the writer, a host on a node) calls it and
// stops the worker.
func Failed(id int32, generation uint64, pid *actor.PID, reason, message any) *messages.WorkerFailed {
	failed := &messages.WorkerFailed{Worker: id, Generation: generation, Reason: fmt.Sprint(reason), Pid: pid}
	if b, ok := actor.UnwrapEnvelopeMessage(message).(*messages.Batch); ok && b.Generation == generation {
		failed.BlamedBatch = b.Seq
	}
	if ap, ok := reason.(AddPanic); ok && ap.Doc >= 0 {
		failed.BlamedBatch, failed.BlamedDoc = ap.Batch, proto.Int32(int32(ap.Doc))
		failed.Reason = fmt.Sprint(ap.Reason)
	}
	var be BuildError
	if err, ok := reason.(error); ok && errors.As(err, &be) {
		failed.BuildFailed, failed.Round, failed.BlamedBatch = true, be.Round, 0
		failed.Code = messages.CodeOf(be.Err)
	}
	return failed
}

// busyTime and buildTime add up the time this process's workers spent on
// their messages, and the part of it building segments (see Busy).
var busyTime, buildTime atomic.Int64

// Busy returns the time this process's workers, all of them, have spent
// handling messages since it started (adding batches, building segments),
// and the part of it they spent building segments: against the wall time
// of a run, how busy they were (with one worker, whether it or what feeds
// it sets the pace). Benchmarks read it; it costs two clock reads a
// message.
func Busy() (handling, building time.Duration) {
	return time.Duration(busyTime.Load()), time.Duration(buildTime.Load())
}

func (w *worker) Receive(ctx actor.Context) {
	start := time.Now()
	defer func() { busyTime.Add(int64(time.Since(start))) }()
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.cfg.Logger.Debug("worker started", "worker", w.cfg.Worker, "generation", w.cfg.Generation)
		w.askForWork(ctx)

	case *messages.Batch:
		if m.Generation != w.cfg.Generation {
			return // for another incarnation; the ledger re-delivers it
		}
		if m.SchemaVersion > w.schemaVersion {
			if s := w.useSchema(m); s != nil {
				ctx.Send(w.cfg.Coordinator, s)
			}
		}
		w.add(m)
		if w.overBudget() {
			if s := w.build(0); s != nil {
				ctx.Send(w.cfg.Coordinator, s)
			}
		}
		w.askForWork(ctx)

	case *messages.FlushRequest:
		w.cfg.Logger.Debug("flush requested", "worker", w.cfg.Worker, "generation", w.cfg.Generation, "round", m.Round)
		w.flushSeen = max(w.flushSeen, m.Round)
		if s := w.build(m.Round); s != nil {
			ctx.Send(m.ReplyTo, s)
		} else {
			ctx.Send(m.ReplyTo, &messages.FlushAck{Round: m.Round, Worker: w.cfg.Worker, Generation: w.cfg.Generation})
		}
	}
}

func (w *worker) askForWork(ctx actor.Context) {
	ctx.Send(w.cfg.Coordinator, &messages.RequestWork{Worker: w.cfg.Worker, Generation: w.cfg.Generation})
}

// useSchema moves the worker to the newer schema of batch b, and returns
// the segment of the builder that held documents of the older one, if any.
// A batch of a version it was never sent the schema of (a message lost on
// the way, which the coordinator then treats as a lost worker) is a panic:
// the coordinator re-delivers the batch to the next generation, with the
// schema.
func (w *worker) useSchema(b *messages.Batch) *messages.SegmentShipped {
	if len(b.Schema) == 0 {
		panic(fmt.Sprintf("worker %d: batch %d needs schema version %d, which this worker was not sent", w.cfg.Worker, b.Seq, b.SchemaVersion))
	}
	s, err := segment.ParseSchema(b.Schema)
	if err != nil || !s.Extends(w.cfg.Schema) {
		panic(fmt.Sprintf("worker %d: batch %d: schema version %d does not extend the worker's schema (%v)", w.cfg.Worker, b.Seq, b.SchemaVersion, err))
	}
	shipped := w.build(0)
	w.builder = nil // one left holds no document (an empty batch made it), but the old schema
	w.cfg.Schema, w.schemaVersion = s, b.SchemaVersion
	w.cfg.Logger.Debug("schema grown", "worker", w.cfg.Worker, "generation", w.cfg.Generation, "version", b.SchemaVersion, "fields", s.NumFields())
	return shipped
}

func (w *worker) add(b *messages.Batch) {
	if w.builder == nil {
		w.builder = segment.NewBuilder(w.cfg.Schema, w.cfg.Tokenizers())
	}
	adding := -1
	defer func() {
		if r := recover(); r != nil {
			panic(AddPanic{Batch: b.Seq, Doc: adding, Reason: r})
		}
	}()
	for i, m := range b.Docs {
		adding = i
		// Documents were validated at intake; an error here is a bug (or a
		// message damaged on its way), and the panic hands it to the
		// supervisor, which blames this document.
		if err := messages.DecodeDocument(m, &w.doc); err != nil {
			panic(fmt.Sprintf("worker %d: decode document: %v", w.cfg.Worker, err))
		}
		if err := w.builder.Add(&w.doc); err != nil {
			panic(fmt.Sprintf("worker %d: add document: %v", w.cfg.Worker, err))
		}
		if w.cfg.LedgerInBudget {
			w.heldBytes += int64(HeldBytes(m))
		}
	}
	w.batches = append(w.batches, b.Seq)
}

func (w *worker) overBudget() bool {
	if w.builder == nil || w.builder.NumDocs() < MinSegmentDocs {
		return false
	}
	used := float64(w.builder.EstimatedMemoryBytes() + w.heldBytes)
	if w.cfg.SharedBytes != nil {
		used += min(float64(w.cfg.SharedBytes()), MaxSharedShare*float64(w.cfg.MemoryBudget))
	}
	return used >= BuildThreshold*float64(w.cfg.MemoryBudget)
}

// build writes the builder as a durable segment (every file fsynced) in the
// worker's directory and describes it; nil when the builder is empty. round
// is the flush round asking for it, 0 for a build under memory pressure.
func (w *worker) build(round uint64) *messages.SegmentShipped {
	if w.builder == nil || w.builder.NumDocs() == 0 {
		return nil
	}
	start := time.Now()
	defer func() { buildTime.Add(int64(time.Since(start))) }()
	b := w.builder
	w.builder, w.heldBytes = nil, 0
	id, err := w.cfg.NewID()
	var meta *segment.Meta
	if err == nil {
		meta, err = b.Build(w.cfg.Dir, id)
	}
	var seg *messages.ShippedSegment
	if err == nil {
		seg, err = w.describe(meta)
	}
	if err != nil {
		w.cfg.Logger.Error("segment build failed", "worker", w.cfg.Worker, "generation", w.cfg.Generation, "error", err)
		panic(BuildError{Err: err, Round: w.flushSeen}) // round, if a flush asked: the FlushRequest set flushSeen
	}
	w.cfg.Logger.Info("segment built", "worker", w.cfg.Worker, "generation", w.cfg.Generation,
		"segment", seg.Id, "docs", seg.NumDocs, "bytes", seg.Bytes, "duration", time.Since(start))
	batches := w.batches
	w.batches = nil
	return &messages.SegmentShipped{
		Worker: w.cfg.Worker, Generation: w.cfg.Generation, Round: round,
		Segment: seg, Batches: batches, Files: w.cfg.Files,
	}
}

// describe lists a built segment's files, with their checksums when the
// segment is to be fetched (in place, nobody would check them).
func (w *worker) describe(meta *segment.Meta) (*messages.ShippedSegment, error) {
	if w.cfg.Files != nil {
		return shipping.Describe(w.cfg.Dir, meta)
	}
	seg := &messages.ShippedSegment{Id: meta.ID.String(), NumDocs: meta.NumDocs, Bytes: meta.Bytes}
	for _, name := range meta.Files {
		seg.Files = append(seg.Files, &messages.FileDigest{Name: name})
	}
	return seg, nil
}

// HeldBytes estimates the heap a document (its wire form, see
// actors.ToMessage) takes while the writer's ledger holds it: its bytes and
// the slice in its batch that points to them.
func HeldBytes(m []byte) int { return 24 + cap(m) }

// MessageBytes is a document's size: its wire form's, about its field
// names and values.
func MessageBytes(m []byte) int { return len(m) }

// IDsFrom returns a NewID for a worker away from the writer: each id is
// asked of the coordinator (SegmentIDRequest), which allocates it on the
// writer's clock and records it in the index's journal. No answer within
// timeout fails the build (the batches are re-delivered; a writer that
// stays silent is a lost writer to the node).
func IDsFrom(system *actor.ActorSystem, coordinator *actor.PID, worker int32, generation uint64, timeout time.Duration) func() (segment.ID, error) {
	return func() (segment.ID, error) {
		res, err := system.Root.RequestFuture(coordinator, &messages.SegmentIDRequest{Worker: worker, Generation: generation}, timeout).Result()
		if err != nil {
			return segment.ID{}, fmt.Errorf("ask the writer for a segment id: %w", err)
		}
		r, ok := res.(*messages.SegmentIDResponse)
		switch {
		case !ok:
			return segment.ID{}, fmt.Errorf("ask the writer for a segment id: answered %T", res)
		case r.Error != "":
			return segment.ID{}, fmt.Errorf("the writer allocated no segment id: %s", r.Error)
		}
		return segment.ParseID(r.Id)
	}
}
