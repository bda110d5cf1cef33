package index

import (
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

// The primary-key filter's upkeep, all off the intake and commit paths.

// sync brings the persisted filter (pk_bloom.bin) up to meta: reused when
// it covers every segment, extended with only the new segments' keys,
// rebuilt when missing or corrupt.
func (k *Keys) sync(meta *storage.Metadata) {
	k.filterMu.Lock()
	defer k.filterMu.Unlock()
	ids := make([]string, len(meta.Segments))
	infos := make(map[string]storage.SegmentInfo, len(meta.Segments))
	for i, s := range meta.Segments {
		ids[i] = s.ID
		infos[s.ID] = s
	}
	source := func(id string, emit func([]byte)) error {
		info := infos[id]
		r, err := k.segments.Acquire(info)
		if err != nil {
			return err
		}
		defer k.segments.Release(info, r)
		return r.Terms(k.key.Name, nil, func(term []byte) bool { emit(term); return true })
	}
	var f *pkindex.Filter
	var how pkindex.Outcome
	var err error
	if cur := k.filter.Load(); cur != nil {
		f, how, err = pkindex.Refresh(cur.f, ids, source, k.logger)
	} else {
		f, how, err = pkindex.Sync(k.dir, ids, source, k.logger)
	}
	if err != nil {
		k.logger.Warn("primary-key filter not updated; duplicate checks ask the segments", "error", err)
		k.filter.Store(nil)
		return
	}
	// Reused and unchanged since it was loaded or saved: nothing to write.
	if how != pkindex.Reused || k.filterDirty {
		if err := pkindex.Save(k.dir, f); err != nil {
			k.logger.Warn("primary-key filter not saved; it is rebuilt on the next open", "error", err)
		}
		k.filterDirty = false
	}
	k.publish(f)
	k.logger.Debug("primary-key filter", "outcome", how.String(), "segments", len(ids))
}

// addToFilter adds a commit's keys to the filter and marks its segments
// covered, then saves the filter in the background. (Documents rejected as
// poison left the pending keys before; keys of deleted documents only cost
// false positives, which the term dictionaries answer.)
func (k *Keys) addToFilter(keys [][]byte, segments []string) {
	if !k.filterMu.TryLock() {
		// A sync (a rebuild at Open) is running: do not hold the commit
		// up; the refresh after it reads these segments instead.
		k.refresh()
		return
	}
	defer k.filterMu.Unlock()
	kf := k.filter.Load()
	if kf == nil {
		k.refresh() // the first sync has not finished (or failed): it covers them
		return
	}
	f := kf.f
	if st := f.Stats(); st.Keys == 0 && st.Layers == 1 && uint64(len(keys)) > st.Capacity {
		// An empty filter too small for the commit (the first of a new
		// index): one sized for these keys takes them in one layer. Adding
		// them to the small one would open layer after layer, each key
		// tested in all of them, only for the refresh below to rebuild it
		// from the segments. Intake reads the old one until publish.
		fresh := pkindex.New(uint(len(keys)))
		fresh.MarkCovered(f.Covers()...)
		f = fresh
	}
	for _, key := range keys {
		f.Add(key)
	}
	f.MarkCovered(segments...)
	k.filterDirty = true
	k.publish(f)
	k.refresh() // saves it, and rebuilds it if it outgrew its size
}

// publish makes f, with the segments it covers now, what intake reads. Call
// with filterMu held.
func (k *Keys) publish(f *pkindex.Filter) {
	covered := map[segment.ID]bool{}
	for _, s := range f.Covers() {
		if id, err := segment.ParseID(s); err == nil {
			covered[id] = true
		} // else no segment has that name: nothing to skip
	}
	k.filter.Store(&keyFilter{f: f, covered: covered})
}

// coverMerged marks covered the merged segments whose sources the filter
// covered: they hold the same keys.
func (k *Keys) coverMerged(meta *storage.Metadata) {
	if !k.filterMu.TryLock() {
		return // a sync is running; the next refresh reads merged segments
	}
	defer k.filterMu.Unlock()
	kf := k.filter.Load()
	if kf == nil {
		return
	}
	var merged []string
	for _, s := range meta.Segments {
		if kf.covers(s.ID) || len(s.Ancestors) == 0 {
			continue
		}
		all := true
		for _, a := range s.Ancestors {
			all = all && kf.covers(a)
		}
		if all {
			merged = append(merged, s.ID)
		}
	}
	if len(merged) > 0 {
		kf.f.MarkCovered(merged...)
		k.filterDirty = true
		k.publish(kf.f)
	}
}

// refresh brings the filter up to the latest committed state in the
// background; until it is done, the segments it does not cover are asked
// directly.
func (k *Keys) refresh() {
	k.bgMu.Lock()
	defer k.bgMu.Unlock()
	if k.closing {
		return
	}
	meta := k.meta.Load()
	k.bg.Add(1)
	go func() {
		defer k.bg.Done()
		k.sync(meta)
	}()
}
