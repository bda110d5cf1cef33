package actors

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// SegmentIDs hands out the ids of the segments a writer makes, each
// recorded durably in the index's segment-id journal (storage.SegmentIDsFile)
// before any file of it exists, so that orphan cleanup can tell this
// index's leftovers from files it must not touch. Ids are recorded a block
// at a time, so one journal write serves many segments.
//
// It is safe for concurrent use.
type SegmentIDs struct {
	dir     storage.Directory
	started time.Time

	mu       sync.Mutex
	recorded map[string]bool // in the journal on disk (or about to be)
	unissued []segment.ID    // recorded, not handed out yet
	issued   map[string]bool // handed out by this writer: maybe being written
}

// idBlock is how many ids one journal write records.
const idBlock = 16

// NewSegmentIDs reads the journal of the index in dir. A damaged journal is
// logged and replaced by the next write: the files only it named are then
// left alone by cleanup, never deleted.
func NewSegmentIDs(dir storage.Directory, started time.Time, logger *slog.Logger) (*SegmentIDs, error) {
	ids, err := storage.ReadSegmentIDs(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, storage.ErrCorrupt):
		logger.Warn("the segment-id journal is damaged; orphan cleanup will leave the files it named alone", "error", err)
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", storage.SegmentIDsFile, err)
	}
	a := &SegmentIDs{dir: dir, started: started, recorded: map[string]bool{}, issued: map[string]bool{}}
	for _, id := range ids {
		a.recorded[id] = true
	}
	return a, nil
}

// New returns a fresh id, recorded in the journal: never dated before the
// writer started, even if the wall clock steps back (ids sort by time). It
// fails only if the journal cannot be written; then no file may be made.
func (a *SegmentIDs) New() (segment.ID, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.unissued) == 0 {
		block := make([]segment.ID, idBlock)
		next := maps.Clone(a.recorded)
		now := time.Now()
		if now.UnixMilli() < a.started.UnixMilli() { // wall clocks, as ids carry
			now = a.started
		}
		for i := range block {
			block[i] = segment.NewIDAt(now)
			next[block[i].String()] = true
		}
		if err := storage.WriteSegmentIDs(a.dir, slices.Collect(maps.Keys(next))); err != nil {
			return segment.ID{}, fmt.Errorf("record new segment ids: %w", err)
		}
		a.recorded, a.unissued = next, block
	}
	id := a.unissued[0]
	a.unissued = a.unissued[1:]
	a.issued[id.String()] = true
	return id, nil
}

// Recorded reports whether the journal names id: its files are this index's.
func (a *SegmentIDs) Recorded(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.recorded[id]
}

// Issued reports whether this writer handed out id: a worker, a merge or a
// prepared commit may be using its files.
func (a *SegmentIDs) Issued(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issued[id]
}

// Prune drops from the record the ids that keep rejects (their files are
// gone, or were never made), and writes the journal if that changed it.
// Ids this writer issued stay: they may be in use. So do those of its
// current block not handed out yet: New hands them out as recorded.
func (a *SegmentIDs) Prune(keep func(id string) bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	inUse := maps.Clone(a.issued)
	for _, id := range a.unissued {
		inUse[id.String()] = true
	}
	next := maps.Clone(a.recorded)
	for id := range a.recorded {
		if !inUse[id] && !keep(id) {
			delete(next, id)
		}
	}
	if len(next) == len(a.recorded) {
		return nil
	}
	if err := storage.WriteSegmentIDs(a.dir, slices.Collect(maps.Keys(next))); err != nil {
		return err
	}
	a.recorded = next
	return nil
}

// Gone drops id from the record in memory once all its files were deleted;
// the next journal write persists that.
func (a *SegmentIDs) Gone(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.recorded, id)
	delete(a.issued, id)
}
