package actors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/storage"
)

// segmentManager is the one writer of metadata.json, the committed state.
// Commits and merges both go through it, in order, so generations only
// increase and no two writes race.
//
// A commit is written in Lucene's order: the segment files were fsynced when
// built; metadata.json is written to a temporary name, fsynced, renamed over
// the old one, and the directory is fsynced. A failed write is fatal for the
// writer (the state on disk is the last good commit or this one, and the
// writer cannot tell which without reopening), never ignored.
//
// After each commit and each merge's end it asks the merge policy for work,
// and runs at most MaxConcurrentMerges merges at once, each on its own
// goroutine that reports MergeDone. A merged segment replaces its sources in
// one metadata write; the sources' files go when no reader holds them
// (index.Segments). A merge that fails leaves the index as it was.
type segmentManager struct {
	cfg  *Config
	meta *storage.Metadata

	running   map[uint64]*runningMerge
	merging   map[string]bool // sources of running merges
	nextMerge uint64
	wg        sync.WaitGroup // running merge goroutines
	paused    bool           // AbortMerges: no policy merges until the next commit
	lastErr   error

	forcer  *actor.PID   // waits for ForceMerge
	waiters []*actor.PID // wait for no running merges
}

type runningMerge struct {
	id          segment.ID
	sources     []storage.SegmentInfo
	readers     []*segment.Reader // of sources, from Segments.Acquire
	cancel      context.CancelFunc
	lateDeletes []*messages.DeleteOp // committed while it ran
}

func newSegmentManager(cfg *Config) *segmentManager {
	return &segmentManager{cfg: cfg, meta: cfg.Metadata, running: map[uint64]*runningMerge{}, merging: map[string]bool{}}
}

func (m *segmentManager) Receive(ctx actor.Context) {
	// Merges someone waits for are the work: they run unpaced.
	defer func() { m.cfg.MergePacer.SetFullSpeed(m.forcer != nil || len(m.waiters) > 0) }()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		m.maybeMerge(ctx)

	case *messages.RegisterSegments:
		gen, err := m.commit(msg.Segments, msg.Deletes, msg.Schema)
		res := &messages.RegisterSegmentsResponse{Generation: gen}
		if err != nil {
			res.Error, res.Code = err.Error(), errorCode(err)
			m.cfg.Env.Fatal(err)
		}
		ctx.Respond(res)
		m.paused = false
		m.maybeMerge(ctx)

	case *messages.MergeDone:
		m.mergeDone(ctx, msg)

	case *messages.ForceMergeRequest:
		if m.forcer != nil {
			ctx.Respond(&messages.ForceMergeResponse{Error: "a force merge is already running"})
			return
		}
		m.forcer, m.paused, m.lastErr = ctx.Sender(), false, nil
		m.maybeMerge(ctx)

	case *messages.WaitForMergesRequest:
		m.waiters = append(m.waiters, ctx.Sender())
		m.answerWaiters(ctx)

	case *messages.AbortMergesRequest:
		for _, r := range m.running {
			r.cancel()
		}
		m.paused = true
		if m.forcer != nil {
			ctx.Send(m.forcer, &messages.ForceMergeResponse{Error: "merges aborted"})
			m.forcer = nil
		}
		ctx.Respond(&messages.AbortMergesResponse{Aborted: int32(len(m.running))})

	case *messages.CleanupOrphansRequest:
		n, err := m.cleanupOrphans()
		res := &messages.CleanupOrphansResponse{Removed: int32(n)}
		if err != nil {
			res.Error = err.Error()
		}
		ctx.Respond(res)

	case *messages.StatsRequest:
		ctx.Respond(m.stats())

	case *actor.Stopping:
		for _, r := range m.running {
			r.cancel()
		}
		m.wg.Wait() // no merge writes files after the writer closed
		if m.forcer != nil {
			ctx.Send(m.forcer, &messages.ForceMergeResponse{Error: "the writer closed"})
			m.forcer = nil
		}
		for _, w := range m.waiters {
			ctx.Send(w, &messages.WaitForMergesResponse{Error: "the writer closed"})
		}
		m.waiters = nil
	}
}

