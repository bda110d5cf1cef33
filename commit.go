package hermes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/actors"
	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
)

// CommitResult reports a commit.
type CommitResult struct {
	// Generation is the commit's number in metadata.json; it only increases.
	Generation uint64
	// Docs counts the documents this commit made durable and visible.
	Docs int
	// Segments counts the segments it added.
	Segments int
	// Rejected lists documents isolated because they crashed workers
	// repeatedly; they are not in the index, and a rejected upsert
	// replaced nothing (the older document stays). Everything else is.
	Rejected []Rejected
	// FlushRounds counts the flush rounds the prepare needed (more than one
	// when a worker failed during the flush).
	FlushRounds int
}

// Rejected is a document the writer refused to index after it crashed
// workers repeatedly, with the panic's message.
type Rejected struct {
	Key    string // the primary key, or "" without one
	Reason string
	Doc    *Document
}

// PreparedCommit is the first phase of a two-phase commit: its documents are
// durable on disk but not visible. Exactly one of Commit or Abort must
// follow; until then another PrepareCommit returns ErrCommitInProgress
// (documents added meanwhile wait for the next commit). Writer.Close aborts
// it.
type PreparedCommit struct {
	w        *Writer
	result   CommitResult
	cut      index.Cut // the documents and deletes it holds
	segments []string  // ids of the prepared segments
	done     bool
}

// Result reports what Commit would commit (Generation is still 0).
func (p *PreparedCommit) Result() CommitResult { return p.result }

// PrepareCommit cuts the stream of adds and deletes at the moment it is
// called, asks the workers to flush everything added before the cut to
// durable segments, and waits (at most Config.FlushDeadline, or ctx) for
// it. When it returns nil, every document added before it was called is in
// fsynced segment files, not yet visible. Intake stays open meanwhile:
// documents added after the cut go to the next commit. On error no
// document is lost: the next PrepareCommit covers them. Only one commit is
// prepared at a time (ErrCommitInProgress).
func (w *Writer) PrepareCommit(ctx context.Context) (*PreparedCommit, error) {
	w.mu.Lock()
	if err := w.intakeErr(); err != nil {
		w.mu.Unlock()
		return nil, err
	}
	if w.mu.state == stateCommitting {
		w.mu.Unlock()
		return nil, ErrCommitInProgress
	}
	w.mu.state = stateCommitting
	// Every add numbered up to here is in the intake or on its way to the
	// coordinator (adds send under mu, read-locked); flushIntake sends what
	// waits, and the request follows it there before mu is released: later
	// adds go to the next commit. The deletes are the ones numbered before
	// the cut.
	w.flushIntake()
	cut := w.keys.Cut()
	start := time.Now()
	w.cfg.Logger.Debug("preparing commit", "up_to", cut.Seq)
	req := &messages.PrepareRequest{UpTo: cut.Seq, DeadlineMs: w.cfg.FlushDeadline.Milliseconds()}
	// The coordinator answers at the deadline; the actor timeout is only a
	// backstop.
	res, err := askThen[*messages.PrepareResponse](w, ctx, w.pids.Coordinator, req, w.cfg.FlushDeadline+time.Minute, w.mu.Unlock)
	if err == nil && res.Error != "" {
		err = codedError(res.Code, res.Error)
		if res.Code == messages.ErrorCode_ERROR_DEADLINE {
			err = fmt.Errorf("flush deadline of %v passed: %w", w.cfg.FlushDeadline, err)
		}
	}
	if err != nil {
		// Stop the prepare; its work is kept for next time. The abort goes
		// the prepare's way, through the coordinator, so that it cannot
		// overtake it.
		_, _ = ask[*messages.AbortResponse](w, context.Background(), w.pids.Coordinator, &messages.AbortRequest{Keep: true}, w.cfg.FlushDeadline)
		w.keys.Uncut(cut) // its deletes are kept for the next try
		w.resume()
		if errors.Is(err, actor.ErrTimeout) {
			err = fmt.Errorf("flush deadline of %v passed", w.cfg.FlushDeadline)
		}
		if f := w.failed(); f != nil {
			return nil, f
		}
		return nil, fmt.Errorf("%w: %w", ErrPrepareFailed, err)
	}

	p := &PreparedCommit{w: w, cut: cut, result: CommitResult{Docs: int(res.Docs), Segments: len(res.Segments), FlushRounds: int(res.Rounds)}}
	for _, s := range res.Segments {
		p.segments = append(p.segments, s.Id)
	}
	for _, r := range res.Rejected {
		doc, err := actors.UserDocument(r.Doc)
		if err != nil { // not expected: the writer made its wire form
			doc = new(Document)
			r.Reason += fmt.Sprintf(" (and the document cannot be read back: %v)", err)
		}
		rej := Rejected{Reason: r.Reason, Doc: doc}
		if f, ok := w.schema.Primary(); ok {
			if k, ok := w.schema.PrimaryKey(doc); ok {
				rej.Key = index.DisplayKey(f, k)
				// Not indexed: the key is free again, and an older
				// document it was to replace stays.
				seq := actors.DocSeq(r.Doc)
				w.keys.Reject(k, seq)
				p.cut.Unreplace(k, seq)
			}
		}
		p.result.Rejected = append(p.result.Rejected, rej)
	}
	w.mu.Lock()
	w.mu.prepared = p
	w.mu.Unlock()
	w.cfg.Logger.Info("commit prepared", "docs", res.Docs, "segments", len(res.Segments),
		"rejected", len(res.Rejected), "rounds", res.Rounds, "duration", time.Since(start))
	return p, nil
}

