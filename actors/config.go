package actors

import (
	"log/slog"
	"time"

	"github.com/hermes-search/hermes-go/index"
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
	// PendingKeyBytes returns the memory the writer holds for the primary
	// keys of the documents added or deleted since the last commit (for
	// duplicate detection; the commit gives it back). It is part of the
	// local workers' budget: each counts an equal share of it, up to
	// worker.MaxSharedShare of its own budget, so a long commit flushes
	// smaller segments rather than grow the process past its budget.
	// Called after each batch, so it must be cheap.
	PendingKeyBytes() int64
}

// Config is what the writer's actors share. It is built by the root package
// and read-only once the actors start.
type Config struct {
	Dir    storage.Directory
	Schema *segment.Schema
	// Env is the writer the actors work for.
	Env Env
	// Intake carries the writer's accepted documents to the coordinator
	// (nil: they come as AddDocuments messages only).
	Intake *Intake

	Workers      int
	WorkerMemory int64 // a worker builds a segment past 80% of this (Env.PendingKeyBytes included)
	BatchDocs    int   // at most this many documents in a batch
	BatchBytes   int   // and at most about this many bytes
	MaxCrashes   int   // crashes of one document's add before it is rejected

	Backoff supervisor.Backoff
	Clock   supervisor.Clock
	Seed    uint64
	// Serial, for tests, fixes the order of the workers' file operations:
	// workers get documents only from a flush, one worker at a time, in
	// worker order (hermes.Config.Deterministic).
	Serial bool

	// Remote, if set, adds workers on other nodes after the Workers local
	// ones (remote_slots.go).
	Remote *RemoteConfig

	// Metadata is the committed state when the writer starts.
	Metadata *storage.Metadata
	// Segments is the index's shared set of open segments.
	Segments *index.Segments
	// IDs hands out segment ids, recorded in the index's journal: orphan
	// cleanup deletes only files of recorded segments, and leaves those
	// this writer issued alone (they may be in flight).
	IDs *SegmentIDs

	MergePolicy         mergepolicy.Policy
	MaxConcurrentMerges int
	// MergePacer paces the background merges (nil: unpaced); they run at
	// full speed while a ForceMerge or a WaitForMerges waits for them.
	MergePacer *mergepolicy.Pacer
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
