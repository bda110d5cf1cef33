package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/supervisor"
)

// committer runs the two-phase commit.
//
// Prepare is a sequence of flush rounds. Each round: the coordinator pushes
// every queued document to the workers (DrainRequest), every worker is asked
// to write its builder as a durable segment (FlushRequest), and one ack per
// worker is counted (supervisor.Round, which stays right across restarts and
// stops). The acks go to the coordinator, which checks the ledger: if a
// batch is not yet in a durable segment (a worker crashed and it was
// re-delivered), another round runs; otherwise the prepare is complete and
// the segments are held here until Commit registers them with the segment
// manager or Abort deletes them.
//
// The deadline is the caller's: it sends AbortRequest when it gives up, and
// late acks of the abandoned round are ignored. Nothing is lost by that:
// segments a late round completes are carried over to the next prepare.
type committer struct {
	cfg         *Config
	coordinator *actor.PID
	manager     *actor.PID

	state  commitState
	number uint64 // the current round's number; only increases
	round  *supervisor.Round
	acks   []*messages.FlushAck
	rounds uint64
	// outstanding is what the last incomplete round left undurable.
	outstanding int32
	// down holds each worker's latest failure during this prepare. A
	// failure can overtake the Drained that still names the worker's old
	// generation; Drained applies it then.
	down map[int32]*messages.WorkerDown

	requester *actor.PID // who waits for the PrepareResponse or CommitResponse
	prepared  *messages.PrepareResponse
	carry     *messages.RoundChecked // completed by a round nobody waited for
}

type commitState int

const (
	idle commitState = iota
	flushing
	prepared
	committing
)

func (c *committer) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.PrepareRequest:
		if c.state != idle {
			ctx.Respond(&messages.PrepareResponse{Error: "a commit is already in progress"})
			return
		}
		c.state, c.requester, c.rounds, c.outstanding = flushing, ctx.Sender(), 0, 0
		c.down = map[int32]*messages.WorkerDown{}
		c.startRound(ctx)

	case *messages.Drained:
		if c.state != flushing || m.Round != c.number {
			return
		}
		expected := make(map[int32]uint64, len(m.Workers))
		for _, w := range m.Workers {
			gen := w.Generation
			pid := w.Pid
			if d := c.down[w.Worker]; d != nil && d.Generation > gen {
				// The failure overtook this answer: ask the worker as it
				// is now (a restarted one keeps its PID, a replaced one
				// has a new one and counts from its new generation).
				gen, pid = d.Generation, d.Pid
			}
			expected[w.Worker] = gen
			ctx.Send(pid, &messages.FlushRequest{Round: c.number, ReplyTo: ctx.Self()})
		}
		c.round = supervisor.NewRound(c.number, expected)
		c.acks = nil
		c.cfg.logger().Debug("flush round started", "round", c.number, "workers", c.round.Waiting())
		c.maybeEndRound(ctx)

	case *messages.FlushAck:
		counted := c.state == flushing && c.round != nil && m.Round == c.number && c.round.Ack(m.Worker, m.Generation)
		if counted {
			c.acks = append(c.acks, m)
			c.cfg.logger().Debug("flush ack", "round", m.Round, "worker", m.Worker, "generation", m.Generation, "waiting", c.round.Waiting())
			c.maybeEndRound(ctx)
		} else if m.Segment != nil {
			// A flush request sent twice (once before a restart, once
			// after), or an ack of an abandoned round, can still carry a
			// durable segment: the coordinator's ledger decides its fate.
			ctx.Send(c.coordinator, &messages.SegmentBuilt{Worker: m.Worker, Generation: m.Generation, Segment: m.Segment, Batches: m.Batches})
		}

	case *messages.WorkerDown:
		if c.state != flushing {
			return
		}
		if m.BuildFailed && m.Round == c.number {
			c.failPrepare(ctx, "flush failed: "+m.Reason)
			return
		}
		c.down[m.Worker] = m
		c.cfg.logger().Debug("worker down during flush", "worker", m.Worker, "generation", m.Generation, "restarted", m.Restarted)
		if c.round == nil {
			return // Drained applies it
		}
		if !m.Restarted {
			c.round.Lost(m.Worker)
		} else if c.round.Restarted(m.Worker, m.Generation) {
			// The flush request that crashed it, if any, was dropped.
			ctx.Send(m.Pid, &messages.FlushRequest{Round: c.number, ReplyTo: ctx.Self()})
		}
		c.maybeEndRound(ctx)

	case *messages.RoundChecked:
		if c.state != flushing || m.Round != c.number {
			if m.Complete {
				c.carryOver(m)
			}
			return
		}
		if !m.Complete {
			c.outstanding = m.OutstandingBatches
			c.cfg.logger().Debug("flush round incomplete", "round", m.Round, "outstanding_batches", m.OutstandingBatches)
			c.startRound(ctx)
			return
		}
		c.carryOver(m)
		all := c.carry
		c.carry = nil
		c.prepared = &messages.PrepareResponse{Segments: all.Segments, Rejected: all.Rejected, Docs: all.Docs, Rounds: c.rounds}
		c.state = prepared
		ctx.Send(c.requester, c.prepared)

	case *messages.CommitRequest:
		if c.state != prepared {
			ctx.Respond(&messages.CommitResponse{Error: "no prepared commit"})
			return
		}
		c.state, c.requester = committing, ctx.Sender()
		ctx.Request(c.manager, &messages.RegisterSegments{Segments: c.prepared.Segments, Deletes: m.Deletes})

	case *messages.RegisterSegmentsResponse:
		if c.state != committing {
			return
		}
		c.state, c.prepared = idle, nil
		ctx.Send(c.requester, &messages.CommitResponse{Error: m.Error, Generation: m.Generation})

	case *messages.AbortRequest:
		var progress string
		switch c.state {
		case flushing:
			progress = c.progress()
			c.failPrepare(ctx, "prepare aborted")
		case prepared:
			if m.Keep {
				c.carryOver(&messages.RoundChecked{Segments: c.prepared.Segments, Rejected: c.prepared.Rejected, Docs: c.prepared.Docs})
			} else {
				for _, s := range c.prepared.Segments {
					removeFiles(c.cfg, s.Files)
				}
			}
			c.state, c.prepared = idle, nil
		case committing:
			ctx.Respond(&messages.AbortResponse{Error: "the commit is already being written"})
			return
		}
		ctx.Respond(&messages.AbortResponse{Progress: progress})
	}
}

