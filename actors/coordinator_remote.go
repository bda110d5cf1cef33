package actors

import (
	"github.com/hermes-search/hermes-go/messages"
)

// The core's part in segments built elsewhere than in the core's hands. To
// the core every worker is a position that pulls batches, answers
// FlushRequests and may fail or stop, wherever it runs. A worker reports
// each segment as SegmentShipped; the segment counts only once it is
// installed in the index directory: fetched from a worker's node, or at once
// for a worker beside the writer, which built it there. The install's
// SegmentInstalled then counts as SegmentBuilt (round 0) or FlushAck
// (round > 0). And a position whose node is lost stops taking work
// (workerGone).

// Events of remote workers.
type (
	// workerGone: the worker's node was lost (or refused to start it): what
	// it held is re-delivered and the position takes no more work.
	workerGone struct {
		worker int32
		reason string
	}
)

// Effects for remote workers.
type (
	// fetchSegment has the shipped segment fetched into the index directory;
	// the fetch answers the core with SegmentInstalled.
	fetchSegment struct{ shipped *messages.SegmentShipped }
	// releaseSegment tells the worker's node to delete a shipped segment that
	// is not fetched.
	releaseSegment struct{ shipped *messages.SegmentShipped }
)

// shipped takes a worker's SegmentShipped and has the segment installed.
// A segment of an older generation (its notice was overtaken by the news
// of the loss) is installed only if none of its batches was handed out
// again since, as segmentDurable would take it; otherwise it is released
// unseen: those batches are being indexed again.
func (c *coordinatorCore) shipped(out []effect, m *messages.SegmentShipped) []effect {
	if m.Segment == nil {
		return out
	}
	if c.current(m.Worker, m.Generation) == nil {
		if err := c.ledger.CheckLate(m.Batches); err != nil {
			c.cfg.Logger.Warn("refusing a segment of an old generation", "worker", m.Worker, "generation", m.Generation, "segment", m.Segment.Id, "reason", err)
			return append(out, releaseSegment{shipped: m})
		}
	}
	if c.fetching == nil {
		c.fetching = map[string]*messages.SegmentShipped{}
	}
	c.fetching[m.Segment.Id] = m
	return append(out, fetchSegment{shipped: m})
}

// installed takes the end of a fetch. An installed segment is the worker's
// SegmentBuilt or FlushAck; a failed fetch loses the worker's batches (the
// worker is replaced, as a stopped one is, and they are re-delivered), unless
// the worker was lost in the meantime. A fetch for the flush being served
// that failed on the writer's full disk fails the flush at once, as a full
// disk under a local worker's build does.
func (c *coordinatorCore) installed(out []effect, m *messages.SegmentInstalled) []effect {
	s, ok := c.fetching[m.Id]
	if !ok {
		return out
	}
	delete(c.fetching, m.Id)
	if m.Code != messages.ErrorCode_ERROR_NONE {
		w := c.current(s.Worker, s.Generation)
		if w == nil {
			return out
		}
		c.cfg.Logger.Warn("segment transfer failed; replacing the worker", "worker", w.id, "generation", w.generation, "segment", m.Id, "code", m.Code, "error", m.Error)
		c.lost(w, nil, "segment transfer failed: "+m.Error)
		out = append(out, spawnWorker{worker: w.id, generation: w.generation})
		if m.Code == messages.ErrorCode_ERROR_DISK_FULL && c.flush != nil && s.Round >= c.flush.firstID {
			out = c.answer(out, "flush failed: segment install: "+m.Error, m.Code)
		}
		return out
	}
	seg := &messages.SegmentInfo{Id: s.Segment.Id, NumDocs: s.Segment.NumDocs, Bytes: s.Segment.Bytes}
	for _, f := range s.Segment.Files {
		seg.Files = append(seg.Files, f.Name)
	}
	if s.Round == 0 {
		return c.asNotice(out, &messages.SegmentBuilt{Worker: s.Worker, Generation: s.Generation, Segment: seg, Batches: s.Batches})
	}
	return c.asNotice(out, &messages.FlushAck{Worker: s.Worker, Generation: s.Generation, Round: s.Round, Segment: seg, Batches: s.Batches})
}

// asNotice handles an installed segment as the message it stands for.
func (c *coordinatorCore) asNotice(out []effect, m interface{}) []effect {
	switch m := m.(type) {
	case *messages.SegmentBuilt:
		return c.segmentDurable(out, m.Worker, m.Generation, m.Segment, m.Batches)
	case *messages.FlushAck:
		if w := c.current(m.Worker, m.Generation); w != nil && m.Round == w.flushID {
			w.flushID = 0
		}
		return c.segmentDurable(out, m.Worker, m.Generation, m.Segment, m.Batches)
	}
	return out
}

// workerGone retires a position whose node is lost: its batches go to the
// live workers and it is not restarted (a late restartDue of its old
// generation finds a newer one).
func (c *coordinatorCore) workerGone(out []effect, m workerGone) []effect {
	w := c.slot(m.worker)
	if w == nil {
		return out
	}
	c.cfg.Logger.Warn("worker gone with its node", "worker", w.id, "generation", w.generation, "reason", m.reason)
	c.lost(w, nil, m.reason)
	w.live = false
	return out
}
