package hermes

import (
	"fmt"
	"sync/atomic"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// sharedSegment is an open segment reader shared by the writer's view and
// the Readers it hands out; the last release closes it.
type sharedSegment struct {
	r    *segment.Reader
	refs atomic.Int64
}

func (s *sharedSegment) acquire() { s.refs.Add(1) }

func (s *sharedSegment) release() {
	if s.refs.Add(-1) == 0 {
		_ = s.r.Close()
	}
}

// view is a snapshot of the committed segments, holding one reference to
// each.
type view struct {
	meta     *storage.Metadata
	segments []*sharedSegment
}

// openView opens the segments meta names, reusing those prev already has
// open.
func openView(dir storage.Directory, schema *Schema, meta *storage.Metadata, prev *view) (*view, error) {
	open := map[string]*sharedSegment{}
	if prev != nil {
		for _, s := range prev.segments {
			open[s.r.ID().String()] = s
		}
	}
	v := &view{meta: meta}
	for _, info := range meta.Segments {
		if s, ok := open[info.ID]; ok {
			s.acquire()
			v.segments = append(v.segments, s)
			continue
		}
		id, err := segment.ParseID(info.ID)
		if err != nil {
			v.release()
			return nil, fmt.Errorf("hermes: %s names segment %q: %w", storage.MetadataFile, info.ID, err)
		}
		r, err := segment.Open(dir, id, schema)
		if err != nil {
			v.release()
			return nil, fmt.Errorf("hermes: open segment %s: %w", info.ID, err)
		}
		s := &sharedSegment{r: r}
		s.acquire()
		v.segments = append(v.segments, s)
	}
	return v, nil
}

// retain takes another reference to every segment of the view.
func (v *view) retain() *view {
	c := &view{meta: v.meta, segments: append([]*sharedSegment(nil), v.segments...)}
	for _, s := range c.segments {
		s.acquire()
	}
	return c
}

func (v *view) release() {
	for _, s := range v.segments {
		s.release()
	}
	v.segments = nil
}

func (v *view) readers() []*segment.Reader {
	rs := make([]*segment.Reader, len(v.segments))
	for i, s := range v.segments {
		rs[i] = s.r
	}
	return rs
}

// refreshView moves the writer's view to the latest commit.
func (w *Writer) refreshView() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	meta := w.committedMeta.Load()
	if w.view == nil || w.view.meta == meta {
		return nil
	}
	v, err := openView(w.dir, w.schema, meta, w.view)
	if err != nil {
		return err
	}
	w.view.release()
	w.view = v
	return nil
}
