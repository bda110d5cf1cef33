package actors

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/supervisor"
	"github.com/hermes-search/hermes-go/worker"
)

// coordinatorCore is the coordinator's protocol as a pure state machine, in
// the manner of etcd raft's Step: step takes one event (a message, a worker
// failure, a timer) and returns the effects to perform (messages to send,
// workers to spawn or restart, events to deliver later). It does no I/O and
// reads time only from the clock it is given, so the scripts in testdata/
// run it message by message; the coordinator actor only performs effects.
//
// It owns intake, the ledger, the workers' generations and the flush: asked
// for everything accepted up to a document number, durable
// (PrepareRequest), it cuts those documents into batches, pushes them to the
// live workers with a FlushRequest behind them, re-delivers at once what a
// lost worker held, and answers once every batch holding them is in a
// durable segment (DurableResponse). Documents numbered after the cut stay
// in the queue for the next commit.
type coordinatorCore struct {
	cfg      coreConfig
	workers  []*workerState
	failures *supervisor.Failures
	stopping bool

	queue    docQueue // accepted documents (wire forms, see ToMessage) not yet in a batch
	ledger   *supervisor.Ledger[[]byte]
	fromCut  []*supervisor.Batch[[]byte] // cut for a flush, not yet sent
	nextPush int                         // round robin of pushes to workers
	fairTurn bool                        // the queue's turn before re-deliveries

	segments   []*messages.SegmentInfo // durable, not yet handed to a commit
	segmentDoc uint64                  // documents in segments
	rejected   []*messages.Rejected

	flush       *flushState // nil unless a prepare waits for its flush
	lastFlushID uint64      // FlushRequest.Round numbers; only increase
	lastPrepare uint64      // prepare numbers; only increase

	fetching map[string]*messages.SegmentShipped // remote segments being fetched, by id (coordinator_remote.go)

	// The newest schema the writer grew (dynamic mapping), in force for
	// the documents that came after it; version 0 is the one the workers
	// start with. Batches carry its version (see send).
	schemaVersion uint32
	schema        []byte
}

// coreConfig is what the core needs of Config.
type coreConfig struct {
	Workers    int
	BatchDocs  int
	BatchBytes int
	MaxCrashes int
	Backoff    supervisor.Backoff
	Seed       uint64
	Now        func() time.Time
	Logger     *slog.Logger
	// Serial: workers get documents only from a flush, one worker at a
	// time (Config.Serial).
	Serial bool
}

// workerState is the core's view of one worker position.
type workerState struct {
	id         int32
	generation uint64 // +1 at each restart or replacement
	live       bool   // false while it waits out a backoff
	idle       bool   // asked for work and got none yet
	sent       int    // batches sent to this generation
	flushID    uint64 // the FlushRequest it owes an ack for; 0 if none
	bornIn     uint64 // the prepare whose flush this generation began during; 0 if none
	unflushed  bool   // got batches since its last FlushRequest
	// The last generation lost without blame (stopped, or its node lost)
	// and the batches it held, with their sizes then: its WorkerFailed may
	// still come, late (lateFailure).
	unblamedGen  uint64
	unblamedHeld map[uint64]int
	// The newest schema version sent to generation schemaGen.
	schemaSent uint32
	schemaGen  uint64
}

// flushState is one prepare's flush.
type flushState struct {
	prepare   uint64
	upTo      uint64 // documents numbered up to this are asked for
	lastBatch uint64 // batches numbered up to this hold them
	rounds    uint64
	careful   bool   // a worker was lost: one batch at a time per worker
	turns     int    // Serial: workers given their turn so far
	firstID   uint64 // its FlushRequests are numbered from here
	started   time.Time
}

