package node

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// Config says how a node serves workers.
type Config struct {
	// Listen is the host:port the node listens on; port 0 picks a free one
	// (Node.Address tells which).
	Listen string
	// Scratch is the directory where the node's workers build segments
	// until the writer has fetched them. It is created if missing. Each
	// host (one per writer) works in its own subdirectory, named
	// host-<actor id>, deleted when the host stops; subdirectories of that
	// name left by an earlier run are deleted at start.
	Scratch string
	// Tokenizers are the tokenizers the node's workers may use. Nil means
	// the built-in ones.
	Tokenizers *analysis.Registry
	// Logger receives the node's logs. Nil discards them.
	Logger *slog.Logger
	// TLS, if set, makes the node speak TLS (writers must too). Nil means
	// plain gRPC without authentication.
	TLS *TLS
	// OpenScratch, if set, opens each host's scratch directory (created
	// already, at path) instead of storage.NewFS: a service can add
	// instrumentation there, and tests pause or fail a node at a chosen
	// file operation (a segment build writes, the file server reads).
	OpenScratch func(path string) (storage.Directory, error)
}

// Node is a process (or a part of a service) hosting workers for remote
// writers.
type Node struct {
	system     *actor.ActorSystem
	remote     *remote.Remote
	scratch    string
	tokenizers *analysis.Registry
	log        *slog.Logger
	openDir    func(path string) (storage.Directory, error)

	mu      sync.Mutex
	current map[string]*actor.PID // each writer's host, by the writer's PID
}

// greeted records host as writer's host on this node and returns the host
// it replaces, if any: a writer that lost a node (a partition it noticed
// and the node did not) greets a new host when it reconnects, and the old
// one, with its workers, must not linger.
func (n *Node) greeted(writer, host *actor.PID) (replaced *actor.PID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	key := writer.String()
	replaced = n.current[key]
	n.current[key] = host
	return replaced
}

// stopped forgets host as writer's host.
func (n *Node) stopped(writer, host *actor.PID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if key := writer.String(); n.current[key].Equal(host) {
		delete(n.current, key)
	}
}

// ServeWorkers makes system host workers for remote writers: it starts
// protoactor remote on cfg.Listen (StartRemote) and registers
// HostKind. system must not have started remote already. Stop undoes it.
//
// Security: without cfg.TLS the node speaks plain gRPC without
// authentication; anyone who can reach the port can make it build segments
// and read its scratch files. Listen on a private network only.
func ServeWorkers(system *actor.ActorSystem, cfg Config) (n *Node, err error) {
	listenHost, portText, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("hermes node: listen address %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("hermes node: listen address %q: bad port", cfg.Listen)
	}
	if cfg.Scratch == "" {
		return nil, errors.New("hermes node: no scratch directory")
	}
	scratch, err := filepath.Abs(cfg.Scratch)
	if err == nil {
		err = prepareScratch(scratch)
	}
	if err != nil {
		return nil, fmt.Errorf("hermes node: scratch directory: %w", err)
	}
	n = &Node{system: system, scratch: scratch, tokenizers: cfg.Tokenizers, log: cfg.Logger, openDir: cfg.OpenScratch, current: make(map[string]*actor.PID)}
	if n.openDir == nil {
		n.openDir = func(path string) (storage.Directory, error) { return storage.NewFS(path) }
	}
	if n.tokenizers == nil {
		n.tokenizers = analysis.NewRegistry()
	}
	if n.log == nil {
		n.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &host{node: n} })
	n.remote, err = StartRemote(system, listenHost, port, cfg.TLS, remote.WithKinds(remote.NewKind(HostKind, props)))
	if err != nil {
		return nil, fmt.Errorf("hermes node: %w", err)
	}
	n.log.Info("node serving workers", "address", n.Address(), "scratch", scratch)
	return n, nil
}

// prepareScratch creates the scratch directory and removes what hosts of an
// earlier run left in it.
func prepareScratch(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), hostDirPrefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Address returns the host:port writers reach the node at.
func (n *Node) Address() string { return n.system.Address() }

// Stop stops serving: the connections close, and writers see their hosts
// and workers terminate. Every host is stopped and its scratch directory
// deleted. The actor system stays up (it is the caller's).
func (n *Node) Stop() {
	// The activator is every host's parent: stopping it stops the hosts,
	// their workers and file servers, and deletes their scratch directories.
	_ = n.system.Root.StopFuture(n.remote.ActivatorForAddress(n.Address())).Wait()
	n.remote.Shutdown(true)
}
