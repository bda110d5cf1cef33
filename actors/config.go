// Package actors holds the writer's actors, each in its own file with its
// state and its protocol:
//
//   - writerActor (writer.go): the one named parent of a writer's actors.
//   - coordinator (coordinator.go): owns intake and the ledger, hands batches
//     to workers that ask for work, and supervises them.
//   - worker (worker.go): owns a segment builder within a memory budget.
//   - committer (committer.go): runs the two-phase commit as flush rounds.
//   - segmentManager (segment_manager.go): the one writer of metadata.json.
//
// The protocol, top to bottom:
//
//	writer  --AddDocuments-->  coordinator  <--RequestWork--  worker
//	                           coordinator  --Batch------->   worker
//	                           coordinator  <--SegmentBuilt-- worker   (budget reached)
//	writer  --PrepareRequest-> committer --DrainRequest--> coordinator --Drained-->
//	        committer --FlushRequest--> every worker --FlushAck--> committer
//	        committer --RoundResult--> coordinator --RoundChecked--> committer
//	        (incomplete: another round; complete: PrepareResponse to the writer)
//	writer  --CommitRequest--> committer --RegisterSegments--> segmentManager
//	        (segments and deletes in one metadata write)
//	writer  --AbortRequest-->  committer (prepared segment files are deleted)
//	segmentManager --> merge goroutines --MergeDone--> segmentManager
//
// A worker that panics is restarted by the coordinator after a backoff with
// a new generation (batches queued for the old one are dropped); its batches
// are re-delivered from the ledger, the batch it crashed on is blamed (split,
// then rejected alone), and the committer is told (WorkerDown) so the round
// waits for the restarted worker's ack. A worker that stops is replaced by a
// new one, and the round stops waiting for it. After every round the ledger
// decides: a batch not yet in a durable segment means another round.
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

// Config is what the writer's actors share. It is built by the root package
// and read-only once the actors start.
type Config struct {
	Dir    storage.Directory
	Schema *segment.Schema
	// Tokenizers returns the current field -> tokenizer map; a worker reads
	// it each time it starts a new segment builder.
	Tokenizers func() map[string]analysis.Tokenizer

	Workers      int
	WorkerMemory int64 // a worker builds a segment past 80% of this
	BatchDocs    int   // at most this many documents in a batch
	BatchBytes   int   // and at most about this many bytes
	MaxCrashes   int   // crashes before a batch is split (or its one document rejected)

	Backoff supervisor.Backoff
	Clock   supervisor.Clock
	Seed    uint64

	// ReleaseCredits returns n intake credits: called when documents leave
	// the intake queue for a worker.
	ReleaseCredits func(n int)
	// Committed is called by the segment manager after each commit with the
	// new committed state (on the manager's goroutine).
	Committed func(*storage.Metadata)
	// BuildFailed is called with the cause when a worker could not write a
	// segment (an I/O error such as a full disk).
	BuildFailed func(error)
	// Fatal is called when an actor that must not fail panics: the writer
	// then refuses further work.
	Fatal func(reason error)

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

const (
	// buildThreshold is the share of its budget at which a worker writes its
	// builder as a segment, as in the original.
	buildThreshold = 0.8
	// minSegmentDocs keeps a worker from writing tiny segments when a few
	// huge documents fill its budget.
	minSegmentDocs = 100
)

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func since(t time.Time) slog.Attr { return slog.Duration("duration", time.Since(t)) }

// newSegmentID names a segment this writer makes, recorded in the index's
// segment-id journal (see SegmentIDs) before any of its files exists.
func (c *Config) newSegmentID() (segment.ID, error) {
	return c.IDs.New()
}