// Events that are not messages.
type (
	// workerFailed: the worker's generation panicked. A remote worker's
	// report may come after the news of its stop (lateFailure).
	workerFailed struct {
		worker     int32
		generation uint64
		blame      *supervisor.Blame // the document it was adding, if any
		reason     string
		// A failed segment write (a full disk) by a worker that had been
		// asked for the flush being served (flushID: the newest round it
		// had seen) fails it at once.
		buildFailed bool
		flushID     uint64
		code        messages.ErrorCode
	}
	// workerStopped: the worker's actor stopped (killed, or lost with its
	// node); it is replaced.
	workerStopped struct{ worker int32 }
	// restartDue: a failed worker's backoff is over.
	restartDue struct {
		worker     int32
		generation uint64
	}
	// deadlineDue: a prepare's flush deadline passed.
	deadlineDue struct{ prepare uint64 }
	// coordinatorStopping: the writer is closing; nothing restarts now.
	coordinatorStopping struct{}
)

// Effects.
type (
	effect interface{}
	// toWorker sends msg to the worker's current actor.
	toWorker struct {
		worker int32
		msg    interface{}
	}
	// toCommitter sends msg to the committer.
	toCommitter struct{ msg interface{} }
	// forwardToCommitter sends msg to the committer on behalf of the
	// sender of the message being handled, which the committer answers.
	forwardToCommitter struct{ msg interface{} }
	// spawnWorker starts a new actor for the worker position.
	spawnWorker struct {
		worker     int32
		generation uint64
	}
	// restartWorker restarts the worker's failed actor as generation.
	restartWorker struct {
		worker     int32
		generation uint64
	}
	// after delivers event back to the core after d.
	after struct {
		d     time.Duration
		event interface{}
	}
	// releaseCredits returns n intake credits: documents left the queue.
	releaseCredits struct{ n int }
	// deleteFiles deletes a discarded segment's files.
	deleteFiles struct {
		segment string
		files   []string
	}
)

func newCoordinatorCore(cfg coreConfig) *coordinatorCore {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &coordinatorCore{
		cfg:      cfg,
		failures: supervisor.NewFailures(cfg.Backoff, cfg.Seed),
		ledger:   supervisor.NewLedger[[]byte](cfg.MaxCrashes),
	}
}

// start spawns the workers.
func (c *coordinatorCore) start() []effect {
	var out []effect
	for i := 0; i < c.cfg.Workers; i++ {
		c.workers = append(c.workers, &workerState{id: int32(i), live: true})
		out = append(out, spawnWorker{worker: int32(i)})
	}
	return out
}

// step handles one event.
func (c *coordinatorCore) step(ev interface{}) []effect {
	if c.stopping {
		return nil
	}
	var out []effect
	switch m := ev.(type) {
	case *messages.AddDocuments:
		c.queue.push(m.Docs)
		if m.SchemaVersion > c.schemaVersion {
			c.schemaVersion, c.schema = m.SchemaVersion, m.Schema
		}

	case *messages.RequestWork:
		w := c.current(m.Worker, m.Generation)
		if w == nil {
			return nil
		}
		if w.sent > 0 {
			c.failures.Progress(w.id) // it added a batch
		}
		w.idle = true

	case *messages.SegmentBuilt:
		if m.Segment != nil {
			out = c.segmentDurable(out, m.Worker, m.Generation, m.Segment, m.Batches)
		}

	case *messages.FlushAck:
		if w := c.current(m.Worker, m.Generation); w != nil && m.Round == w.flushID {
			w.flushID = 0
		}
		if m.Segment != nil {
			out = c.segmentDurable(out, m.Worker, m.Generation, m.Segment, m.Batches)
		}

	case *messages.SegmentShipped:
		out = c.shipped(out, m)

	case *messages.SegmentInstalled:
		out = c.installed(out, m)

	case workerGone:
		out = c.workerGone(out, m)

	case *messages.PrepareRequest:
		c.lastPrepare++
		fwd := &messages.PrepareRequest{UpTo: m.UpTo, DeadlineMs: m.DeadlineMs, Prepare: c.lastPrepare}
		out = append(out, forwardToCommitter{msg: fwd})
		out = c.startFlush(out, fwd)

	case *messages.AbortRequest:
		// The writer gave up on its prepare. The abort goes through here so
		// that the committer sees it after the prepare and its answer.
		if c.flush != nil {
			out = c.answer(out, "prepare cancelled", messages.ErrorCode_ERROR_NONE)
		}
		out = append(out, forwardToCommitter{msg: m})

	case *messages.CancelPrepare:
		if c.flush != nil && c.flush.prepare == m.Prepare {
			out = c.answer(out, "prepare cancelled", messages.ErrorCode_ERROR_NONE)
		}

	case *messages.ReturnDurable:
		c.segments = append(c.segments, m.Segments...)
		c.rejected = append(c.rejected, m.Rejected...)
		c.segmentDoc += m.Docs

	case workerFailed:
		if c.current(m.worker, m.generation) == nil {
			out = c.lateFailure(out, m)
		} else {
			out = c.workerFailed(out, m)
		}

	case workerStopped:
		w := c.slot(m.worker)
		if w == nil {
			return nil
		}
		c.lost(w, nil, "worker stopped")
		w.live = true
		c.failures.Progress(w.id) // a new actor starts with a clean history
		c.cfg.Logger.Warn("worker stopped; replacing it", "worker", w.id, "generation", w.generation)
		out = append(out, spawnWorker{worker: w.id, generation: w.generation})

	case restartDue:
		if w := c.current(m.worker, m.generation); w != nil && !w.live {
			w.live = true
			out = append(out, restartWorker{worker: w.id, generation: w.generation})
		}

	case deadlineDue:
		if c.flush != nil && c.flush.prepare == m.prepare {
			out = c.answer(out, fmt.Sprintf("flush deadline passed: %s", c.progress()), messages.ErrorCode_ERROR_DEADLINE)
		}

	case coordinatorStopping:
		c.stopping = true
		return nil
	}
	return c.dispatch(out)
}

