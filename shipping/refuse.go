package shipping

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-search/hermes-go/messages"
)

// refuse answers a message the receiving actor does not take with Refused,
// so the sender learns why instead of waiting, and the process lives on. who
// names the actor for the reason. protoactor's own messages (lifecycle,
// watch, poison) are left alone.
func refuse(ctx actor.Context, log *slog.Logger, who string) {
	if r := Refusal(ctx.Message(), who); r != nil {
		log.Warn("message refused", "actor", ctx.Self().String(), "type", r.TypeName, "reason", r.Reason)
		if ctx.Sender() != nil {
			ctx.Respond(r)
		}
	}
}

// Refusal returns the Refused answer to a message an actor named who does
// not take, or nil for protoactor's own messages, which are never refused.
func Refusal(msg any, who string) *messages.Refused {
	switch m := msg.(type) {
	case *messages.UnknownMessage:
		return &messages.Refused{TypeName: m.TypeName, Reason: fmt.Sprintf("this node does not know message type %q", m.TypeName)}
	case *remote.JsonMessage:
		return &messages.Refused{TypeName: m.TypeName, Reason: fmt.Sprintf("%s takes protobuf messages only, not JSON %q", who, m.TypeName)}
	case proto.Message:
		name := string(proto.MessageName(m))
		if strings.HasPrefix(name, "actor.") {
			return nil
		}
		return &messages.Refused{TypeName: name, Reason: fmt.Sprintf("%s does not take %s", who, name)}
	}
	return nil
}
