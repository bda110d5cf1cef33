package actors

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// applyDeletes applies ops to the segments of next (to only that one, if
// only is set; fresh names those this commit adds): each segment that loses
// documents gets a new deletes file of generation next.Generation, and a
// segment left with no live document is dropped. Files are fsynced before
// the caller writes the metadata that names them.
func (m *segmentManager) applyDeletes(next *storage.Metadata, ops []*messages.DeleteOp, fresh map[string]bool, only string) error {
	if len(ops) == 0 {
		return nil
	}
	pk, ok := m.cfg.Schema.Primary()
	if !ok {
		return fmt.Errorf("deletes need a primary key in the schema")
	}
	kept := next.Segments[:0]
	for _, info := range next.Segments {
		if only != "" && info.ID != only {
			kept = append(kept, info)
			continue
		}
		deleted, err := m.deletesFor(info, pk.Name, ops, fresh[info.ID])
		if err != nil {
			return err
		}
		if deleted != nil {
			id, _ := segment.ParseID(info.ID)
			// A file of this generation can only be a leftover of a commit
			// that failed before its metadata was written: replace it.
			if err := m.cfg.Dir.Remove(segment.DeletesFileName(id, next.Generation)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if _, err := segment.WriteDeletes(m.cfg.Dir, id, next.Generation, deleted); err != nil {
				return err
			}
			info.DelGen = next.Generation
			info.NumDeleted = uint32(deleted.GetCardinality())
		}
		if info.NumDeleted < info.NumDocs {
			kept = append(kept, info)
			continue
		}
		// Dropped: the deletes file just written is no one's, and a segment
		// never committed is never retired, so its files go now too.
		id, _ := segment.ParseID(info.ID)
		var orphans []string
		if deleted != nil {
			orphans = append(orphans, segment.DeletesFileName(id, info.DelGen))
		}
		if fresh[info.ID] || info.ID == only {
			orphans = append(orphans, info.Files...)
		}
		removeFiles(m.cfg, orphans)
	}
	next.Segments = kept
	return nil
}

// deletesFor returns the segment's deleted documents after ops, or nil if
// ops delete none of its live documents. In a fresh segment only documents
// added before an op (a lower sequence number) are deleted by it.
func (m *segmentManager) deletesFor(info storage.SegmentInfo, pk string, ops []*messages.DeleteOp, fresh bool) (*roaring.Bitmap, error) {
	r, err := m.cfg.Segments.Acquire(info)
	if err != nil {
		return nil, err
	}
	defer m.cfg.Segments.Release(info, r)
	var seqs *segment.FastColumn
	if fresh {
		if seqs, err = r.Fast(index.SeqField); err != nil {
			return nil, err
		}
	}
	var deleted *roaring.Bitmap
	for _, op := range ops {
		p, err := r.Postings(pk, op.Key)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		for d := p.Doc(); d != segment.NoMoreDocs; d = p.Next() {
			if r.IsDeleted(d) || (deleted != nil && deleted.Contains(d)) {
				continue
			}
			if fresh {
				if seq, ok := seqs.U64(d); ok && seq >= op.Seq {
					continue
				}
			}
			if deleted == nil {
				deleted = roaring.New()
				if old := r.Deleted(); old != nil {
					deleted.Or(old)
				}
			}
			deleted.Add(d)
		}
		if err := p.Err(); err != nil {
			return nil, err
		}
	}
	return deleted, nil
}
