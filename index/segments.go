package index

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/supervisor"
)

// Segments is the shared set of open segments of one index. The writer's
// view of the committed state, every Reader it hands out and every running
// merge hold references; a segment version (a segment and its deletes
// generation) that the committed state no longer names is retired, and its
// files are deleted when its last reference goes. So a merge never deletes
// files that a reader still searches.
//
// It is safe for concurrent use.
type Segments struct {
	dir    storage.Directory
	schema *segment.Schema
	logger *slog.Logger

	mu       sync.Mutex
	holders  int // the writer and the Readers it handed out; see Retain
	versions map[version]*openVersion
	bases    map[string]*openBase // one verified open per segment
	retired  map[version]bool     // committed once, not any more

	// kept are the commit generations whose files stay (storage's kept
	// generations), oldest first; the last is the committed state. named
	// and namedIDs are what they name.
	ids      Journal // told when a segment's files are gone; nil for readers
	kept     []*storage.Metadata
	keep     int
	named    map[version]bool
	namedIDs map[string]bool

	// Retired files wait grace before they are deleted, for readers in
	// other processes that read an older metadata.json and are opening
	// them; a timer on clock deletes them when due.
	clock   supervisor.Clock
	grace   time.Duration
	pending []pendingDelete // in due order
	timer   supervisor.Timer
	closed  bool
}

// pendingDelete is the files of a retired version, deleted when due.
type pendingDelete struct {
	v     version
	names []string
	whole bool // all the segment's files: its id then leaves the journal
	due   time.Time
}

type version struct {
	id     string
	delGen uint64
}

type openVersion struct {
	r    *segment.Reader
	refs int
}

type openBase struct {
	r     *segment.Reader
	users int // open versions of this segment
}

// NewSegments returns the set for the index in dir, whose committed state is
// meta.
func NewSegments(dir storage.Directory, schema *segment.Schema, meta *storage.Metadata, logger *slog.Logger) *Segments {
	s := &Segments{
		dir: dir, schema: schema, logger: logger, holders: 1,
		versions: map[version]*openVersion{},
		bases:    map[string]*openBase{},
		retired:  map[version]bool{},
		keep:     1,
	}
	s.setKept([]*storage.Metadata{meta})
	return s
}

// KeepGenerations makes the set keep the files of the newest keep commit
// generations, older (oldest first, before the committed state) being those
// still on disk. A writer calls it before it starts.
func (s *Segments) KeepGenerations(keep int, older []*storage.Metadata) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keep = max(keep, 1)
	current := s.kept[len(s.kept)-1]
	s.setKept(append(slices.Clone(older), current))
}

// SetGrace makes retired files wait grace, on clock, before they are
// deleted; with grace <= 0 (the default) they go at once.
func (s *Segments) SetGrace(clock supervisor.Clock, grace time.Duration) {
	s.mu.Lock()
	s.clock, s.grace = clock, grace
	s.mu.Unlock()
}

// Journal is the record of an index's segment ids (actors.SegmentIDs),
// told when all of a segment's files are gone, so that it drops the id.
type Journal interface {
	Gone(id string)
}

// RecordIDs makes the set tell ids when it deletes a segment's files.
func (s *Segments) RecordIDs(ids Journal) {
	s.mu.Lock()
	s.ids = ids
	s.mu.Unlock()
}

// setKept makes kept the kept generations, the newest s.keep of them.
func (s *Segments) setKept(kept []*storage.Metadata) {
	s.kept = kept[max(0, len(kept)-s.keep):]
	s.named = map[version]bool{}
	s.namedIDs = map[string]bool{}
	for _, meta := range s.kept {
		for _, info := range meta.Segments {
			s.named[version{info.ID, info.DelGen}] = true
			s.namedIDs[info.ID] = true
		}
	}
}

// Acquire returns the reader of a segment version, opening it if no one has,
// and takes a reference to it: Release it when done.
func (s *Segments) Acquire(info storage.SegmentInfo) (*segment.Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := version{info.ID, info.DelGen}
	if ov, ok := s.versions[v]; ok {
		ov.refs++
		return ov.r, nil
	}
	id, err := segment.ParseID(info.ID)
	if err != nil {
		return nil, fmt.Errorf("segment %q: %w", info.ID, err)
	}
	base, ok := s.bases[info.ID]
	if !ok {
		r, err := segment.Open(s.dir, id, s.schema)
		if err != nil {
			return nil, err
		}
		base = &openBase{r: r}
		s.bases[info.ID] = base
	}
	var deleted *roaring.Bitmap
	if info.DelGen > 0 {
		deleted, err = segment.ReadDeletes(s.dir, id, info.DelGen, base.r.NumDocs())
		if err != nil {
			s.dropBaseIfUnused(info.ID)
			return nil, err
		}
	}
	base.users++
	ov := &openVersion{r: base.r.WithDeletes(deleted), refs: 1}
	s.versions[v] = ov
	return ov.r, nil
}

