package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/node"
)

// nodeOptions are hermes index's flags for workers on other nodes.
type nodeOptions struct {
	nodes        string
	localWorkers int
	listen       string
}

func addNodeFlags(fl *flags, o *nodeOptions) {
	fl.StringVar(&o.nodes, "nodes", "", "run workers on these nodes too (`host:port,...`, each a 'hermes node'), one worker each")
	fl.IntVar(&o.localWorkers, "local-workers", -1, "`number` of workers in this process with --nodes (default: the number of CPUs; 0 is not allowed)")
	fl.StringVar(&o.listen, "listen", "127.0.0.1", "with --nodes, the `host` (an address the nodes can reach) this process listens on for them")
}

// apply sets cfg up for the nodes: an actor system with protoactor remote
// (plain gRPC: see 'hermes node --help' on security).
func (o *nodeOptions) apply(cfg *hermes.Config, workersFlag int) error {
	if o.nodes == "" {
		if o.localWorkers != -1 {
			return usagef("--local-workers goes with --nodes; use --workers")
		}
		return nil
	}
	if workersFlag != 0 && o.localWorkers != -1 {
		return usagef("give --workers or --local-workers, not both")
	}
	if o.localWorkers != -1 {
		if o.localWorkers < 1 {
			return usagef("--local-workers must be at least 1")
		}
		cfg.Workers = o.localWorkers
	}
	for _, n := range strings.Split(o.nodes, ",") {
		if n = strings.TrimSpace(n); n != "" {
			cfg.Nodes = append(cfg.Nodes, n)
		}
	}
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	if _, err := node.StartRemote(system, o.listen, 0, nil); err != nil {
		return fmt.Errorf("listen for the nodes on %s: %w", o.listen, err)
	}
	cfg.ActorSystem = system
	return nil
}
