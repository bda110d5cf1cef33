package hermes

import (
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

// keyFilter is the primary-key bloom filter with the committed segments it
// covers, published together so that intake reads a consistent pair.
type keyFilter struct {
	f       *pkindex.Filter
	covered map[string]bool
}

// syncKeyFilter brings the persisted filter (pk_bloom.bin) up to meta:
// reused when it covers every segment, extended with only the new
// segments' keys, rebuilt when missing or corrupt. Until it is published,
// intake asks the segments' term dictionaries directly, which is slower but
// as exact; so Open runs it off the intake path.
func (w *Writer) syncKeyFilter(meta *storage.Metadata) {
	w.bloomMu.Lock()
	defer w.bloomMu.Unlock()
	if w.keys == nil {
		return
	}
	ids := make([]string, len(meta.Segments))
	infos := make(map[string]storage.SegmentInfo, len(meta.Segments))
	for i, s := range meta.Segments {
		ids[i] = s.ID
		infos[s.ID] = s
	}
	source := func(id string, emit func([]byte)) error {
		info := infos[id]
		r, err := w.segments.Acquire(info)
		if err != nil {
			return err
		}
		defer w.segments.Release(info)
		pk, _ := w.schema.Primary()
		return r.Terms(pk.Name, nil, func(term []byte) bool { emit(term); return true })
	}
	var f *pkindex.Filter
	var how pkindex.Outcome
	var err error
	if cur := w.bloom.Load(); cur != nil {
		f, how, err = pkindex.Refresh(cur.f, ids, source, w.cfg.Logger)
	} else {
		f, how, err = pkindex.Sync(w.dir, ids, source, w.cfg.Logger)
	}
	if err != nil {
		w.cfg.Logger.Warn("primary-key filter not updated; duplicate checks ask the segments", "error", err)
		w.bloom.Store(nil)
		return
	}
	// Reused and unchanged since it was loaded or saved: nothing to write.
	if how != pkindex.Reused || w.bloomUnsaved {
		if err := pkindex.Save(w.dir, f); err != nil {
			w.cfg.Logger.Warn("primary-key filter not saved; it is rebuilt on the next open", "error", err)
		}
		w.bloomUnsaved = false
	}
	w.publishKeyFilter(f)
	w.cfg.Logger.Debug("primary-key filter", "outcome", how.String(), "segments", len(ids))
}

// addToKeyFilter adds a commit's keys to the filter and marks its segments
// covered, then saves the filter off the commit path. (Documents rejected
// as poison left the pending keys before; keys of deleted documents only
// cost false positives, which the term dictionaries answer.)
func (w *Writer) addToKeyFilter(keys map[string]struct{}, segments []string) {
	if !w.bloomMu.TryLock() {
		// A sync (a rebuild at Open) is running: do not hold the commit
		// up; the refresh after it reads these segments instead.
		w.refreshKeyFilter()
		return
	}
	defer w.bloomMu.Unlock()
	kf := w.bloom.Load()
	if kf == nil {
		w.refreshKeyFilter() // the first sync has not finished (or failed): it covers them
		return
	}
	for k := range keys {
		kf.f.Add([]byte(k))
	}
	kf.f.MarkCovered(segments...)
	w.bloomUnsaved = true
	w.publishKeyFilter(kf.f)
	w.refreshKeyFilter() // saves it, and rebuilds it if it outgrew its size
}

// publishKeyFilter makes f, with the segments it covers now, what intake
// reads. Call with bloomMu held.
func (w *Writer) publishKeyFilter(f *pkindex.Filter) {
	covered := map[string]bool{}
	for _, id := range f.Covers() {
		covered[id] = true
	}
	w.bloom.Store(&keyFilter{f: f, covered: covered})
}

// coverMerged marks covered the merged segments whose sources the filter
// covered: they hold the same keys.
func (w *Writer) coverMerged(meta *storage.Metadata) {
	if !w.bloomMu.TryLock() {
		return // a sync is running; the next refresh reads merged segments
	}
	defer w.bloomMu.Unlock()
	kf := w.bloom.Load()
	if kf == nil {
		return
	}
	var merged []string
	for _, s := range meta.Segments {
		if kf.covered[s.ID] || len(s.Ancestors) == 0 {
			continue
		}
		all := true
		for _, a := range s.Ancestors {
			all = all && kf.covered[a]
		}
		if all {
			merged = append(merged, s.ID)
		}
	}
	if len(merged) > 0 {
		kf.f.MarkCovered(merged...)
		w.bloomUnsaved = true
		w.publishKeyFilter(kf.f)
	}
}

// refreshKeyFilter extends the filter with a commit's new segments off the
// commit path; until it is done, those segments are asked directly.
func (w *Writer) refreshKeyFilter() {
	w.bgMu.Lock()
	defer w.bgMu.Unlock()
	if w.closing.Load() {
		return
	}
	meta := w.committedMeta.Load()
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		w.syncKeyFilter(meta)
	}()
}

// committedHasKey reports whether a committed segment holds a live document
// with this primary key. Segments the filter covers are skipped when it
// rules the key out, so a new key costs no dictionary lookup; a positive is
// confirmed in the term dictionary, so there is never a false duplicate.
func (w *Writer) committedHasKey(key []byte) (bool, error) {
	if len(w.view.readers) == 0 {
		return false, nil
	}
	pk, _ := w.schema.Primary()
	kf := w.bloom.Load()
	ruledOut := kf != nil && !kf.f.MayContain(key)
	for _, r := range w.view.readers {
		if ruledOut && kf.covered[r.ID().String()] {
			continue
		}
		if live, err := hasLiveKey(r, pk.Name, key); err != nil || live {
			return live, err
		}
	}
	return false, nil
}

func hasLiveKey(r *segment.Reader, field string, key []byte) (bool, error) {
	p, err := r.Postings(field, key)
	if err != nil || p == nil {
		return false, err
	}
	for d := p.Doc(); d != segment.NoMoreDocs; d = p.Next() {
		if !r.IsDeleted(d) {
			return true, nil
		}
	}
	return false, p.Err()
}
