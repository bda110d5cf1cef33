package node

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/hermes-search/hermes-go/messages"
)

// ProtocolVersion is the version of the conversation between a writer and a
// node: who sends what, in which order. Raise it when the protocol changes
// in a way the message set hash does not show (a new meaning for a field).
const ProtocolVersion = 1

var (
	messageSetOnce sync.Once
	messageSetHash string
)

// MessageSetHash identifies the messages a writer and a node exchange: a
// SHA-256 (first 16 bytes, hex) of the protobuf descriptors of
// messages.proto and hermes_remote.proto. Any change to a message, field, type or
// number changes it; comments do not. Two builds with different message sets
// refuse to talk (Hello), so one never decodes the other's bytes wrongly.
func MessageSetHash() string {
	messageSetOnce.Do(func() {
		h := sha256.New()
		for _, fd := range []protoreflect.FileDescriptor{messages.File_messages_proto, messages.File_hermes_remote_proto} {
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(protodesc.ToFileDescriptorProto(fd))
			if err != nil {
				panic(fmt.Sprintf("hermes: marshal descriptor of %s: %v", fd.Path(), err)) // cannot happen: generated descriptors
			}
			fmt.Fprintf(h, "%s %d\n", fd.Path(), len(b))
			h.Write(b)
		}
		messageSetHash = hex.EncodeToString(h.Sum(nil)[:16])
	})
	return messageSetHash
}

// NewHello returns the Hello a writer sends to a host, naming writer as the
// actor whose termination ends the host.
func NewHello(writer *actor.PID) *messages.Hello {
	return &messages.Hello{ProtocolVersion: ProtocolVersion, MessageSetHash: MessageSetHash(), Writer: writer}
}

// checkHello returns why a host must refuse h, or nil.
func checkHello(h *messages.Hello) error {
	switch {
	case h.ProtocolVersion != ProtocolVersion:
		return fmt.Errorf("hermes node: writer speaks protocol version %d, this node speaks %d: run the same hermes version on both", h.ProtocolVersion, ProtocolVersion)
	case h.MessageSetHash != MessageSetHash():
		return fmt.Errorf("hermes node: writer's message set %s differs from this node's %s: run the same hermes build on both", h.MessageSetHash, MessageSetHash())
	case h.Writer == nil:
		return fmt.Errorf("hermes node: Hello names no writer to watch")
	}
	return nil
}
