package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
)

// committer runs the two-phase commit. Its decisions are committerCore's;
// this actor only performs them.
//
// A prepare reaches it from the coordinator, which cut the documents and
// started the flush (PrepareRequest, forwarded on the writer's behalf); the
// flush's one answer (DurableResponse) is held until Commit registers its
// segments with the segment manager or Abort deletes them. An answer nobody
// waits for any more (the caller gave up), or an abort that keeps its work,
// goes back to the coordinator (ReturnDurable): the next prepare carries
// it, so nothing is lost.
type committer struct {
	cfg         *Config
	coordinator *actor.PID
	manager     *actor.PID
	core        committerCore
	requester   *actor.PID // who waits for the PrepareResponse or CommitResponse
}

func (c *committer) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.PrepareRequest, *messages.CommitRequest:
		effects := c.core.step(m)
		if len(effects) == 0 || c.core.state == committing {
			c.requester = ctx.Sender()
		}
		c.perform(ctx, effects)
	case *messages.AbortRequest, *messages.DurableResponse, *messages.RegisterSegmentsResponse:
		c.perform(ctx, c.core.step(m))
	}
}

func (c *committer) perform(ctx actor.Context, effects []effect) {
	for _, e := range effects {
		switch e := e.(type) {
		case respond:
			ctx.Respond(e.msg)
		case toRequester:
			ctx.Send(c.requester, e.msg)
		case toCoordinator:
			ctx.Send(c.coordinator, e.msg)
		case toManager:
			ctx.Request(c.manager, e.msg)
		case deleteFiles:
			removeFiles(c.cfg, e.files)
		}
	}
}

// committerCore is the two-phase commit as a pure state machine:
// idle -> preparing -> prepared -> committing -> idle, or back to idle by
// an abort or a failed prepare.
type committerCore struct {
	state    commitState
	prepare  uint64 // the current prepare's number, given by the coordinator
	prepared *messages.DurableResponse
}

type commitState int

const (
	idle commitState = iota
	preparing
	prepared
	committing
)

// The committer's effects.
type (
	respond       struct{ msg interface{} } // answer the message being handled
	toRequester   struct{ msg interface{} } // answer the pending Prepare or Commit
	toCoordinator struct{ msg interface{} }
	toManager     struct{ msg interface{} } // a request: the manager answers
)

func (c *committerCore) step(ev interface{}) []effect {
	switch m := ev.(type) {
	case *messages.PrepareRequest: // the coordinator started its flush
		if c.state != idle {
			return []effect{
				respond{&messages.PrepareResponse{Error: "a commit is already in progress", Code: messages.ErrorCode_ERROR_BUSY}},
				toCoordinator{&messages.CancelPrepare{Prepare: m.Prepare}},
			}
		}
		c.state, c.prepare = preparing, m.Prepare
		return nil

	case *messages.DurableResponse:
		if c.state != preparing || m.Prepare != c.prepare {
			if len(m.Segments) > 0 || len(m.Rejected) > 0 {
				return []effect{toCoordinator{returned(m)}}
			}
			return nil
		}
		res := &messages.PrepareResponse{Error: m.Error, Code: m.Code, Rounds: m.Rounds}
		if m.Error != "" {
			c.state = idle
			return []effect{toRequester{res}}
		}
		res.Segments, res.Rejected, res.Docs = m.Segments, m.Rejected, m.Docs
		c.state, c.prepared = prepared, m
		return []effect{toRequester{res}}

	case *messages.CommitRequest:
		if c.state != prepared {
			return []effect{respond{&messages.CommitResponse{Error: "no prepared commit"}}}
		}
		c.state = committing
		return []effect{toManager{&messages.RegisterSegments{Segments: c.prepared.Segments, Deletes: m.Deletes, Schema: m.Schema}}}

	case *messages.RegisterSegmentsResponse:
		if c.state != committing {
			return nil
		}
		c.state, c.prepared = idle, nil
		return []effect{toRequester{&messages.CommitResponse{Error: m.Error, Code: m.Code, Generation: m.Generation}}}

	case *messages.AbortRequest:
		var out []effect
		switch c.state {
		case preparing:
			// The coordinator stops the flush; an answer already on its
			// way is returned to it (the state is no longer preparing).
			out = append(out, toCoordinator{&messages.CancelPrepare{Prepare: c.prepare}})
		case prepared:
			if m.Keep {
				out = append(out, toCoordinator{returned(c.prepared)})
			} else {
				for _, s := range c.prepared.Segments {
					out = append(out, deleteFiles{segment: s.Id, files: s.Files})
				}
			}
			c.prepared = nil
		case committing:
			return []effect{respond{&messages.AbortResponse{Error: "the commit is already being written"}}}
		}
		c.state = idle
		return append(out, respond{&messages.AbortResponse{}})
	}
	return nil
}

func returned(m *messages.DurableResponse) *messages.ReturnDurable {
	return &messages.ReturnDurable{Segments: m.Segments, Rejected: m.Rejected, Docs: m.Docs}
}
