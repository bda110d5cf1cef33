package node

import (
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
	res, err := remote.GetRemote(system).SpawnNamed(addr, name, HostKind, timeout)
	switch {
	case errors.Is(err, actor.ErrDeadLetter):
		return nil, fmt.Errorf("hermes: cannot reach node %s (nothing listening, TLS on one side only, or no route): %w", addr, err)
	case errors.Is(err, actor.ErrTimeout):
		return nil, fmt.Errorf("hermes: node %s did not answer within %v: %w", addr, timeout, err)
	case err != nil:
		return nil, fmt.Errorf("hermes: start host on node %s: %w", addr, err)
	}
	if res.StatusCode != remote.ResponseStatusCodeOK.ToInt32() {
		if res.Pid != nil && res.StatusCode == remote.ResponseStatusCodePROCESSNAMEALREADYEXIST.ToInt32() {
			return nil, fmt.Errorf("hermes: start host on node %s: a host named %s exists already", addr, name)
		}
		return nil, fmt.Errorf("hermes: start host on node %s: %s", addr, remote.ResponseStatusCode(res.StatusCode).String())
	}
	reply, err := system.Root.RequestFuture(res.Pid, NewHello(writer), timeout).Result()
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
