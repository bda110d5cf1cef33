package hermes

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/supervisor"
)

// Config configures a Writer (and, for the fields it uses, a Reader). The
// zero value is usable: every zero field takes its default.
type Config struct {
	// Workers is the number of local indexing workers (in this process);
	// default GOMAXPROCS. Nodes adds workers on other machines.
	Workers int
	// Nodes lists nodes (`hermes node`, or node.ServeWorkers) to run more
	// workers on, as host:port; NodeWorkers on each (default 1). They need
	// ActorSystem, with protoactor remote started by node.StartRemote (once
	// per process). See remote.go.
	Nodes       []string
	NodeWorkers int
	// MaxIndexingMemory is the memory the local workers may use together.
	// It covers local builders only: a remote worker builds on its node
	// with the same budget as a local one, and the documents it holds
	// unflushed stay in this process's ledger until its segment is
	// installed (about one worker budget's worth per remote worker: it
	// ships a segment past 80% of its budget). Each local worker
	// gets an equal share and writes a segment when its builder, plus the
	// documents the ledger keeps for it until they are durable, passes 80%
	// of it (and holds at least 100 documents). Default 256 MiB. It also
	// covers the primary keys of the documents added or deleted since the
	// last commit, kept for duplicate detection (about 40 bytes plus the
	// key's length each, reported by Stats' UncommittedKeyBytes, given
	// back by the commit): each local worker counts an equal share of them,
	// so a long commit writes smaller segments. They count up to half the
	// budget (about 2.6 million keys of 12 bytes at the default), so a
	// builder keeps at least 30% of its share; more keys than that are
	// outside the budget: commit more often. The Go heap grows past the
	// budget by the collector's headroom: see the README on GOMEMLIMIT.
	MaxIndexingMemory int64
	// QueueCapacity bounds the documents accepted but not yet taken by a
	// worker; past it AddDocument returns ErrQueueFull. Default 10,000.
	QueueCapacity int
	// FlushDeadline bounds PrepareCommit's wait for every worker's flush;
	// default 300 s. A context deadline that comes first wins.
	FlushDeadline time.Duration
	// MaxDocumentBytes rejects larger documents at intake; default 16 MiB.
	MaxDocumentBytes int

	// Tokenizers resolves the schema's tokenizer names; default
	// analysis.NewRegistry() with the built-ins.
	Tokenizers *analysis.Registry
	// Logger receives structured events (segments built, commits, worker
	// failures); default: discarded.
	Logger *slog.Logger

	// ActorSystem, when set, hosts the writer's actors under one named
	// parent, and Close stops only them. When nil the writer makes its own
	// system and shuts it down on Close.
	ActorSystem *actor.ActorSystem

	// WorkerBackoff is how long a panicked worker that keeps failing on
	// different input waits before its restart; default
	// supervisor.DefaultBackoff(). A worker failing for the first time since
	// it last made progress, or again on the same document, restarts at once.
	WorkerBackoff supervisor.Backoff
	// Clock drives the backoff and the flush deadline; default the wall
	// clock. For tests.
	Clock supervisor.Clock
	// Deterministic, for tests, makes the writer's file operations follow
	// the same order in every run of the same calls made from one
	// goroutine, so that a crash test's "the n-th operation" names the
	// same operation each time: workers take documents only from a
	// commit's flush (cut into batches by document number, so by
	// BatchDocs and BatchBytes alone), one worker at a time in worker
	// order; and Create, Open and Commit return only once the
	// primary-key filter's background save is done. Background merges
	// (MergePolicy), the timers (RetiredFileGrace, WorkerBackoff,
	// FlushDeadline) and faults still depend on time. It gives up all
	// indexing concurrency: never for production. As documents wait in the
	// queue for the commit, at most QueueCapacity can be added between two
	// commits (past it AddDocument returns ErrQueueFull, and
	// AddDocumentWait waits for the next commit).
	Deterministic bool
	// MaxCrashes is how often adding one document may crash workers before
	// it is rejected (CommitResult.Rejected); default 2. The worker names
	// the document it was adding, so no other document is blamed.
	MaxCrashes int
	// BatchDocs and BatchBytes bound a batch handed to a worker; defaults 256
	// documents and 1 MiB.
	BatchDocs, BatchBytes int

	// OnDuplicate says what adding a document whose primary key is already
	// in the index does: RejectDuplicates (the default, as the original) or
	// ReplaceDuplicates (an upsert: the older document is deleted at commit).
	OnDuplicate DuplicatePolicy

	// MergePolicy picks background merges after each commit and merge;
	// default mergepolicy.DefaultTiered() (the original's tiered policy).
	// mergepolicy.NoMerge{} turns background merges off.
	MergePolicy mergepolicy.Policy
	// MaxConcurrentMerges bounds the merges running at once; default 4.
	MaxConcurrentMerges int
	// MergeCPUShare paces background merges so that they leave the cores
	// to indexing: together they work at most this share of one core's
	// time (after a burst of 100 ms), sleeping in between
	// (mergepolicy.Pacer). While a ForceMerge or a WaitForMerges waits,
	// they run at full speed. Default 0.5; negative: unpaced.
	MergeCPUShare float64

	// KeepGenerations is how many commit generations (commits and
	// registered merges) the writer keeps, the current one included:
	// their metadata (metadata_<gen>.json) and every file they name stay,
	// so that a lost or damaged metadata.json can fall back to the newest
	// intact one ('hermes check --fall-back'). Default 2, the current
	// commit and the one before. The price is disk space: the sources of
	// a merge stay until the generation after the merge (the next commit
	// or merge), and each further kept generation keeps them longer.
	KeepGenerations int

	// StoredCacheBytes bounds each Reader's cache of decompressed
	// stored-field blocks, which Hit.Document reads through; default 4 MiB
	// (a few hundred blocks). Negative: no cache.
	StoredCacheBytes int64
	// RetiredFileGrace is how long the files of a segment that commits and
	// merges retired (no kept generation names them any more, no Reader of
	// this writer holds them) stay on disk before the writer deletes them,
	// for readers in other processes that read an older metadata.json and
	// are still opening its files (OpenReader also retries with the newer
	// commit when a file is gone). Default 10 s; negative deletes at once.
	// Files still waiting when the writer closes are deleted by the next
	// writer's orphan cleanup, when it opens the index.
	RetiredFileGrace time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.MaxIndexingMemory == 0 {
		c.MaxIndexingMemory = 256 << 20
	}
	if c.StoredCacheBytes == 0 {
		c.StoredCacheBytes = 4 << 20
	}
	if c.QueueCapacity == 0 {
		c.QueueCapacity = 10_000
	}
	if c.FlushDeadline == 0 {
		c.FlushDeadline = 300 * time.Second
	}
	if c.MaxDocumentBytes == 0 {
		c.MaxDocumentBytes = 16 << 20
	}
	if c.Tokenizers == nil {
		c.Tokenizers = analysis.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.WorkerBackoff == (supervisor.Backoff{}) {
		c.WorkerBackoff = supervisor.DefaultBackoff()
	}
	if c.Clock == nil {
		c.Clock = supervisor.RealClock()
	}
	if c.MaxCrashes == 0 {
		c.MaxCrashes = 2
	}
	if c.BatchDocs == 0 {
		c.BatchDocs = 256
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = 1 << 20
	}
	if c.MergePolicy == nil {
		c.MergePolicy = mergepolicy.DefaultTiered()
	}
	if c.MaxConcurrentMerges == 0 {
		c.MaxConcurrentMerges = 4
	}
	if c.RetiredFileGrace == 0 {
		c.RetiredFileGrace = 10 * time.Second
	}
	if c.KeepGenerations == 0 {
		c.KeepGenerations = storage.DefaultKeepGenerations
	}
	switch {
	case c.Workers < 0 || c.Workers > 1024:
		return c, fmt.Errorf("hermes: Config.Workers = %d; want 1 to 1024", c.Workers)
	case len(c.Nodes) > 0 && c.ActorSystem == nil:
		return c, fmt.Errorf("hermes: Config.Nodes needs Config.ActorSystem with remote started (node.StartRemote)")
	case c.NodeWorkers < 0 || c.NodeWorkers > 64:
		return c, fmt.Errorf("hermes: Config.NodeWorkers = %d; want 0 (default 1) to 64", c.NodeWorkers)
	case c.MaxIndexingMemory < 1<<20:
		return c, fmt.Errorf("hermes: Config.MaxIndexingMemory = %d bytes; want at least 1 MiB", c.MaxIndexingMemory)
	case c.QueueCapacity < 1:
		return c, fmt.Errorf("hermes: Config.QueueCapacity = %d; want at least 1", c.QueueCapacity)
	case c.FlushDeadline < 0:
		return c, fmt.Errorf("hermes: Config.FlushDeadline = %v; want a positive duration", c.FlushDeadline)
	case c.MaxDocumentBytes < 0:
		return c, fmt.Errorf("hermes: Config.MaxDocumentBytes = %d; want a positive size", c.MaxDocumentBytes)
	case c.MaxCrashes < 1:
		return c, fmt.Errorf("hermes: Config.MaxCrashes = %d; want at least 1", c.MaxCrashes)
	case c.BatchDocs < 1 || c.BatchBytes < 1:
		return c, fmt.Errorf("hermes: Config.BatchDocs = %d, BatchBytes = %d; want both positive", c.BatchDocs, c.BatchBytes)
	case c.MaxConcurrentMerges < 1:
		return c, fmt.Errorf("hermes: Config.MaxConcurrentMerges = %d; want at least 1", c.MaxConcurrentMerges)
	case c.KeepGenerations < 1:
		return c, fmt.Errorf("hermes: Config.KeepGenerations = %d; want at least 1", c.KeepGenerations)
	}
	return c, nil
}

// DuplicatePolicy is what AddDocument does with a primary key the index
// already holds.
type DuplicatePolicy int

const (
	// RejectDuplicates returns a *DuplicateKeyError.
	RejectDuplicates DuplicatePolicy = iota
	// ReplaceDuplicates replaces the older document (an upsert).
	ReplaceDuplicates
)