// commit writes the next generation: the committed segments with these,
// the deletes applied, and, when schema is set (the writer's schema grew),
// that schema, in the same metadata write, so that no committed segment
// ever has fields the committed schema lacks.
func (m *segmentManager) commit(segments []*messages.SegmentInfo, deletes []*messages.DeleteOp, schema []byte) (uint64, error) {
	start := time.Now()
	next := m.nextMeta()
	if len(schema) > 0 {
		if err := m.growSchema(next, schema); err != nil {
			return 0, err
		}
	}
	docs := uint32(0)
	fresh := map[string]bool{}
	for _, s := range segments {
		next.Segments = append(next.Segments, storage.SegmentInfo{ID: s.Id, NumDocs: s.NumDocs, Files: s.Files, Bytes: s.Bytes})
		fresh[s.Id] = true
		docs += s.NumDocs
	}
	if err := m.applyDeletes(next, deletes, fresh, ""); err != nil {
		return 0, fmt.Errorf("apply deletes: %w", err)
	}
	if err := m.write(next); err != nil {
		return 0, err
	}
	// Running merges read the versions before these deletes; they apply
	// them to their result when they end.
	for _, r := range m.running {
		r.lateDeletes = append(r.lateDeletes, deletes...)
	}
	m.cfg.logger().Info("committed", "generation", next.Generation, "segments", len(segments), "docs", docs, "deletes", len(deletes), since(start))
	return next.Generation, nil
}

// growSchema makes next hold the grown user schema (JSON), and has the
// segments open with it from now on: those of this commit are built with
// it, or an older version of it, and the deletes about to be applied read
// them. Merges, which build with their sources' schema, follow.
func (m *segmentManager) growSchema(next *storage.Metadata, schema []byte) error {
	user, err := segment.ParseSchema(schema)
	if err != nil {
		return fmt.Errorf("grown schema: %w", err)
	}
	internal, err := index.InternalSchema(user)
	if err != nil {
		return fmt.Errorf("grown schema: %w", err)
	}
	if err := m.cfg.Segments.SetSchema(internal); err != nil {
		return fmt.Errorf("grown schema: %w", err)
	}
	next.Schema = schema
	return nil
}

// nextMeta is a copy of the committed state with the next generation.
func (m *segmentManager) nextMeta() *storage.Metadata {
	return &storage.Metadata{
		FormatVersion: m.meta.FormatVersion,
		Generation:    m.meta.Generation + 1,
		Schema:        m.meta.Schema,
		Segments:      slices.Clone(m.meta.Segments),
	}
}

// write makes next the committed state, durable, and tells the others.
func (m *segmentManager) write(next *storage.Metadata) error {
	if err := storage.WriteMetadata(m.cfg.Dir, next); err != nil {
		m.cfg.logger().Error("metadata write failed", "generation", next.Generation, "error", err)
		return fmt.Errorf("write generation %d: %w", next.Generation, err)
	}
	m.meta = next
	// Metadata of generations no longer kept goes before their files, so
	// that a kept generation never names a deleted file.
	if _, err := storage.PruneGenerations(m.cfg.Dir, next.Generation, m.cfg.KeepGenerations); err != nil {
		m.cfg.logger().Warn("could not remove the metadata of an old generation; the next cleanup does", "error", err)
	}
	m.cfg.Segments.Commit(next)
	if m.cfg.Env != nil {
		m.cfg.Env.Committed(next)
	}
	return nil
}

// maybeMerge starts what the policy (or a force merge) asks for, within
// MaxConcurrentMerges.
func (m *segmentManager) maybeMerge(ctx actor.Context) {
	var plan []mergepolicy.Merge
	segs := m.policySegments()
	switch {
	case m.forcer != nil:
		if len(m.running) > 0 {
			return // a round starts when the previous one is over
		}
		plan = mergepolicy.ForceMergeRounds(segs, forceMergeAtOnce)
		if len(plan) == 0 {
			var res messages.ForceMergeResponse
			if m.lastErr != nil {
				res.Error = m.lastErr.Error()
			}
			ctx.Send(m.forcer, &res)
			m.forcer = nil
			return
		}
	case m.paused:
		return
	default:
		plan = m.cfg.MergePolicy.FindMerges(segs, m.merging)
	}
	for _, p := range plan {
		if len(m.running) >= m.cfg.MaxConcurrentMerges {
			return
		}
		m.start(ctx, p)
	}
	if m.forcer != nil && len(m.running) == 0 {
		// Not one merge of the round could start: say why, do not hang.
		err := "no merge could start"
		if m.lastErr != nil {
			err = m.lastErr.Error()
		}
		ctx.Send(m.forcer, &messages.ForceMergeResponse{Error: err})
		m.forcer = nil
	}
}

