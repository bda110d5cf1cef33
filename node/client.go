package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/hermes-search/hermes-go/messages"
)

// Host is a writer's handle on the host it runs on one node.
type Host struct {
	Node  string     // the node's address
	PID   *actor.PID // the host: StartWorker goes here; watch it to learn the node is lost
	Files *actor.PID // the host's file server: the fetcher's source
	// Scratch is the host's directory on the node, for logs (and for tests
	// on one machine).
	Scratch string
}

// Connect spawns a host named name on the node at addr and greets it, for
// the writer whose actor writer the host watches (it stops when writer
// terminates). system must have started remote with RemoteConfig. name must
// be unique per writer on the node; the writer's actor system id is a good
// part of it. A node of another protocol version or message set refuses the
// Hello: the error says which. The host is stopped again on any error.
func Connect(system *actor.ActorSystem, addr, name string, writer *actor.PID, timeout time.Duration) (*Host, error) {
	return ConnectContext(context.Background(), system, addr, name, writer, timeout)
}

// ConnectContext is Connect that also gives up, at once, when ctx ends (a
// writer closing while a node has not answered yet): its error is then
// ctx's.
func ConnectContext(ctx context.Context, system *actor.ActorSystem, addr, name string, writer *actor.PID, timeout time.Duration) (*Host, error) {
	answer, err := request(ctx, system, remote.GetRemote(system).ActivatorForAddress(addr), &remote.ActorPidRequest{Name: name, Kind: HostKind}, timeout)
	res, ok := answer.(*remote.ActorPidResponse)
	switch {
	case errors.Is(err, actor.ErrDeadLetter):
		return nil, fmt.Errorf("hermes: cannot reach node %s (nothing listening, TLS on one side only, or no route): %w", addr, err)
	case errors.Is(err, actor.ErrTimeout):
		return nil, fmt.Errorf("hermes: node %s did not answer within %v: %w", addr, timeout, err)
	case err != nil:
		return nil, fmt.Errorf("hermes: start host on node %s: %w", addr, err)
	case !ok:
		return nil, fmt.Errorf("hermes: start host on node %s: unexpected answer %T", addr, answer)
	}
	if res.StatusCode != remote.ResponseStatusCodeOK.ToInt32() {
		if res.Pid != nil && res.StatusCode == remote.ResponseStatusCodePROCESSNAMEALREADYEXIST.ToInt32() {
			return nil, fmt.Errorf("hermes: start host on node %s: a host named %s exists already", addr, name)
		}
		return nil, fmt.Errorf("hermes: start host on node %s: %s", addr, remote.ResponseStatusCode(res.StatusCode).String())
	}
	reply, err := request(ctx, system, res.Pid, NewHello(writer), timeout)
	if err != nil {
		system.Root.Stop(res.Pid)
		return nil, fmt.Errorf("hermes: greet host on node %s: %w", addr, err)
	}
	switch m := reply.(type) {
	case *messages.HelloAck:
		if m.Error != "" {
			return nil, fmt.Errorf("hermes: node %s refused the handshake: %w", addr, errors.New(m.Error))
		}
		if m.Files == nil {
			system.Root.Stop(res.Pid)
			return nil, fmt.Errorf("hermes: node %s: HelloAck names no file server", addr)
		}
		return &Host{Node: addr, PID: res.Pid, Files: m.Files, Scratch: m.Scratch}, nil
	case *messages.Refused:
		system.Root.Stop(res.Pid)
		return nil, fmt.Errorf("hermes: greet host on node %s: %w", addr, &Refusal{TypeName: m.TypeName, Reason: m.Reason})
	default:
		system.Root.Stop(res.Pid)
		return nil, fmt.Errorf("hermes: greet host on node %s: unexpected answer %T", addr, reply)
	}
}

// request sends msg to pid and waits for the first answer, at most timeout
// or until ctx ends. The answer goes to a one-off actor rather than a
// protoactor Future, which cannot be abandoned before its timeout.
func request(ctx context.Context, system *actor.ActorSystem, pid *actor.PID, msg interface{}, timeout time.Duration) (interface{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	answers := make(chan interface{}, 1)
	inbox := system.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
		default:
			select {
			case answers <- m:
			default: // only the first answer counts
			}
		}
	}))
	defer system.Root.Stop(inbox)
	system.Root.RequestWithCustomSender(pid, msg, inbox)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case m := <-answers:
		if _, ok := m.(*actor.DeadLetterResponse); ok {
			return nil, actor.ErrDeadLetter
		}
		return m, nil
	case <-timer.C:
		return nil, actor.ErrTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
