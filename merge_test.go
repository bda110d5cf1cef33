package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/storage"
)

// commitBatches adds n documents per commit, commits times times, and
// returns the ids added.
func commitBatches(t *testing.T, w *hermes.Writer, prefix string, commits, n int) []string {
	t.Helper()
	var added []string
	for c := 0; c < commits; c++ {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("%s-%d-%d", prefix, c, i)
			mustAdd(t, w, doc(id, wordsFor(c*n+i)))
			added = append(added, id)
		}
		if _, err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return added
}

func checkIDs(t *testing.T, w *hermes.Writer, want []string) {
	t.Helper()
	got := committedIDs(t, w)
	if len(got) != len(want) {
		t.Fatalf("index holds %d ids, want %d", len(got), len(want))
	}
	for _, id := range want {
		if got[id] != 1 {
			t.Fatalf("%s found %d times", id, got[id])
		}
	}
}

func TestBackgroundMergesKeepEveryDocument(t *testing.T) {
	policy := &mergepolicy.Tiered{SegmentsPerTier: 3, MaxMergeAtOnce: 3, FloorDocs: 10, MaxMergedDocs: 1_000_000}
	w := create(t, storage.NewMem(), hermes.Config{Workers: 1, MergePolicy: policy})
	added := commitBatches(t, w, "m", 12, 20)
	if err := w.WaitForMerges(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := w.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Segments) >= 12 {
		t.Fatalf("%d segments after 12 commits: the policy merged nothing", len(st.Segments))
	}
	if st.LiveDocs != len(added) || st.MergesRunning != 0 {
		t.Fatalf("stats: %d live docs, %d merges running; want %d and 0", st.LiveDocs, st.MergesRunning, len(added))
	}
	checkIDs(t, w, added)
}

func TestForceMergeLeavesOneSegmentAndDeletesMergedFiles(t *testing.T) {
	dir := storage.NewMem()
	// One kept generation and no grace period: the generation before the
	// merge keeps no files, and retired files go at once.
	w := create(t, dir, hermes.Config{Workers: 2, MergePolicy: mergepolicy.NoMerge{}, KeepGenerations: 1, RetiredFileGrace: -1})
	added := commitBatches(t, w, "f", 5, 30)
	before, _ := w.Stats(context.Background())
	if len(before.Segments) < 5 {
		t.Fatalf("%d segments before the force merge, want at least 5", len(before.Segments))
	}
	if err := w.ForceMerge(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := w.Stats(context.Background())
	if len(after.Segments) != 1 || after.LiveDocs != len(added) {
		t.Fatalf("after ForceMerge: %d segments, %d docs; want 1 and %d", len(after.Segments), after.LiveDocs, len(added))
	}
	checkIDs(t, w, added)
	// Only the merged segment's files (and metadata.json) remain, once the
	// writer's background work (the key filter's update, which may hold a
	// snapshot) is over.
	w.Close()
	onlyCommittedFiles(t, dir)
}

// onlyCommittedFiles fails if dir holds a file that neither metadata.json
// nor a kept generation (at most the default number, none newer than
// metadata.json) names.
func onlyCommittedFiles(t *testing.T, dir storage.Directory) {
	t.Helper()
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	owned := map[string]bool{storage.MetadataFile: true, storage.SegmentIDsFile: true, "pk_bloom.bin": true}
	kept := []*storage.Metadata{meta}
	gens, err := storage.Generations(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gens {
		if g > meta.Generation || meta.Generation-g >= storage.DefaultKeepGenerations {
			t.Errorf("%s is not a kept generation of generation %d", storage.GenerationFile(g), meta.Generation)
			continue
		}
		m, err := storage.ReadGeneration(dir, g)
		if err != nil {
			t.Fatal(err)
		}
		owned[storage.GenerationFile(g)] = true
		kept = append(kept, m)
	}
	for _, m := range kept {
		for _, s := range m.Segments {
			for _, f := range s.Files {
				owned[f] = true
			}
			if s.DelGen > 0 {
				id, _ := segment.ParseID(s.ID)
				owned[segment.DeletesFileName(id, s.DelGen)] = true
			}
		}
	}
	names, err := dir.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !owned[n] {
			t.Errorf("file %s is not committed and was not deleted", n)
		}
	}
}

func TestReaderHoldsItsSnapshotAcrossAMerge(t *testing.T) {
	dir := storage.NewMem()
	// One kept generation and no grace period, so that only the reader
	// holds the merged-away files.
	w := create(t, dir, hermes.Config{Workers: 2, MergePolicy: mergepolicy.NoMerge{}, KeepGenerations: 1, RetiredFileGrace: -1})
	added := commitBatches(t, w, "s", 4, 25)
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hitsBefore, err := r.Search(ctx, "alpha bravo", 20)
	if err != nil {
		t.Fatal(err)
	}
	oldFiles, _ := dir.List()

	if err := w.ForceMerge(ctx); err != nil {
		t.Fatal(err)
	}
	// The old reader still searches its snapshot: same hits, and its files
	// are still there.
	hitsAfter, err := r.Search(ctx, "alpha bravo", 20)
	if err != nil {
		t.Fatalf("the snapshot reader failed after the merge: %v", err)
	}
	if fmt.Sprint(hitIDs(hitsBefore)) != fmt.Sprint(hitIDs(hitsAfter)) {
		t.Fatalf("snapshot changed across the merge:\n%v\n%v", hitIDs(hitsBefore), hitIDs(hitsAfter))
	}
	if n := len(ids(t, r)); n != len(added) {
		t.Fatalf("snapshot holds %d docs, want %d", n, len(added))
	}
	now, _ := dir.List()
	for _, f := range oldFiles {
		if _, gen := storage.ParseGenerationFile(f); !gen && !slices.Contains(now, f) {
			t.Fatalf("%s was deleted while a reader held it", f)
		}
	}
	// Released, the merged-away files go (once the writer's background
	// work, which may hold a snapshot too, is over).
	r.Close()
	checkIDs(t, w, added)
	w.Close()
	onlyCommittedFiles(t, dir)
}

func hitIDs(hits []hermes.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = fmt.Sprintf("%s:%.4f", h.Key.Str, h.Score)
	}
	return out
}

