package hermes

import (
	"context"
	"errors"

	"github.com/hermes-search/hermes-go/messages"
)

// ForceMerge merges the committed segments down to one, in rounds of at most
// 64 segments, and waits for it. Commits may run meanwhile; their segments
// are merged too. It returns the first merge error, if any; a failed merge
// leaves the index as it was. If ctx ends first, ForceMerge returns but the
// merging goes on (AbortMerges stops it); until it ends, another ForceMerge
// is refused and WaitForMerges waits for it.
func (w *Writer) ForceMerge(ctx context.Context) error {
	if err := w.usable(); err != nil {
		return err
	}
	res, err := ask[*messages.ForceMergeResponse](w, ctx, w.pids.SegmentManager, &messages.ForceMergeRequest{}, forever)
	if err != nil {
		return err
	}
	if res.Error != "" {
		return errors.New("hermes: force merge: " + res.Error)
	}
	return nil
}

// WaitForMerges waits until no merge runs (merges the policy starts as
// others end included), and returns the last merge error, if any.
func (w *Writer) WaitForMerges(ctx context.Context) error {
	if err := w.usable(); err != nil {
		return err
	}
	res, err := ask[*messages.WaitForMergesResponse](w, ctx, w.pids.SegmentManager, &messages.WaitForMergesRequest{}, forever)
	if err != nil {
		return err
	}
	if res.Error != "" {
		return errors.New("hermes: " + res.Error)
	}
	return nil
}

// AbortMerges cancels the running merges (their partial files are deleted
// and the index is unchanged) and starts no policy merge until the next
// commit or ForceMerge. It returns how many merges were running; one that
// was already writing its result may still finish and be registered.
func (w *Writer) AbortMerges() (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	res, err := ask[*messages.AbortMergesResponse](w, context.Background(), w.pids.SegmentManager, &messages.AbortMergesRequest{}, w.cfg.FlushDeadline)
	if err != nil {
		return 0, err
	}
	return int(res.Aborted), nil
}

// CleanupOrphans deletes the leftovers of crashes, aborts and merges, and
// returns how many files it deleted. Open runs it. It deletes only files of
// segments that a record of this index names (the segment-id journal or a
// kept generation), never files that merely look like segment files, and of
// those only the ones no kept generation names, no Reader holds, whose
// grace period (Config.RetiredFileGrace) is over, and that this writer did
// not make since it started (a worker, a merge or a prepared commit may be
// using them). It also removes the metadata of generations no longer kept.
func (w *Writer) CleanupOrphans(ctx context.Context) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	res, err := ask[*messages.CleanupOrphansResponse](w, ctx, w.pids.SegmentManager, &messages.CleanupOrphansRequest{}, w.cfg.FlushDeadline)
	if err != nil {
		return 0, err
	}
	if res.Error != "" {
		return int(res.Removed), errors.New("hermes: cleanup orphans: " + res.Error)
	}
	return int(res.Removed), nil
}

// Stats describes the committed state of an index.
type Stats struct {
	Generation    uint64
	Segments      []SegmentStats
	LiveDocs      int
	DeletedDocs   int
	Bytes         int64
	MergesRunning int
	// LastMergeError is the last merge failure, "" if none.
	LastMergeError string
	// UncommittedKeyBytes is the memory the primary keys of the documents
	// added or deleted since the last commit hold, for duplicate detection
	// (about 40 bytes plus the key's length each). The local workers count
	// it in MaxIndexingMemory, up to half of it; the next commit gives it
	// back.
	UncommittedKeyBytes int64
}

// SegmentStats describes one committed segment.
type SegmentStats struct {
	ID          string
	Docs        int // stored documents, deleted included
	DeletedDocs int
	Bytes       int64
}

// Stats reports the committed state: segments, live and deleted documents,
// bytes, and running merges; and the memory uncommitted primary keys hold.
func (w *Writer) Stats(ctx context.Context) (Stats, error) {
	if err := w.usable(); err != nil {
		return Stats{}, err
	}
	res, err := ask[*messages.StatsResponse](w, ctx, w.pids.SegmentManager, &messages.StatsRequest{}, w.cfg.FlushDeadline)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Generation: res.Generation, MergesRunning: int(res.MergesRunning), LastMergeError: res.LastMergeError,
		UncommittedKeyBytes: w.keys.PendingBytes()}
	for _, s := range res.Segments {
		st.Segments = append(st.Segments, SegmentStats{ID: s.Id, Docs: int(s.Docs), DeletedDocs: int(s.Deleted), Bytes: s.Bytes})
		st.LiveDocs += int(s.Docs - s.Deleted)
		st.DeletedDocs += int(s.Deleted)
		st.Bytes += s.Bytes
	}
	return st, nil
}

// usable says why the writer cannot take a request now.
func (w *Writer) usable() error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if err := w.failed(); err != nil {
		return err
	}
	if w.mu.state == stateClosed {
		return ErrClosed
	}
	return nil
}