// current returns the worker if generation is its current one.
func (c *coordinatorCore) current(id int32, generation uint64) *workerState {
	w := c.slot(id)
	if w == nil || w.generation != generation {
		return nil
	}
	return w
}

func (c *coordinatorCore) slot(id int32) *workerState {
	if id < 0 || int(id) >= len(c.workers) {
		return nil
	}
	return c.workers[id]
}

// startFlush cuts the documents asked for into batches. A newer request
// supersedes one still being served: its answer would go unheard.
func (c *coordinatorCore) startFlush(out []effect, m *messages.PrepareRequest) []effect {
	if c.flush == nil {
		c.flush = &flushState{rounds: 1, started: c.cfg.Now(), firstID: c.lastFlushID + 1}
	}
	f := c.flush
	f.prepare, f.upTo = m.Prepare, m.UpTo
	var cut, rest [][]byte
	for _, d := range c.queue.drain() {
		if DocSeq(d) <= m.UpTo {
			cut = append(cut, d)
		} else {
			rest = append(rest, d)
		}
	}
	c.queue.push(rest)
	if len(cut) > 0 {
		out = append(out, releaseCredits{n: len(cut)})
	}
	cutQ := docQueue{}
	cutQ.push(cut)
	for cutQ.len() > 0 {
		c.fromCut = append(c.fromCut, c.openBatch(&cutQ))
	}
	if n := c.ledger.LastSeq(); n > f.lastBatch {
		f.lastBatch = n
	}
	// What workers hold from before the cut is flushed too.
	for _, w := range c.workers {
		if len(c.ledger.HeldBy(w.id)) > 0 {
			w.unflushed = true
		}
	}
	if m.DeadlineMs > 0 {
		out = append(out, after{d: time.Duration(m.DeadlineMs) * time.Millisecond, event: deadlineDue{prepare: m.Prepare}})
	}
	return out
}

// openBatch opens a batch of the first documents of q (at most BatchDocs,
// about BatchBytes); q must not be empty.
func (c *coordinatorCore) openBatch(q *docQueue) *supervisor.Batch[[]byte] {
	docs, bytes := q.take(c.cfg.BatchDocs, c.cfg.BatchBytes, worker.MessageBytes)
	return c.ledger.Open(docs, bytes)
}

