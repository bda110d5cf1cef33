package node

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/hermes-search/hermes-go/messages"
)

const testTimeout = 10 * time.Second

// pair starts a node process and returns it with the writer's system.
func pair(t *testing.T) (*nodeProcess, *actor.ActorSystem) {
	return startNode(t), writer()
}

// writerActor stands for the writer's actor that a host watches.
func writerActor(t testing.TB, sys *actor.ActorSystem) *actor.PID {
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	t.Cleanup(func() { _ = sys.Root.StopFuture(pid).Wait() })
	return pid
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	h, err := Connect(sys, n.addr, "host-"+t.Name(), writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if h.Files == nil || h.PID.Address != n.addr {
		t.Fatalf("host %v files %v, want both on %s", h.PID, h.Files, n.addr)
	}
	// A second writer with the same name is refused, the first keeps its host.
	if _, err := Connect(sys, n.addr, "host-"+t.Name(), writerActor(t, sys), testTimeout); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("second host of the same name: %v", err)
	}
}

func TestHelloOfAnotherVersionRefused(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	for _, tc := range []struct {
		name  string
		hello *messages.Hello
		want  string
	}{
		{"version", &messages.Hello{ProtocolVersion: ProtocolVersion + 1, MessageSetHash: MessageSetHash()}, "protocol version 2"},
		{"messages", &messages.Hello{ProtocolVersion: ProtocolVersion, MessageSetHash: "0123"}, "message set 0123 differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.hello.Writer = writerActor(t, sys)
			res, err := remote.GetRemote(sys).SpawnNamed(n.addr, "host-"+tc.name, HostKind, testTimeout)
			if err != nil {
				t.Fatal(err)
			}
			reply, err := sys.Root.RequestFuture(res.Pid, tc.hello, testTimeout).Result()
			if err != nil {
				t.Fatal(err)
			}
			ack, ok := reply.(*messages.HelloAck)
			if !ok || !strings.Contains(ack.Error, tc.want) {
				t.Fatalf("reply %v, want a HelloAck refusing with %q", reply, tc.want)
			}
			// The refused host stopped; the node lives and greets the next writer.
			if _, err := Connect(sys, n.addr, "after-"+tc.name, writerActor(t, sys), testTimeout); err != nil {
				t.Fatalf("node after a refused Hello: %v", err)
			}
		})
	}
}

// unlinkedMessage returns a message of a type only this test knows: it is
// built from a descriptor at run time and registered nowhere, as a message
// of a newer build would be to an older node.
func unlinkedMessage(t *testing.T) proto.Message {
	fdp := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("unlinked.proto"),
		Package: proto.String("hermes.test"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name:  proto.String("Unlinked"),
			Field: []*descriptorpb.FieldDescriptorProto{{Name: proto.String("x"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), JsonName: proto.String("x")}},
		}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(fd.Messages().Get(0))
	m.Set(fd.Messages().Get(0).Fields().Get(0), protoreflectString("hello"))
	return m
}

func TestUnknownMessageTypeRefused(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	h, err := Connect(sys, n.addr, "host-"+t.Name(), writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []*actor.PID{h.PID, h.Files} {
		reply, err := sys.Root.RequestFuture(target, unlinkedMessage(t), testTimeout).Result()
		if err != nil {
			t.Fatal(err)
		}
		ref, ok := reply.(*messages.Refused)
		if !ok || ref.TypeName != "hermes.test.Unlinked" || !strings.Contains(ref.Reason, "does not know") {
			t.Fatalf("reply %v, want Refused naming hermes.test.Unlinked", reply)
		}
	}
	// A known message in the wrong place is refused too.
	reply, err := sys.Root.RequestFuture(h.PID, &messages.ReadChunk{File: "x", Length: 1}, testTimeout).Result()
	if ref, ok := reply.(*messages.Refused); err != nil || !ok || ref.TypeName != "hermes.messages.ReadChunk" {
		t.Fatalf("ReadChunk to the host: %v %v", reply, err)
	}
	// Both ends live: the host still answers.
	reply, err = sys.Root.RequestFuture(h.Files, &messages.ReadChunk{File: "missing", Length: 1}, testTimeout).Result()
	if c, ok := reply.(*messages.Chunk); err != nil || !ok || c.Error == "" {
		t.Fatalf("ReadChunk of a missing file: %v %v", reply, err)
	}
}

func protoreflectString(s string) protoreflect.Value { return protoreflect.ValueOfString(s) }

// watch returns a channel that receives the Terminated of pid.
func watch(t *testing.T, sys *actor.ActorSystem, pid *actor.PID) <-chan *actor.Terminated {
	ch := make(chan *actor.Terminated, 1)
	w := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Started:
			ctx.Watch(pid)
		case *actor.Terminated:
			ch <- m
		}
	}))
	t.Cleanup(func() { _ = sys.Root.StopFuture(w).Wait() })
	return ch
}

