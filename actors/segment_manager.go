package actors

import (
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/storage"
)

// segmentManager is the one writer of metadata.json, the committed state.
// Commits (and, later, merges) go through it in order, so generations only
// increase and no two writes race.
//
// A commit is written in Lucene's order: the segment files were fsynced when
// built; metadata.json is written to a temporary name, fsynced, renamed over
// the old one, and the directory is fsynced. A failed write is fatal for the
// writer (the state on disk is the last good commit or this one, and the
// writer cannot tell which without reopening), never ignored.
type segmentManager struct {
	cfg  *Config
	meta *storage.Metadata
}

func (m *segmentManager) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *messages.RegisterSegments:
		gen, err := m.commit(msg.Segments)
		res := &messages.RegisterSegmentsResponse{Generation: gen}
		if err != nil {
			res.Error = err.Error()
			m.cfg.Fatal(err)
		}
		ctx.Respond(res)
	}
}

func (m *segmentManager) commit(segments []*messages.SegmentInfo) (uint64, error) {
	start := time.Now()
	next := &storage.Metadata{
		FormatVersion: m.meta.FormatVersion,
		Generation:    m.meta.Generation + 1,
		Schema:        m.meta.Schema,
		Segments:      slices.Clone(m.meta.Segments),
	}
	docs := uint32(0)
	for _, s := range segments {
		next.Segments = append(next.Segments, storage.SegmentInfo{ID: s.Id, NumDocs: s.NumDocs, Files: s.Files, Bytes: s.Bytes})
		docs += s.NumDocs
	}
	if err := storage.WriteMetadata(m.cfg.Dir, next); err != nil {
		m.cfg.logger().Error("commit failed", "generation", next.Generation, "error", err)
		return 0, fmt.Errorf("commit generation %d: %w", next.Generation, err)
	}
	m.meta = next
	m.cfg.logger().Info("committed", "generation", next.Generation, "segments", len(segments), "docs", docs, since(start))
	if m.cfg.Committed != nil {
		m.cfg.Committed(next)
	}
	return next.Generation, nil
}