// dispatch hands out work. Outside a flush, idle workers pull batches,
// alternating between re-deliveries and the queue so that neither starves.
// During a flush, the batches it waits for are pushed to live workers, each
// followed by a FlushRequest, and the flush is answered once they are all
// durable.
func (c *coordinatorCore) dispatch(out []effect) []effect {
	if c.flush != nil {
		out = c.pushFlush(out)
		if c.ledger.OutstandingUpTo(c.flush.lastBatch) == 0 {
			out = c.answer(out, "", messages.ErrorCode_ERROR_NONE)
		} else {
			return out
		}
	}
	if c.cfg.Serial {
		return out // documents wait in the queue for a flush's cut
	}
	for _, w := range c.workers {
		if !w.live || !w.idle {
			continue
		}
		b, credits := c.nextBatch()
		if b == nil {
			break
		}
		if credits > 0 {
			out = append(out, releaseCredits{n: credits})
		}
		out = c.send(out, w, b)
	}
	return out
}

// nextBatch returns the next batch for an idle worker and the credits its
// documents held (0 for a re-delivery).
func (c *coordinatorCore) nextBatch() (*supervisor.Batch[[]byte], int) {
	if !c.fairTurn {
		if b, ok := c.ledger.NextRedelivery(); ok {
			c.fairTurn = true
			return b, 0
		}
	}
	c.fairTurn = false
	if c.queue.len() > 0 {
		b := c.openBatch(&c.queue)
		return b, len(b.Docs)
	}
	if b, ok := c.ledger.NextRedelivery(); ok {
		return b, 0
	}
	return nil, 0
}

// pushFlush sends the flush's batches to live workers and asks every worker
// that got work since its last FlushRequest to flush again. After a worker
// was lost, each worker gets one batch per flush, so that a loss costs at
// most one batch of work.
func (c *coordinatorCore) pushFlush(out []effect) []effect {
	f := c.flush
	var live []*workerState
	for _, w := range c.workers {
		if w.live {
			live = append(live, w)
		}
	}
	if c.cfg.Serial && len(live) > 0 {
		return c.pushSerial(out, live)
	}
	for len(live) > 0 {
		var target *workerState
		for i := range live {
			w := live[(c.nextPush+i)%len(live)]
			if !f.careful || (w.flushID == 0 && !w.unflushed) {
				target = w
				c.nextPush = (c.nextPush + i + 1) % len(live)
				break
			}
		}
		if target == nil {
			break
		}
		b := c.nextFlushBatch()
		if b == nil {
			break
		}
		out = c.send(out, target, b)
		if f.careful {
			out = c.askFlush(out, target)
		}
	}
	for _, w := range live {
		if w.unflushed && w.flushID == 0 {
			out = c.askFlush(out, w)
		}
	}
	return out
}

// pushSerial is pushFlush for Serial: once no worker owes a FlushAck, the
// next live worker in order gets its share of the batches left and a
// FlushRequest, so workers build one at a time in an order fixed by the
// documents alone.
func (c *coordinatorCore) pushSerial(out []effect, live []*workerState) []effect {
	for _, w := range live {
		if w.flushID != 0 {
			return out // its turn is not over
		}
	}
	f := c.flush
	for range live {
		w := live[f.turns%len(live)]
		waiting := len(live) - f.turns%len(live) // w and those after it in this pass
		f.turns++
		share := (len(c.fromCut) + c.ledger.Redeliveries() + waiting - 1) / waiting
		for ; share > 0; share-- {
			b := c.nextFlushBatch()
			if b == nil {
				break
			}
			out = c.send(out, w, b)
		}
		if w.unflushed {
			return c.askFlush(out, w)
		}
	}
	return out
}

// nextFlushBatch returns a batch the flush waits for that no worker holds.
func (c *coordinatorCore) nextFlushBatch() *supervisor.Batch[[]byte] {
	if len(c.fromCut) > 0 {
		b := c.fromCut[0]
		c.fromCut = c.fromCut[1:]
		return b
	}
	// Re-deliveries are of batches opened before the cut, or after a
	// previous flush: either way not newer than this one's cut.
	if b, ok := c.ledger.NextRedelivery(); ok {
		return b
	}
	return nil
}