// Commit makes the prepared documents durable and visible: metadata.json
// naming their segments is written (temporary file, fsync, rename, directory
// fsync) and intake resumes. When it returns nil the commit survives any
// crash. An error here is fatal for the writer (see ErrWriterFailed).
func (p *PreparedCommit) Commit(ctx context.Context) (CommitResult, error) {
	w := p.w
	if p.done {
		return CommitResult{}, errors.New("hermes: prepared commit already resolved")
	}
	if err := ctx.Err(); err != nil {
		return CommitResult{}, err // nothing sent: Commit or Abort again
	}
	p.done = true
	// A schema grown by dynamic mapping goes in the same metadata write as
	// the segments built with it.
	schema, schemaJSON := w.schemaToCommit()
	// Once asked, the metadata write is not interrupted by ctx: a commit
	// half-cancelled would leave the writer unable to tell what is on disk.
	res, err := ask[*messages.CommitResponse](w, context.WithoutCancel(ctx), w.pids.Committer, &messages.CommitRequest{Deletes: p.cut.Deletes, Schema: schemaJSON}, w.cfg.FlushDeadline)
	if err == nil && res.Error != "" {
		err = codedError(res.Code, res.Error)
	}
	if err != nil {
		w.fail(err)
		w.resume()
		return CommitResult{}, w.failed()
	}
	w.schemaCommitted(schema)
	if err := w.refreshView(); err != nil {
		w.fail(err)
		w.resume()
		return CommitResult{}, w.failed()
	}
	// The committed segments answer for these keys now (the view holds
	// them); the filter learns them without reading the segments back.
	w.keys.Committed(p.cut, p.segments)
	w.settle()
	w.resume()
	p.result.Generation = res.Generation
	return p.result, nil
}

// Abort discards the prepared documents (their segment files are deleted)
// and the deletes before the cut. The previous commit is untouched, and
// documents added after the cut still go to the next commit (one that
// relied on a discarded delete of its key then replaces the committed
// document, as an upsert would).
func (p *PreparedCommit) Abort() error {
	if p.done {
		return errors.New("hermes: prepared commit already resolved")
	}
	p.done = true
	err := p.abort(context.Background())
	p.w.resume()
	return err
}

func (p *PreparedCommit) abort(ctx context.Context) error {
	w := p.w
	res, err := ask[*messages.AbortResponse](w, ctx, w.pids.Committer, &messages.AbortRequest{}, w.cfg.FlushDeadline)
	if err == nil && res.Error != "" {
		err = errors.New(res.Error)
	}
	w.keys.Aborted(p.cut)
	w.cfg.Logger.Info("commit aborted", "docs", p.result.Docs)
	return err
}

// Commit prepares and commits in one call: see PrepareCommit and
// PreparedCommit.Commit.
func (w *Writer) Commit(ctx context.Context) (CommitResult, error) {
	p, err := w.PrepareCommit(ctx)
	if err != nil {
		return CommitResult{}, err
	}
	// Prepared, it is finished whatever ctx does now: the caller holds no
	// PreparedCommit to resolve it otherwise.
	return p.Commit(context.WithoutCancel(ctx))
}

// resume reopens intake after a commit phase ends.
func (w *Writer) resume() {
	w.mu.Lock()
	if w.mu.state == stateCommitting {
		w.mu.state = stateOpen
	}
	w.mu.prepared = nil
	w.mu.Unlock()
}

// ask sends msg to pid and waits for a reply of type T, at most timeout,
// until ctx ends, or until the writer closes or fails (then it returns
// ErrClosed or the failure at once, never waiting out the timeout).
//
// The reply goes to a one-off actor rather than a protoactor Future: a
// Future completed early (on cancellation) races with a late reply.
func ask[T any](w *Writer, ctx context.Context, pid *actor.PID, msg interface{}, timeout time.Duration) (T, error) {
	return askThen[T](w, ctx, pid, msg, timeout, func() {})
}

// askThen is ask that calls sent once msg is in pid's mailbox (or the call
// ended before sending it), before it waits for the reply.
func askThen[T any](w *Writer, ctx context.Context, pid *actor.PID, msg interface{}, timeout time.Duration, sent func()) (T, error) {
	var once sync.Once
	done := func() { once.Do(sent) }
	defer done()
	var zero T
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopLife := context.AfterFunc(w.life, func() { cancel(context.Cause(w.life)) })
	defer stopLife()
	if err := context.Cause(ctx); err != nil {
		return zero, err
	}
	replies := make(chan interface{}, 1)
	inbox := w.system.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
		default:
			select {
			case replies <- m:
			default: // only the first reply counts
			}
		}
	}))
	// Stopped before returning, so that no caller sees it linger.
	defer func() { _ = w.system.Root.StopFuture(inbox).Wait() }()
	w.system.Root.RequestWithCustomSender(pid, msg, inbox)
	done()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var res interface{}
	select {
	case res = <-replies:
	case <-ctx.Done():
		return zero, context.Cause(ctx)
	case <-timer.C:
		return zero, actor.ErrTimeout
	}
	if _, ok := res.(*actor.DeadLetterResponse); ok {
		return zero, ErrClosed // the actor is gone: the writer is closing
	}
	r, ok := res.(T)
	if !ok {
		return zero, fmt.Errorf("hermes: %s answered %T with %T", pid.Id, msg, res)
	}
	return r, nil
}

// forever is the actor timeout of requests bounded only by their context.
const forever = 365 * 24 * time.Hour
