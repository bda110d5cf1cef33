package node

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/shipping"
)

// refuse answers a message the host does not take with Refused (see
// shipping.Refusal).
func refuse(ctx actor.Context, log *slog.Logger, who string) {
	if r := shipping.Refusal(ctx.Message(), who); r != nil {
		log.Warn("message refused", "actor", ctx.Self().String(), "type", r.TypeName, "reason", r.Reason)
		if ctx.Sender() != nil {
			ctx.Respond(r)
		}
	}
}

// Refusal is the error a writer gets for a message a node refused.
type Refusal struct {
	TypeName string
	Reason   string
}

func (r *Refusal) Error() string { return "hermes node refused " + r.TypeName + ": " + r.Reason }