func (c *coordinatorCore) send(out []effect, w *workerState, b *supervisor.Batch[[]byte]) []effect {
	c.ledger.Assign(b.Seq, w.id)
	w.idle = false
	w.sent++
	w.unflushed = true
	// Every document came after the schema it needs (the writer sends a
	// grown schema before the documents that use it), so the newest one
	// covers the batch; it travels once to each generation of the worker.
	msg := &messages.Batch{Seq: b.Seq, Docs: b.Docs, Generation: w.generation, SchemaVersion: c.schemaVersion}
	if w.schemaGen != w.generation || w.schemaSent < c.schemaVersion {
		w.schemaGen, w.schemaSent = w.generation, c.schemaVersion
		if c.schemaVersion > 0 {
			msg.Schema = c.schema
		}
	}
	return append(out, toWorker{worker: w.id, msg: msg})
}

func (c *coordinatorCore) askFlush(out []effect, w *workerState) []effect {
	c.lastFlushID++
	w.flushID = c.lastFlushID
	w.unflushed = false
	return append(out, toWorker{worker: w.id, msg: &messages.FlushRequest{Round: w.flushID}})
}

// answer ends the flush: with the durable segments and rejected documents,
// or with an error (they then wait for the next request).
func (c *coordinatorCore) answer(out []effect, errMsg string, code messages.ErrorCode) []effect {
	f := c.flush
	c.flush = nil
	// Cut batches not yet sent go back to the front of the line.
	for i := len(c.fromCut) - 1; i >= 0; i-- {
		c.ledger.Requeue(c.fromCut[i].Seq)
	}
	c.fromCut = nil
	res := &messages.DurableResponse{Prepare: f.prepare, Rounds: f.rounds, Error: errMsg, Code: code}
	if errMsg == "" {
		res.Segments, res.Rejected, res.Docs = c.segments, c.rejected, c.segmentDoc
		c.segments, c.rejected, c.segmentDoc = nil, nil, 0
	}
	c.cfg.Logger.Debug("flush answered", "prepare", f.prepare, "rounds", f.rounds, "error", errMsg, "duration", c.cfg.Now().Sub(f.started))
	return append(out, toCommitter{msg: res})
}

// progress says where a flush stands, for a deadline's error message.
func (c *coordinatorCore) progress() string {
	f := c.flush
	var waiting []int32
	for _, w := range c.workers {
		for _, s := range c.ledger.HeldBy(w.id) {
			if s <= f.lastBatch {
				waiting = append(waiting, w.id)
				break
			}
		}
	}
	unsent := len(c.fromCut) + c.ledger.Redeliveries()
	return fmt.Sprintf("after %d flush rounds, %d batches are not yet in durable segments; still waits for workers %v (%d batches wait for a live worker)",
		f.rounds, c.ledger.OutstandingUpTo(f.lastBatch), waiting, unsent)
}

// segmentDurable takes a worker's durable segment. A segment from an older
// generation (its notice was overtaken by the news of the loss, which
// travels as a system message) is kept if none of its batches was handed
// out again; otherwise, as a segment holding a batch held by another
// worker, it is discarded: keeping both copies would index them twice.
func (c *coordinatorCore) segmentDurable(out []effect, worker int32, generation uint64, seg *messages.SegmentInfo, batches []uint64) []effect {
	var err error
	if c.current(worker, generation) == nil {
		err = c.ledger.DurableLate(batches)
	} else {
		err = c.ledger.Durable(worker, batches)
	}
	if err != nil {
		c.cfg.Logger.Warn("discarding stale segment", "segment", seg.Id, "reason", err)
		return append(out, deleteFiles{segment: seg.Id, files: seg.Files})
	}
	c.failures.Progress(worker)
	c.segments = append(c.segments, seg)
	c.segmentDoc += uint64(seg.NumDocs)
	return out
}