// progress says where a prepare stands, for a deadline's error message.
func (c *committer) progress() string {
	switch {
	case c.round != nil:
		return fmt.Sprintf("flush round %d (of this prepare: %d) still waits for workers %v", c.number, c.rounds, c.round.Waiting())
	case c.outstanding > 0:
		return fmt.Sprintf("flush round %d (of this prepare: %d): %d batches were not yet in durable segments after the last round", c.number, c.rounds, c.outstanding)
	default:
		return fmt.Sprintf("flush round %d (of this prepare: %d) is being checked against the ledger", c.number, c.rounds)
	}
}

func (c *committer) startRound(ctx actor.Context) {
	c.number++
	c.rounds++
	c.round = nil
	ctx.Request(c.coordinator, &messages.DrainRequest{Round: c.number})
}

func (c *committer) maybeEndRound(ctx actor.Context) {
	if c.round.Done() {
		ctx.Request(c.coordinator, &messages.RoundResult{Round: c.number, Acks: c.acks})
		c.round, c.acks = nil, nil
	}
}

// failPrepare ends a prepare without a result. The round number moves on so
// that its late messages are ignored; what they complete is carried over.
func (c *committer) failPrepare(ctx actor.Context, reason string) {
	// Acks already counted carry durable segments: the ledger must hear of
	// them, or their batches would stay outstanding for good.
	for _, a := range c.acks {
		if a.Segment != nil {
			ctx.Send(c.coordinator, &messages.SegmentBuilt{Worker: a.Worker, Generation: a.Generation, Segment: a.Segment, Batches: a.Batches})
		}
	}
	c.number++
	c.round, c.acks = nil, nil
	c.state = idle
	ctx.Send(c.requester, &messages.PrepareResponse{Error: reason})
}

func (c *committer) carryOver(m *messages.RoundChecked) {
	if c.carry == nil {
		c.carry = &messages.RoundChecked{}
	}
	c.carry.Segments = append(c.carry.Segments, m.Segments...)
	c.carry.Rejected = append(c.carry.Rejected, m.Rejected...)
	c.carry.Docs += m.Docs
}