// forceMergeAtOnce bounds the sources of one ForceMerge merge, as the
// original's rounds of at most 64.
const forceMergeAtOnce = 64

func (m *segmentManager) policySegments() []mergepolicy.Segment {
	out := make([]mergepolicy.Segment, len(m.meta.Segments))
	for i, s := range m.meta.Segments {
		out[i] = mergepolicy.Segment{ID: s.ID, NumDocs: s.NumDocs, NumDeleted: s.NumDeleted, Bytes: s.Bytes}
	}
	return out
}

func (m *segmentManager) start(ctx actor.Context, p mergepolicy.Merge) {
	byID := map[string]storage.SegmentInfo{}
	for _, s := range m.meta.Segments {
		byID[s.ID] = s
	}
	id, err := m.cfg.newSegmentID()
	if err != nil {
		m.lastErr = fmt.Errorf("merge: %w", err)
		m.cfg.logger().Error("merge not started", "error", m.lastErr)
		return
	}
	r := &runningMerge{id: id}
	for _, id := range p.Sources {
		info, ok := byID[id]
		if !ok || m.merging[id] {
			m.releaseAll(r)
			return // the policy named a segment it must not; skip this merge
		}
		rd, err := m.cfg.Segments.Acquire(info)
		if err != nil {
			m.releaseAll(r)
			m.lastErr = fmt.Errorf("merge: open source %s: %w", id, err)
			m.cfg.logger().Error("merge not started", "error", m.lastErr)
			return
		}
		r.sources = append(r.sources, info)
		r.readers = append(r.readers, rd)
	}
	m.nextMerge++
	number := m.nextMerge
	mctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	m.running[number] = r
	for _, s := range r.sources {
		m.merging[s.ID] = true
	}
	self, system := ctx.Self(), ctx.ActorSystem()
	m.cfg.logger().Info("merge started", "merge", number, "segment", r.id.String(), "sources", len(r.sources))
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		start := time.Now()
		// The sources opened with the schema of the committed state (see
		// commit): the merged segment is built with it too.
		meta, err := segment.Merge(mctx, m.cfg.Dir, r.readers[0].Schema(), r.id, r.readers, segment.PacedBy(m.cfg.MergePacer))
		done := &messages.MergeDone{Merge: number}
		switch {
		case errors.Is(err, segment.ErrEmptyMerge):
			done.Empty = true
		case mctx.Err() != nil:
			done.Aborted = true
			if meta != nil {
				removeFiles(m.cfg, meta.Files) // finished just as it was aborted
			}
		case err != nil:
			done.Error = err.Error()
		default:
			done.Segment = &messages.SegmentInfo{Id: meta.ID.String(), NumDocs: meta.NumDocs, Files: meta.Files, Bytes: meta.Bytes}
			m.cfg.logger().Info("merge finished", "merge", number, "segment", meta.ID.String(), "docs", meta.NumDocs, "bytes", meta.Bytes, since(start))
		}
		system.Root.Send(self, done)
	}()
}

func (m *segmentManager) mergeDone(ctx actor.Context, done *messages.MergeDone) {
	r, ok := m.running[done.Merge]
	if !ok {
		return
	}
	delete(m.running, done.Merge)
	for _, s := range r.sources {
		delete(m.merging, s.ID)
	}
	defer m.releaseAll(r)
	defer m.answerWaiters(ctx)
	defer m.maybeMerge(ctx)
	r.cancel()

	switch {
	case done.Aborted:
		m.cfg.logger().Info("merge aborted", "merge", done.Merge)
		return
	case done.Error != "":
		m.lastErr = fmt.Errorf("merge %s: %s", r.id, done.Error)
		m.cfg.logger().Error("merge failed; the index is unchanged", "merge", done.Merge, "error", done.Error)
		// Retrying at once would fail the same way: wait for the next commit.
		m.paused = true
		if m.forcer != nil {
			ctx.Send(m.forcer, &messages.ForceMergeResponse{Error: m.lastErr.Error()})
			m.forcer = nil
		}
		return
	}
	// Register the result in place of its sources. Deletes committed while
	// it ran are applied to it (its documents are all older than they are);
	// a source they emptied is gone from the committed state already.
	next := m.nextMeta()
	pos := len(next.Segments)
	for _, src := range r.sources {
		if i := slices.IndexFunc(next.Segments, func(s storage.SegmentInfo) bool { return s.ID == src.ID }); i >= 0 && i < pos {
			pos = i
		}
	}
	next.Segments = slices.DeleteFunc(next.Segments, func(s storage.SegmentInfo) bool {
		return slices.ContainsFunc(r.sources, func(src storage.SegmentInfo) bool { return src.ID == s.ID })
	})
	if done.Segment != nil {
		ancestors := make([]string, len(r.sources))
		for i, s := range r.sources {
			ancestors[i] = s.ID
		}
		merged := storage.SegmentInfo{ID: done.Segment.Id, NumDocs: done.Segment.NumDocs, Files: done.Segment.Files, Bytes: done.Segment.Bytes, Ancestors: ancestors}
		next.Segments = slices.Insert(next.Segments, min(pos, len(next.Segments)), merged)
		if err := m.applyDeletes(next, r.lateDeletes, nil, merged.ID); err != nil {
			m.lastErr = fmt.Errorf("merge %s: apply deletes: %w", r.id, err)
			m.cfg.logger().Error("merge result discarded", "merge", done.Merge, "error", m.lastErr)
			removeFiles(m.cfg, done.Segment.Files)
			return
		}
	}
	if err := m.write(next); err != nil {
		m.cfg.Env.Fatal(err)
		return
	}
	m.lastErr = nil // merges work again
}