// workerFailed handles a panic: the worker's batches are re-delivered at
// once (the document it was adding is blamed, and rejected once it has
// crashed workers MaxCrashes times), and the worker restarts with a new
// generation, at once or after a backoff if it keeps failing on different
// input. A failed segment write fails the flush being served.
func (c *coordinatorCore) workerFailed(out []effect, m workerFailed) []effect {
	w := c.slot(m.worker)
	if w == nil || !w.live {
		return out
	}
	var input uint64
	if m.blame != nil {
		if b, ok := c.ledger.Batch(m.blame.Seq); ok && m.blame.Index >= 0 && m.blame.Index < len(b.Docs) {
			input = DocSeq(b.Docs[m.blame.Index])
		}
	}
	// Whether the failing generation began during the flush being served:
	// then all it did, it did for that flush.
	bornInFlush := c.flush != nil && w.bornIn == c.flush.prepare
	c.lost(w, m.blame, "worker panicked: "+m.reason)
	delay, count := c.failures.Failed(w.id, input, c.cfg.Now())
	c.cfg.Logger.Warn("worker failed; restarting", "worker", w.id, "generation", w.generation,
		"reason", m.reason, "failures", count, "backoff", delay)
	if delay == 0 {
		out = append(out, restartWorker{worker: w.id, generation: w.generation})
	} else {
		w.live = false
		out = append(out, after{d: delay, event: restartDue{worker: w.id, generation: w.generation}})
	}
	// A failed write fails the flush being served if the worker had been
	// asked for it (m.flushID, the newest round it had seen) or began
	// during it, also when the write was of a segment built under memory
	// pressure: the disk is failing, and the flush would otherwise
	// re-deliver until its deadline. A failure of a generation from before
	// the flush that had not seen its request (the disk may have been
	// freed since) leaves the flush to the next generation.
	if m.buildFailed && c.flush != nil && (m.flushID >= c.flush.firstID || bornInFlush) {
		out = c.answer(out, "flush failed: "+m.reason, m.code)
	}
	return out
}

// lateFailure takes the WorkerFailed of a generation that had already
// ended without blame: a remote worker's Terminated (a system message,
// delivered first) can overtake the WorkerFailed its host sent before
// stopping it. Its blame is charged as if it had come first, provided the
// blamed batch is unchanged since (its documents keep their indexes).
func (c *coordinatorCore) lateFailure(out []effect, m workerFailed) []effect {
	w := c.slot(m.worker)
	if w == nil || m.blame == nil || w.unblamedHeld == nil || w.unblamedGen != m.generation {
		return out
	}
	size, held := w.unblamedHeld[m.blame.Seq]
	w.unblamedHeld = nil // one WorkerFailed per generation
	if b, ok := c.ledger.Batch(m.blame.Seq); !held || !ok || len(b.Docs) != size {
		return out
	}
	c.cfg.Logger.Warn("late report of a worker failure; blaming its document", "worker", w.id, "generation", m.generation, "reason", m.reason)
	for _, r := range c.ledger.LateBlame(*m.blame, "worker panicked: "+m.reason) {
		c.cfg.Logger.Error("document rejected", "reason", r.Reason)
		c.rejected = append(c.rejected, &messages.Rejected{Reason: r.Reason, Doc: r.Doc})
	}
	return out
}

// lost takes back what a worker's current generation held and moves it to
// the next generation.
func (c *coordinatorCore) lost(w *workerState, blame *supervisor.Blame, reason string) {
	w.unblamedHeld = nil
	if blame == nil {
		w.unblamedGen, w.unblamedHeld = w.generation, map[uint64]int{}
		for _, s := range c.ledger.HeldBy(w.id) {
			b, _ := c.ledger.Batch(s)
			w.unblamedHeld[s] = len(b.Docs)
		}
	}
	held := len(c.ledger.HeldBy(w.id))
	for _, r := range c.ledger.WorkerLost(w.id, blame, reason) {
		c.cfg.Logger.Error("document rejected", "reason", r.Reason)
		c.rejected = append(c.rejected, &messages.Rejected{Reason: r.Reason, Doc: r.Doc})
	}
	w.generation++
	w.idle, w.sent, w.flushID, w.unflushed = false, 0, 0, false
	w.bornIn = 0
	if c.flush != nil {
		w.bornIn = c.flush.prepare
	}
	if c.flush != nil && held > 0 {
		c.flush.rounds++
		c.flush.careful = true
	}
}

// generations lists each worker position's current generation.
func (c *coordinatorCore) generations() []uint64 {
	out := make([]uint64, len(c.workers))
	for i, w := range c.workers {
		out[i] = w.generation
	}
	return out
}