func TestFailedMergeLeavesTheIndexAsItWas(t *testing.T) {
	dir := storage.NewFaulty(1)
	w := create(t, dir, hermes.Config{Workers: 1, MergePolicy: mergepolicy.NoMerge{}})
	added := commitBatches(t, w, "e", 3, 20)
	boom := errors.New("injected: merge output refused")
	dir.OnOp(func(op storage.Op, name string) error {
		if op == storage.OpCreate {
			return boom
		}
		return nil
	})
	err := w.ForceMerge(context.Background())
	if err == nil {
		t.Fatal("ForceMerge succeeded although every file creation failed")
	}
	dir.OnOp(nil)
	st, _ := w.Stats(context.Background())
	if len(st.Segments) != 3 || st.LastMergeError == "" {
		t.Fatalf("after a failed merge: %d segments (want the 3), last error %q", len(st.Segments), st.LastMergeError)
	}
	checkIDs(t, w, added)
	onlyCommittedFiles(t, dir)
	// The writer still works.
	more := commitBatches(t, w, "e2", 1, 5)
	checkIDs(t, w, append(added, more...))
}

func TestOpenCleansUpOrphansOfACrash(t *testing.T) {
	dir := storage.NewFaulty(2)
	ctx := context.Background()
	w, err := hermes.Create(ctx, dir, testSchema(t), hermes.Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	added := commitBatches(t, w, "o", 1, 20)
	for i := 0; i < 20; i++ {
		mustAdd(t, w, doc(fmt.Sprint("lost-", i), "prepared but never committed"))
	}
	if _, err := w.PrepareCommit(ctx); err != nil {
		t.Fatal(err)
	}
	// Power fails: the prepared segments are durable files no commit names.
	crashed := dir.Crash()
	w.Close()
	names, _ := crashed.List()
	if len(names) <= 1+len(mustMeta(t, crashed).Segments[0].Files) {
		t.Fatalf("the crash left no prepared files to clean (files: %v)", names)
	}
	w2, err := hermes.Open(ctx, crashed, hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	onlyCommittedFiles(t, crashed)
	checkIDs(t, w2, added)
}

func mustMeta(t *testing.T, dir storage.Directory) *storage.Metadata {
	t.Helper()
	m, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