// Release drops a reference taken by Acquire. The last reference to a
// retired version closes it and deletes the files no one needs any more.
func (s *Segments) Release(info storage.SegmentInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := version{info.ID, info.DelGen}
	ov, ok := s.versions[v]
	if !ok {
		return
	}
	ov.refs--
	if ov.refs > 0 {
		return
	}
	delete(s.versions, v)
	_ = ov.r.Close()
	s.bases[info.ID].users--
	s.dropBaseIfUnused(info.ID)
	if s.retired[v] {
		s.deleteRetired(v)
	}
}

// Commit records a new committed state: versions that no kept generation
// names any more are retired, and those no one holds have their files
// deleted now.
func (s *Segments) Commit(meta *storage.Metadata) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.named
	s.setKept(append(s.kept, meta))
	for v := range old {
		if s.named[v] {
			continue
		}
		s.retired[v] = true
		if _, held := s.versions[v]; !held {
			s.deleteRetired(v)
		}
	}
}

// Held reports whether a segment is named by a kept generation or in use,
// so its files are no orphans.
func (s *Segments) Held(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, open := s.bases[id]
	return s.namedIDs[id] || open || s.pendingHolds(version{id: id}, true)
}

// HeldVersion reports whether a segment's deletes generation is named by a
// kept generation or open.
func (s *Segments) HeldVersion(id string, delGen uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := version{id, delGen}
	_, open := s.versions[v]
	return s.named[v] || open || s.pendingHolds(v, false)
}

// deleteRetired deletes what retired version v alone needed, now or after
// the grace period: its deletes file, and the segment's files once no
// version of it is kept or open. (Segments not committed yet, such as those
// a commit is applying deletes to, are never retired.) Call with mu held,
// when no one holds v.
func (s *Segments) deleteRetired(v version) {
	delete(s.retired, v)
	id, err := segment.ParseID(v.id)
	if err != nil {
		return
	}
	p := pendingDelete{v: v}
	if v.delGen > 0 {
		p.names = append(p.names, segment.DeletesFileName(id, v.delGen))
	}
	if _, open := s.bases[v.id]; !s.namedIDs[v.id] && !open {
		p.names = append(p.names, segment.SegmentFiles(id)...)
		p.whole = true
	}
	if s.clock == nil || s.grace <= 0 {
		s.delete(p)
		return
	}
	p.due = s.clock.Now().Add(s.grace)
	s.pending = append(s.pending, p)
	s.arm()
}

func (s *Segments) delete(p pendingDelete) {
	all := true
	for _, f := range p.names {
		all = s.remove(f) && all
	}
	if p.whole && all && s.ids != nil {
		s.ids.Gone(p.v.id)
	}
}

// Sweep deletes the retired files whose grace period is over.
func (s *Segments) Sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
}

func (s *Segments) sweep() {
	if len(s.pending) == 0 {
		return
	}
	now := s.clock.Now()
	i := 0
	for ; i < len(s.pending) && !now.Before(s.pending[i].due); i++ {
		s.delete(s.pending[i])
	}
	s.pending = slices.Delete(s.pending, 0, i)
}

// arm sets the timer for the next pending deletion, if none is set.
func (s *Segments) arm() {
	if s.timer != nil || len(s.pending) == 0 || s.closed {
		return
	}
	s.timer = s.clock.AfterFunc(max(s.pending[0].due.Sub(s.clock.Now()), 0), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.timer = nil
		if !s.closed {
			s.sweep()
			s.arm()
		}
	})
}

// pendingHolds reports whether a pending deletion names the version v (or,
// with anyGen, any version of v.id): its files are not orphans yet.
func (s *Segments) pendingHolds(v version, anyGen bool) bool {
	for _, p := range s.pending {
		if p.v.id == v.id && (anyGen || p.v.delGen == v.delGen) {
			return true
		}
	}
	return false
}

func (s *Segments) dropBaseIfUnused(id string) {
	if b, ok := s.bases[id]; ok && b.users == 0 {
		_ = b.r.Close()
		delete(s.bases, id)
	}
}

func (s *Segments) remove(name string) bool {
	err := s.dir.Remove(name)
	if err == nil {
		s.logger.Debug("deleted retired file", "file", name)
	}
	return err == nil
}

// Retain adds a holder of the set, so that it outlives the one that made
// it: a Reader handed out by a writer keeps searching after the writer
// closes. Each Retain needs a Close.
func (s *Segments) Retain() {
	s.mu.Lock()
	s.holders++
	s.mu.Unlock()
}

// Close drops a holder; the last one closes every open reader.
func (s *Segments) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holders--; s.holders > 0 {
		return
	}
	// Files still in their grace period stay; the next writer's orphan
	// cleanup deletes them.
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	for v, ov := range s.versions {
		_ = ov.r.Close()
		delete(s.versions, v)
	}
	for id, b := range s.bases {
		_ = b.r.Close()
		delete(s.bases, id)
	}
}
