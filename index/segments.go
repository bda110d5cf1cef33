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
	logger *slog.Logger

	mu      sync.Mutex
	schema  *segment.Schema // segments open with it; see SetSchema
	holders int             // the writer and the Readers it handed out; see Retain
	// versions and bases are the opens under schema: one verified open
	// per segment, a view of it per deletes generation. Opens under an
	// older schema (see SetSchema) stay, in byReader, until released.
	versions map[version]*openVersion
	bases    map[string]*openBase
	byReader map[*segment.Reader]*openVersion // every open version
	opens    map[version]int                  // open versions of each, under any schema
	baseOpen map[string]int                   // open bases of each segment, under any schema
	retired  map[version]bool                 // committed once, not any more

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
	v    version
	r    *segment.Reader
	base *openBase
	refs int
}

type openBase struct {
	id    string
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
		byReader: map[*segment.Reader]*openVersion{},
		opens:    map[version]int{},
		baseOpen: map[string]int{},
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

// SetSchema makes the set open segments with schema from now on, which
// must extend the one it had (segment.Schema.Extends): the index's schema
// grew (dynamic mapping), and the segments of the commit that grew it are
// built with it. Segments already open stay open, under the older schema,
// for those who hold them; the next Acquire opens them again under schema
// (opening costs the same for any segment size), so that a search on a new
// field finds it, empty, in every segment.
func (s *Segments) SetSchema(schema *segment.Schema) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !schema.Extends(s.schema) {
		return fmt.Errorf("index: the new schema does not extend the segments' schema")
	}
	if schema.Equal(s.schema) {
		return nil
	}
	s.schema = schema
	s.versions = map[version]*openVersion{}
	s.bases = map[string]*openBase{}
	return nil
}

// Acquire returns the reader of a segment version, opened with the set's
// schema, opening it if no one has, and takes a reference to it: Release
// it when done.
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
		base = &openBase{id: info.ID, r: r}
		s.bases[info.ID] = base
		s.baseOpen[info.ID]++
	}
	var deleted *roaring.Bitmap
	if info.DelGen > 0 {
		deleted, err = segment.ReadDeletes(s.dir, id, info.DelGen, base.r.NumDocs())
		if err != nil {
			s.dropBaseIfUnused(base)
			return nil, err
		}
	}
	base.users++
	ov := &openVersion{v: v, r: base.r.WithDeletes(deleted), base: base, refs: 1}
	s.versions[v] = ov
	s.byReader[ov.r] = ov
	s.opens[v]++
	return ov.r, nil
}

// Release drops the reference to r, the reader of info that Acquire
// returned. The last reference to a retired version closes it and deletes
// the files no one needs any more.
func (s *Segments) Release(info storage.SegmentInfo, r *segment.Reader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ov, ok := s.byReader[r]
	if !ok || ov.v != (version{info.ID, info.DelGen}) {
		return
	}
	ov.refs--
	if ov.refs > 0 {
		return
	}
	v := ov.v
	delete(s.byReader, r)
	if s.versions[v] == ov {
		delete(s.versions, v)
	}
	if s.opens[v]--; s.opens[v] == 0 {
		delete(s.opens, v)
	}
	_ = ov.r.Close()
	ov.base.users--
	s.dropBaseIfUnused(ov.base)
	if s.retired[v] && s.opens[v] == 0 {
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
		if s.opens[v] == 0 {
			s.deleteRetired(v)
		}
	}
}

// Held reports whether a segment is named by a kept generation or in use,
// so its files are no orphans.
func (s *Segments) Held(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.namedIDs[id] || s.baseOpen[id] > 0 || s.pendingHolds(version{id: id}, true)
}

// HeldVersion reports whether a segment's deletes generation is named by a
// kept generation or open.
func (s *Segments) HeldVersion(id string, delGen uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := version{id, delGen}
	return s.named[v] || s.opens[v] > 0 || s.pendingHolds(v, false)
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
	if !s.namedIDs[v.id] && s.baseOpen[v.id] == 0 {
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

func (s *Segments) dropBaseIfUnused(b *openBase) {
	if b.users > 0 {
		return
	}
	_ = b.r.Close()
	if s.bases[b.id] == b {
		delete(s.bases, b.id)
	}
	if s.baseOpen[b.id]--; s.baseOpen[b.id] == 0 {
		delete(s.baseOpen, b.id)
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
	bases := map[*openBase]bool{}
	for r, ov := range s.byReader {
		_ = r.Close()
		bases[ov.base] = true
	}
	for _, b := range s.bases {
		bases[b] = true
	}
	for b := range bases {
		_ = b.r.Close()
	}
	clear(s.byReader)
	clear(s.versions)
	clear(s.bases)
	clear(s.opens)
	clear(s.baseOpen)
}
