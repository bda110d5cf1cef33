package node

import (
	"fmt"

	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/hermes-search/hermes-go/messages"
)

// protoactor's remote decodes a message by looking its type name up in the
// protobuf registry and does not check the result: a type this process does
// not link is a nil dereference in the gRPC handler, which kills the
// process. So is an envelope whose indexes point outside its frame, or an
// unknown serializer id. The guard sits between gRPC and protoactor on the
// server side of every connection: it replaces each message it cannot
// decode by an UnknownMessage naming the type (the target actor then
// refuses it and both processes live), and a frame it cannot make sense of
// ends that one connection with an error instead of the process.

// Serializer ids protoactor registers at init: protobuf and JSON. The JSON
// one delivers an unknown type as *remote.JsonMessage, which is safe.
const (
	protoSerializer = 0
	jsonSerializer  = 1
)

var unknownMessageName = string(proto.MessageName(&messages.UnknownMessage{}))

// guardStream is the gRPC stream interceptor.
func guardStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = status.Errorf(codes.InvalidArgument, "hermes: undecodable remote frame: %v", p)
		}
	}()
	return handler(srv, &guardedStream{ServerStream: ss})
}

type guardedStream struct {
	grpc.ServerStream
}

func (g *guardedStream) RecvMsg(m any) error {
	if err := g.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if rm, ok := m.(*remote.RemoteMessage); ok {
		if batch := rm.GetMessageBatch(); batch != nil {
			if err := sanitize(batch); err != nil {
				return status.Error(codes.InvalidArgument, err.Error())
			}
		}
	}
	return nil
}

// sanitize checks every envelope of a frame and replaces a message of a type
// this process cannot decode by an UnknownMessage.
func sanitize(b *remote.MessageBatch) error {
	unknownID := int32(-1)
	for i, env := range b.Envelopes {
		if env.TypeId < 0 || int(env.TypeId) >= len(b.TypeNames) {
			return fmt.Errorf("hermes: remote envelope %d has type index %d of %d", i, env.TypeId, len(b.TypeNames))
		}
		if env.Target < 0 || int(env.Target) >= len(b.Targets) || b.Targets[env.Target] == nil {
			return fmt.Errorf("hermes: remote envelope %d has target index %d of %d", i, env.Target, len(b.Targets))
		}
		if env.Sender < 0 || int(env.Sender) > len(b.Senders) || (env.Sender > 0 && b.Senders[env.Sender-1] == nil) {
			return fmt.Errorf("hermes: remote envelope %d has sender index %d of %d", i, env.Sender, len(b.Senders))
		}
		name := b.TypeNames[env.TypeId]
		if decodable(name, env.SerializerId) {
			continue
		}
		data, err := proto.Marshal(&messages.UnknownMessage{TypeName: name, SerializerId: env.SerializerId})
		if err != nil {
			return err
		}
		if unknownID < 0 {
			unknownID = int32(len(b.TypeNames))
			b.TypeNames = append(b.TypeNames, unknownMessageName)
		}
		env.TypeId = unknownID
		env.SerializerId = protoSerializer
		env.MessageData = data
	}
	return nil
}

func decodable(typeName string, serializer int32) bool {
	switch serializer {
	case protoSerializer:
		_, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typeName))
		return err == nil
	case jsonSerializer:
		return true
	default:
		return false
	}
}