func (m *segmentManager) releaseAll(r *runningMerge) {
	for i, info := range r.sources {
		m.cfg.Segments.Release(info, r.readers[i])
	}
}

func (m *segmentManager) answerWaiters(ctx actor.Context) {
	if len(m.running) > 0 || m.forcer != nil {
		return
	}
	var res messages.WaitForMergesResponse
	if m.lastErr != nil {
		res.Error = m.lastErr.Error()
	}
	for _, w := range m.waiters {
		ctx.Send(w, &res)
	}
	m.waiters = nil
}

// cleanupOrphans deletes the files of this index that nothing needs: files
// of segments the segment-id journal or a kept generation names (never
// files that only look like segment files) that no kept generation names,
// no reader holds, are not in their grace period (index.Segments) and this
// writer did not issue since it started (a worker
// may be writing those, a prepared commit or a merge may name them), and
// the metadata of generations no longer kept. Ids whose files are all gone
// leave the journal.
func (m *segmentManager) cleanupOrphans() (int, error) {
	m.cfg.Segments.Sweep() // retired files whose grace period is over
	removed, err := storage.PruneGenerations(m.cfg.Dir, m.meta.Generation, m.cfg.KeepGenerations)
	if err != nil {
		return removed, err
	}
	names, err := m.cfg.Dir.List()
	if err != nil {
		return removed, err
	}
	left := map[string]bool{} // ids with files that stay
	foreign := 0
	for _, name := range names {
		id, kind, gen, ok := segment.ParseFileName(name)
		if !ok {
			continue
		}
		sid := id.String()
		switch {
		case m.cfg.IDs.Issued(sid):
		case kind == segment.DeletesKind && m.cfg.Segments.HeldVersion(sid, gen):
		case kind != segment.DeletesKind && m.cfg.Segments.Held(sid):
		case !m.cfg.IDs.Recorded(sid) && !m.cfg.Segments.Held(sid):
			foreign++ // not this index's, as far as its records tell
		default:
			// Gone since List is what cleanup wants: a retired file whose
			// grace period ended, or whose last reader closed, meanwhile.
			switch err := m.cfg.Dir.Remove(name); {
			case err == nil:
				removed++
			case !errors.Is(err, fs.ErrNotExist):
				return removed, err
			}
			continue
		}
		left[sid] = true
	}
	if err := m.cfg.IDs.Prune(func(id string) bool { return left[id] || m.cfg.Segments.Held(id) }); err != nil {
		return removed, err
	}
	if removed > 0 {
		m.cfg.logger().Info("orphan files removed", "files", removed)
	}
	if foreign > 0 {
		m.cfg.logger().Warn("files that look like segment files but no record of this index names were left alone", "files", foreign)
	}
	return removed, nil
}

func (m *segmentManager) stats() *messages.StatsResponse {
	res := &messages.StatsResponse{Generation: m.meta.Generation, MergesRunning: int32(len(m.running))}
	for _, s := range m.meta.Segments {
		res.Segments = append(res.Segments, &messages.SegmentStats{Id: s.ID, Docs: s.NumDocs, Deleted: s.NumDeleted, Bytes: s.Bytes, DelGen: s.DelGen})
	}
	if m.lastErr != nil {
		res.LastMergeError = m.lastErr.Error()
	}
	return res
}
