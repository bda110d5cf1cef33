package node

import (
	"os"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/shipping"
	"github.com/hermes-search/hermes-go/storage"
)

// HostKind is the kind a node registers; a writer spawns one host of it per
// writer (remote.SpawnNamed) and greets it with Hello.
const HostKind = "hermes-host"

// helloTimeout is how long a spawned host waits for its Hello: a writer that
// dies between the spawn and the Hello leaves no host behind for longer.
const helloTimeout = 30 * time.Second

// host is one writer's presence on a node. It accepts nothing but a Hello of
// the same protocol version and message set; then it watches the writer,
// owns a scratch directory for the writer's segments, and runs a file server
// over it. When the writer terminates (its process died, or the network to
// it is cut for longer than DetectionBound), or greets a new host on the
// same node, the host stops, which stops everything it started, and
// deletes its scratch directory.
type host struct {
	node *Node

	writer  *actor.PID
	scratch string // this host's directory under the node's scratch root
	dir     storage.Directory
	files   *actor.PID
	workers map[string]hostedWorker // by actor id
}

func (h *host) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		ctx.SetReceiveTimeout(helloTimeout)

	case *actor.ReceiveTimeout:
		h.node.log.Warn("host got no Hello; stopping", "host", ctx.Self().Id, "waited", helloTimeout)
		ctx.Stop(ctx.Self())

	case *messages.Hello:
		h.hello(ctx, m)

	case *messages.StartWorker:
		if h.writer == nil {
			refuse(ctx, h.node.log, "host before Hello")
			return
		}
		ctx.Respond(h.startWorker(ctx, m))

	case *actor.Terminated:
		if h.writer != nil && m.Who.Equal(h.writer) {
			h.node.log.Warn("writer lost; stopping its host and workers", "host", ctx.Self().Id, "writer", m.Who.String(), "why", m.Why.String())
			ctx.Stop(ctx.Self())
		}
		delete(h.workers, m.Who.Id)

	case *actor.Stopped:
		if h.writer != nil {
			h.node.stopped(h.writer, ctx.Self())
		}
		if h.scratch != "" {
			if err := os.RemoveAll(h.scratch); err != nil {
				h.node.log.Warn("remove host scratch directory", "dir", h.scratch, "error", err)
			}
		}

	default:
		// Before a Hello nothing but a Hello is taken; after, StartWorker
		// (worker.go) and the writer's lifecycle only.
		refuse(ctx, h.node.log, "host")
	}
}

func (h *host) hello(ctx actor.Context, m *messages.Hello) {
	ack := &messages.HelloAck{ProtocolVersion: ProtocolVersion, MessageSetHash: MessageSetHash(), Node: h.node.Address()}
	if h.writer != nil {
		// h.writer is not nil: a hostile Hello's nil Writer must not panic
		// the host (its restart would drop its workers and file server).
		if h.writer.Equal(m.Writer) { // a repeated Hello (the writer retried): same answer
			ack.Files, ack.Scratch = h.files, h.scratch
		} else {
			ack.Error = "hermes node: this host already serves writer " + h.writer.String()
		}
		ctx.Respond(ack)
		return
	}
	if err := checkHello(m); err != nil {
		h.node.log.Warn("Hello refused", "host", ctx.Self().Id, "error", err)
		ack.Error = err.Error()
		ctx.Respond(ack)
		ctx.Stop(ctx.Self())
		return
	}
	// A directory of its own, even when another host's name maps to the
	// same file name: a shared one would be wiped here with the segments
	// that host built. Leftovers of hosts of a node that died go when the
	// node starts again (prepareScratch).
	scratch, err := os.MkdirTemp(h.node.scratch, hostDirPrefix+safeName(ctx.Self().Id)+"-")
	var dir storage.Directory
	if err == nil {
		dir, err = h.node.openDir(scratch)
	}
	if err != nil {
		if scratch != "" {
			_ = os.RemoveAll(scratch)
		}
		ack.Error = "hermes node: scratch directory: " + err.Error()
		ctx.Respond(ack)
		ctx.Stop(ctx.Self())
		return
	}
	ctx.CancelReceiveTimeout()
	h.writer, h.scratch, h.dir = m.Writer, scratch, dir
	h.workers = make(map[string]hostedWorker)
	h.files = ctx.SpawnPrefix(shipping.NewFileServer(dir, h.node.log), "files")
	ctx.Watch(h.writer)
	if old := h.node.greeted(h.writer, ctx.Self()); old != nil {
		h.node.log.Warn("writer greeted a new host; stopping its old one", "old", old.Id, "new", ctx.Self().Id)
		ctx.Stop(old)
	}
	h.node.log.Info("host greeted", "host", ctx.Self().Id, "writer", h.writer.String(), "scratch", scratch)
	ack.Files, ack.Scratch = h.files, scratch
	ctx.Respond(ack)
}

// hostDirPrefix starts the name of every host's scratch directory, so a node
// starting up removes only what earlier hosts left.
const hostDirPrefix = "host-"

// safeName turns an actor id into a file name.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
}
