// Package actors holds the writer's actors, each in its own file with its
// state and its protocol:
//
//   - writerActor (writer.go): the one named parent of a writer's actors.
//   - coordinator (coordinator.go, its decisions in coordinator_core.go):
//     owns intake, the ledger, the workers (their generations, restarts and
//     replacements) and the flush.
//   - workers (package worker, the same code beside the writer and on
//     nodes): each owns a segment builder within a memory budget.
//   - committer (committer.go): the two-phase commit's state machine.
//   - segmentManager (segment_manager.go): the one writer of metadata.json.
//
// The coordinator's and the committer's decisions are pure state machines
// in the manner of etcd raft's Step: step(event) returns effects (send,
// spawn, restart, a timer), and the actor only performs them. The scripts in
// testdata/ run them message by message and show every message sent.
//
// The protocol, top to bottom:
//
//	writer  --AddDocuments-->  coordinator  <--RequestWork--  worker
//	                           coordinator  --Batch------->   worker
//	                           coordinator  <--SegmentShipped-- worker (budget reached;
//	                           installed in place, or fetched from a node, then durable)
//	writer  --PrepareRequest(up to document n)--> coordinator   (sent while intake is
//	        held: it follows exactly documents 1..n in the mailbox; later ones wait)
//	        coordinator --PrepareRequest(prepare p)--> committer  (forwarded for the writer)
//	        coordinator --Batch, FlushRequest--> live workers --SegmentShipped | FlushAck--> coordinator
//	        (until every batch holding documents up to n is durable)
//	        coordinator --DurableResponse--> committer   (one answer: segments, or an error code)
//	writer  <--PrepareResponse-- committer
//	writer  --CommitRequest--> committer --RegisterSegments--> segmentManager
//	        (segments and deletes in one metadata write)
//	writer  --AbortRequest-->  committer (prepared segment files are deleted)
//	writer  --AbortRequest(keep)--> coordinator --> committer  (a prepare the writer
//	        gave up on: the flush stops; durable work --ReturnDurable--> coordinator)
//	segmentManager --> merge goroutines --MergeDone--> segmentManager
//
// Faults, all decided by the coordinator: a worker that panics while adding
// a document names it (the worker records it before each add); that
// document is rejected once it has crashed workers MaxCrashes times, and
// everything the worker held is re-delivered at once. The worker restarts
// with a new generation (batches queued for the old one are dropped) at
// once, or after a growing backoff if it keeps failing on different input.
// A worker that stops is replaced at once. During a flush, what a lost
// worker held goes to the live workers, one batch and a FlushRequest at a
// time, so the flush completes with the workers that are alive. A failed
// segment write during a flush fails it at once with its error code (a full
// disk); its deadline fails it with what it still waited for. Documents
// numbered after the prepare's cut stay queued for the next commit.
//
// Segments (segments.go) is the reference-counted set of open segments that
// the writer's view, its Readers and running merges share.
package actors

import (
	"log/slog"
	"time"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/supervisor"
)

// Env is what the actors need of the writer that embeds them: one small
// interface (pebble's habit) rather than callbacks in Config. Its methods
// are called on the actors' goroutines and must not block on them.
type Env interface {
	// Tokenizers returns the current field -> tokenizer map; a worker
	// reads it each time it starts a new segment builder.
	Tokenizers() map[string]analysis.Tokenizer
	// ReleaseCredits returns n intake credits: documents left the intake
	// queue for a worker.
	ReleaseCredits(n int)
	// Committed takes the new committed state after each commit or merge
	// (on the segment manager's goroutine).
	Committed(*storage.Metadata)
	// Fatal reports that an actor that must not fail failed: the writer
	// then refuses further work.
	Fatal(reason error)
}

// Config is what the writer's actors share. It is built by the root package
// and read-only once the actors start.
type Config struct {
	Dir    storage.Directory
	Schema *segment.Schema
	// Env is the writer the actors work for.
	Env Env

	Workers      int
	WorkerMemory int64 // a worker builds a segment past 80% of this
	BatchDocs    int   // at most this many documents in a batch
	BatchBytes   int   // and at most about this many bytes
	MaxCrashes   int   // crashes of one document's add before it is rejected

	Backoff supervisor.Backoff
	Clock   supervisor.Clock
	Seed    uint64

	// Remote, if set, adds workers on other nodes after the Workers local
	// ones (remote_slots.go).
	Remote *RemoteConfig

	// Metadata is the committed state when the writer starts.
	Metadata *storage.Metadata
	// Segments is the index's shared set of open segments.
	Segments *Segments
	// IDs hands out segment ids, recorded in the index's journal: orphan
	// cleanup deletes only files of recorded segments, and leaves those
	// this writer issued alone (they may be in flight).
	IDs *SegmentIDs

	MergePolicy         mergepolicy.Policy
	MaxConcurrentMerges int
	// KeepGenerations is how many commit generations stay on disk, the
	// committed one included (see storage.KeptGenerations).
	KeepGenerations int

	Logger *slog.Logger
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Config) clock() supervisor.Clock {
	if c.Clock == nil {
		return supervisor.RealClock()
	}
	return c.Clock
}

func since(t time.Time) slog.Attr { return slog.Duration("duration", time.Since(t)) }

// newSegmentID names a segment this writer makes, recorded in the index's
// segment-id journal (see SegmentIDs) before any of its files exists.
func (c *Config) newSegmentID() (segment.ID, error) {
	return c.IDs.New()
}
