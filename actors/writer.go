package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// PIDs names a running writer's actors.
type PIDs struct {
	Parent, Coordinator, Committer, SegmentManager *actor.PID
}

// Start spawns a writer's actors in system under one parent named name:
// the segment manager, the committer and the coordinator (which spawns the
// workers). Stopping the parent stops them all.
func Start(ctx context.Context, system *actor.ActorSystem, name string, cfg *Config) (PIDs, error) {
	ready := make(chan PIDs, 1)
	props := actor.PropsFromProducer(func() actor.Actor { return &writerActor{cfg: cfg, ready: ready} })
	parent, err := system.Root.SpawnNamed(props, name)
	if err != nil {
		return PIDs{}, fmt.Errorf("spawn writer actors %q: %w", name, err)
	}
	select {
	case pids := <-ready:
		return pids, nil
	case <-ctx.Done():
		_ = system.Root.StopFuture(parent).Wait()
		return PIDs{}, ctx.Err()
	}
}

// Stop stops a writer's actors and waits until they have all stopped,
// however long that takes (protoactor's StopFuture gives up after 10 s);
// slow is called every 10 s of waiting.
func Stop(system *actor.ActorSystem, parent *actor.PID, slow func(waited time.Duration)) {
	stopped := make(chan struct{})
	watcher := system.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *actor.Started:
			c.Watch(parent) // a parent already gone answers Terminated too
			c.Stop(parent)
		case *actor.Terminated:
			if m.Who.Equal(parent) {
				close(stopped)
			}
		}
	}))
	defer func() { _ = system.Root.StopFuture(watcher).Wait() }()
	start := time.Now()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stopped:
			return
		case <-tick.C:
			slow(time.Since(start))
		}
	}
}

// writerActor is the parent of a writer's actors. Its children hold state
// that a restart would lose (the ledger, a prepared commit), so a failure of
// one is fatal for the writer rather than restarted.
type writerActor struct {
	cfg   *Config
	ready chan<- PIDs
}

func (w *writerActor) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); !ok || w.ready == nil {
		return
	}
	self := ctx.Self()
	// The children's ids follow protoactor's naming (parent/child), so the
	// committer and the coordinator can know each other before both exist.
	coordinator := actor.NewPID(self.Address, self.Id+"/coordinator")
	manager, _ := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newSegmentManager(w.cfg)
	}), "segments")
	committerPID, _ := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &committer{cfg: w.cfg, coordinator: coordinator, manager: manager}
	}), "committer")
	coordinatorPID, _ := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return newCoordinator(w.cfg, committerPID)
	}), "coordinator")
	w.ready <- PIDs{Parent: self, Coordinator: coordinatorPID, Committer: committerPID, SegmentManager: manager}
	w.ready = nil
}

// HandleFailure makes a panic in a core actor fatal for the writer.
func (w *writerActor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason interface{}, _ interface{}) {
	w.cfg.logger().Error("writer actor failed", "actor", child.Id, "reason", fmt.Sprint(reason))
	w.cfg.Env.Fatal(fmt.Errorf("writer actor %s failed: %v", child.Id, reason))
	sup.StopChildren(child)
}
