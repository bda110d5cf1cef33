package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/node"
)

const nodeAbout = `Hosts workers for writers on other machines: a writer started with this
node's address spawns a host here, shakes hands (same protocol version and
message set, or a clear refusal), and its segments are built in the scratch
directory until the writer has fetched them. The node runs until it is
interrupted; a writer that goes away (or is cut off for about 12 s) has its
workers stopped and its scratch files deleted.

There is no TLS and no authentication: listen on a private network only.`

func runNode(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("node", "hermes node --listen HOST:PORT --scratch DIR", nodeAbout, io)
	listen := fl.String("listen", "", "the `address` to listen on, host:port (port 0: any free port)")
	scratch := fl.String("scratch", "", "the `directory` where this node's workers build segments")
	verbose := fl.Bool("v", false, "log every host and transfer to stderr")
	if err := fl.parseFlagsOnly(args); err != nil {
		return err
	}
	if err := requireString("listen", *listen, "0.0.0.0:7001"); err != nil {
		return err
	}
	if err := requireString("scratch", *scratch, "/var/tmp/hermes-node"); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(io.err, &slog.HandlerOptions{Level: level}))
	// protoactor's own logs are debugging noise for a node's operator.
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	n, err := node.ServeWorkers(system, node.Config{Listen: *listen, Scratch: *scratch, Logger: logger})
	if err != nil {
		// The command's name already prefixes the message.
		return errors.New(strings.TrimPrefix(err.Error(), "hermes node: "))
	}
	// The address line is the one thing on stdout, for scripts (port 0).
	fmt.Fprintf(io.out, "hermes node listening on %s\n", n.Address())
	<-ctx.Done()
	n.Stop()
	return errInterrupted
}