func waitTerminated(t *testing.T, ch <-chan *actor.Terminated, what string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-ch:
		return time.Since(start)
	case <-time.After(within):
		t.Fatalf("%s: no Terminated within %v", what, within)
		return 0
	}
}

func TestHostStopsWithItsWorkersWhenItsWriterStops(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	w := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	h, err := Connect(sys, n.addr, "host-"+t.Name(), w, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(h.Scratch); err != nil {
		t.Fatalf("host scratch directory: %v", err)
	}
	coord, _ := coordinatorStub(t, sys)
	schemaJSON, _ := workerSchema.MarshalJSON()
	started := startWorker(t, sys, h, &messages.StartWorker{Worker: 1, Generation: 1, Schema: schemaJSON, MemoryBudget: 1 << 20, Coordinator: coord})
	if started.Error != "" {
		t.Fatal(started.Error)
	}
	hostGone := watch(t, sys, h.PID)
	filesGone := watch(t, sys, h.Files)
	workerGone := watch(t, sys, started.Pid)
	if err := sys.Root.StopFuture(w).Wait(); err != nil {
		t.Fatal(err)
	}
	waitTerminated(t, hostGone, "host", testTimeout)
	waitTerminated(t, filesGone, "file server", testTimeout)
	waitTerminated(t, workerGone, "worker", testTimeout)
	// The host deleted its scratch directory when it stopped (before its
	// Terminated was sent).
	if _, err := os.Stat(h.Scratch); !os.IsNotExist(err) {
		t.Fatalf("host scratch directory after the host stopped: %v", err)
	}
}

func TestNodeKilledIsTerminatedAtOnce(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	h, err := Connect(sys, n.addr, "host-"+t.Name(), writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	gone := watch(t, sys, h.PID)
	n.kill(t)
	took := waitTerminated(t, gone, "host of a killed node", testTimeout)
	t.Logf("kill -9 of the node seen as Terminated after %v", took)
}

// A writer that greets a second host on a node (it reconnects after losing
// the node, which did not notice) replaces the first, workers and all.
func TestNewHostOfTheSameWriterReplacesTheOld(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	w := writerActor(t, sys)
	old, err := Connect(sys, n.addr, "host-old", w, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	oldGone := watch(t, sys, old.PID)
	h, err := Connect(sys, n.addr, "host-new", w, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	waitTerminated(t, oldGone, "the writer's old host", testTimeout)
	if _, err := os.Stat(old.Scratch); !os.IsNotExist(err) {
		t.Fatalf("old host's scratch directory: %v", err)
	}
	// The new host serves on.
	reply, err := sys.Root.RequestFuture(h.PID, NewHello(w), testTimeout).Result()
	if ack, ok := reply.(*messages.HelloAck); err != nil || !ok || ack.Error != "" || !ack.Files.Equal(h.Files) {
		t.Fatalf("new host: %v %v", reply, err)
	}
}

// A Hello that names no writer, sent to a host that already serves one, is
// answered (refused) and leaves the host serving its writer: it must not
// panic the host, whose restart would drop its workers and file server.
func TestHelloWithoutWriterToAGreetedHost(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	w := writerActor(t, sys)
	h, err := Connect(sys, n.addr, "host-"+t.Name(), w, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	bad := NewHello(w)
	bad.Writer = nil
	reply, err := sys.Root.RequestFuture(h.PID, bad, testTimeout).Result()
	if ack, ok := reply.(*messages.HelloAck); err != nil || !ok || ack.Error == "" {
		t.Fatalf("Hello without a writer: %v %v, want a HelloAck with an error", reply, err)
	}
	reply, err = sys.Root.RequestFuture(h.PID, NewHello(w), testTimeout).Result()
	if ack, ok := reply.(*messages.HelloAck); err != nil || !ok || ack.Error != "" || !ack.Files.Equal(h.Files) {
		t.Fatalf("host after a Hello without a writer: %v %v, want its first answer again", reply, err)
	}
}

// Hosts whose names differ only in characters a file name cannot hold get
// scratch directories of their own: greeting one never deletes the
// segments another built.
func TestHostsOfSimilarNamesKeepTheirScratch(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	first, err := Connect(sys, n.addr, "host.similar", writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	built := first.Scratch + "/segment-file"
	if err := os.WriteFile(built, []byte("built"), 0o644); err != nil {
		t.Fatal(err)
	}
	second, err := Connect(sys, n.addr, "host_similar", writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if second.Scratch == first.Scratch {
		t.Fatalf("hosts %s and %s share the scratch directory %s", first.PID.Id, second.PID.Id, first.Scratch)
	}
	if _, err := os.Stat(built); err != nil {
		t.Fatalf("the first host's file after the second host's Hello: %v", err)
	}
}
