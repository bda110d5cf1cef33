package hermes

import (
	"fmt"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// view is a snapshot of a committed state: one reference to each of its
// segment versions, taken from the index's shared set of open segments. A
// segment merged away meanwhile keeps its files until every view holding it
// is released.
type view struct {
	meta     *storage.Metadata
	segments *index.Segments
	readers  []*segment.Reader
}

// openView takes references to every segment meta names.
func openView(segments *index.Segments, meta *storage.Metadata) (*view, error) {
	v := &view{meta: meta, segments: segments}
	for _, info := range meta.Segments {
		r, err := segments.Acquire(info)
		if err != nil {
			v.release()
			return nil, fmt.Errorf("hermes: open segment %s: %w", info.ID, err)
		}
		v.readers = append(v.readers, r)
	}
	return v, nil
}

// release drops the view's references.
func (v *view) release() {
	for i, info := range v.meta.Segments[:len(v.readers)] {
		v.segments.Release(info, v.readers[i])
	}
	v.readers = nil
}

// refreshView moves the writer's view to the latest committed state.
func (w *Writer) refreshView() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	meta := w.committedMeta.Load()
	if w.mu.view == nil || w.mu.view.meta == meta {
		return nil
	}
	v, err := openView(w.segments, meta)
	if err != nil {
		return err
	}
	w.mu.view.release()
	w.mu.view = v
	return nil
}
