package pkindex

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"time"

	"github.com/hermes-search/hermes-go/storage"
)

// KeySource enumerates a segment's primary keys, calling emit once per key.
// emit does not keep key, so the source may reuse its buffer. The writer
// implements it with the segment reader's term dictionary of the
// primary-key field.
type KeySource func(segmentID string, emit func(key []byte)) error

// Outcome tells what Sync or Refresh did.
type Outcome int

const (
	// Reused: the filter already covered every segment; no keys were read.
	Reused Outcome = iota
	// Extended: the keys of the segments the filter did not cover were
	// added; no other segment was read.
	Extended
	// Rebuilt: a new filter was built from every segment's keys.
	Rebuilt
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Reused:
		return "reused"
	case Extended:
		return "extended"
	case Rebuilt:
		return "rebuilt"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Stale covered IDs (segments merged away or dropped) are harmless: a
// merged segment's keys are its sources' keys, which the filter holds
// already. But they name keys of documents deleted since, and they make
// the file grow, so once they outnumber the live segments by far the filter
// is rebuilt: when stale > staleSlack + staleFactor*live.
const (
	staleSlack  = 64
	staleFactor = 2
)

// Sync brings the filter saved in dir up to the committed segments
// segmentIDs and saves it if it changed; see Refresh for the rules. A
// missing file, or one Load refuses (corrupt, truncated, another version),
// is rebuilt, with the reason logged. Only the holder of the directory's
// writer lock may call it.
//
// pk_bloom.bin is a cache, so a failure to save the result is logged (at
// warning level) and not returned: the filter returned is correct, and the
// next Sync will read the keys again. An error is returned only if keys
// fails; it names the segment. logger may be nil.
func Sync(dir storage.Directory, segmentIDs []string, keys KeySource, logger *slog.Logger) (f *Filter, how Outcome, err error) {
	logger = orDiscard(logger)
	loaded, err := Load(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		logger.Info("primary-key filter not found; rebuilding it", "file", FileName)
	case err != nil:
		logger.Warn("primary-key filter unusable; rebuilding it", "file", FileName, "error", err)
	}
	f, how, err = Refresh(loaded, segmentIDs, keys, logger)
	if err != nil {
		return nil, 0, err
	}
	if how != Reused {
		if err := Save(dir, f); err != nil {
			logger.Warn("could not save the primary-key filter; it will be rebuilt or extended on next open",
				"file", FileName, "error", err)
		}
	}
	return f, how, nil
}

// Refresh brings f up to the committed segments segmentIDs:
//
//   - Reused: f covers every segment. f is returned as is.
//   - Extended: f covers some; the keys of the others are added to f, in
//     place (concurrent MayContain calls stay correct throughout), and they
//     are marked covered. f keeps the covered IDs of segments no longer
//     committed: their keys only cost false positives.
//   - Rebuilt: f is nil, over capacity (layered, see Filter) before or
//     after extending, or covers too many segments no longer committed. A
//     new filter is returned, sized for the keys now present with the usual
//     headroom, covering exactly segmentIDs; f is left as it was. A rebuild
//     reads every segment's keys twice: once to count them, once to add
//     them.
//
// If keys fails, Refresh returns its error, naming the segment; f may then
// hold some of that segment's keys but does not cover it, so it stays
// correct. logger may be nil.
func Refresh(f *Filter, segmentIDs []string, keys KeySource, logger *slog.Logger) (*Filter, Outcome, error) {
	logger = orDiscard(logger)
	segmentIDs = unique(segmentIDs)
	if f == nil {
		return rebuild(segmentIDs, keys, logger, "no filter")
	}
	live := make(map[string]bool, len(segmentIDs))
	for _, id := range segmentIDs {
		live[id] = true
	}
	f.mu.RLock()
	stale := 0
	for id := range f.covered {
		if !live[id] {
			stale++
		}
	}
	var missing []string
	for _, id := range segmentIDs {
		if _, ok := f.covered[id]; !ok {
			missing = append(missing, id)
		}
	}
	layered := len(f.layers) > 1
	f.mu.RUnlock()

	switch {
	case layered:
		return rebuild(segmentIDs, keys, logger, "over capacity")
	case stale > staleSlack+staleFactor*len(live):
		return rebuild(segmentIDs, keys, logger, fmt.Sprintf("covers %d segments no longer committed", stale))
	case len(missing) == 0:
		return f, Reused, nil
	}
	start := time.Now()
	before := f.Stats().Keys
	for _, id := range missing {
		if err := keys(id, f.Add); err != nil {
			return nil, 0, keySourceError(id, err)
		}
		f.MarkCovered(id)
	}
	if f.overCapacity() {
		return rebuild(segmentIDs, keys, logger, "over capacity after extending")
	}
	logger.Debug("primary-key filter extended", "segments", len(missing),
		"keys", f.Stats().Keys-before, "duration", time.Since(start))
	return f, Extended, nil
}

// rebuild builds a new filter from every segment's keys: one pass counts
// them, so that the filter is sized right and has one layer, and a second
// adds them.
func rebuild(segmentIDs []string, keys KeySource, logger *slog.Logger, reason string) (*Filter, Outcome, error) {
	start := time.Now()
	var n uint
	for _, id := range segmentIDs {
		if err := keys(id, func([]byte) { n++ }); err != nil {
			return nil, 0, keySourceError(id, err)
		}
	}
	f := New(n)
	for _, id := range segmentIDs {
		if err := keys(id, f.Add); err != nil {
			return nil, 0, keySourceError(id, err)
		}
	}
	f.MarkCovered(segmentIDs...)
	logger.Info("primary-key filter rebuilt", "reason", reason, "segments", len(segmentIDs),
		"keys", n, "bytes", f.Stats().Bytes, "duration", time.Since(start))
	return f, Rebuilt, nil
}

func keySourceError(id string, err error) error {
	return fmt.Errorf("pkindex: reading the primary keys of segment %s: %w", id, err)
}

// unique returns ids without repeats, in first-seen order.
func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool {
		dup := seen[id]
		seen[id] = true
		return dup
	})
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
