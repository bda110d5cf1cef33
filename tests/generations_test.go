package tests

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

// recordOp reports whether an operation writes or removes a kept
// generation or the segment-id journal (or their temporary files), or
// starts the write of metadata.json (after a new kept generation is
// durable: a crash there leaves a generation newer than the commit).
func recordOp(op storage.Op, name string) bool {
	return op.Mutating() && (strings.Contains(name, "metadata_") || strings.Contains(name, storage.SegmentIDsFile) ||
		op == storage.OpCreate && strings.Contains(name, storage.MetadataFile))
}

// TestCrashAtEveryRecordWrite cuts power before each write of the kept
// generations and of the segment-id journal of the crash workload, and
// before each metadata.json write. After each crash: every kept generation up to the
// committed one is intact and falls back to an index that opens with the
// documents it records; and once a writer opened the index, the directory
// holds exactly the files the kept generations name (plus metadata.json,
// the journal and the key filter): no orphan is left, nothing named is lost.
func TestCrashAtEveryRecordWrite(t *testing.T) {
	const seed = 3
	plan := crashPlan(seed, true)
	clean := storage.NewFaulty(seed)
	var points atomic.Int64
	clean.OnOp(func(op storage.Op, name string) error {
		if recordOp(op, name) {
			points.Add(1)
		}
		return nil
	})
	w, err := hermes.Create(context.Background(), clean, crashSchema(t), crashConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := runPlan(w, plan, newModel(1)); err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	n := int(points.Load())
	t.Logf("clean run: %d crash points", n)

	for at := 1; at <= n+2; at++ {
		dir := storage.NewFaulty(int64(seed*1000 + at))
		var count atomic.Int64
		var after atomic.Pointer[storage.FaultyDirectory]
		dir.OnOp(func(op storage.Op, name string) error {
			if recordOp(op, name) && count.Add(1) == int64(at) {
				after.Store(dir.Crash())
			}
			return nil
		})
		when := fmt.Sprintf("crash before record write %d", at)
		if w, err := hermes.Create(context.Background(), dir, crashSchema(t), crashConfig()); err == nil {
			_ = runPlan(w, plan, newModel(1))
			closeWriter(t, w)
		}
		crashed := after.Load()
		if crashed == nil {
			crashed = dir.Crash()
		}
		if _, err := storage.ReadMetadata(crashed); errors.Is(err, fs.ErrNotExist) {
			continue // the crash came before Create's commit: no index
		}
		checkKeptGenerations(t, crashed, when)
		checkOnlyRecordedFiles(t, crashed, when)
	}
}

// checkKeptGenerations: the committed generation's file exists, and every
// kept generation is intact and falls back to an index that opens with
// the documents it records.
func checkKeptGenerations(t *testing.T, dir storage.Directory, when string) {
	t.Helper()
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	kept, err := storage.KeptGenerations(dir, meta.Generation, storage.DefaultKeepGenerations)
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	if len(kept) == 0 || kept[len(kept)-1].Generation != meta.Generation {
		t.Fatalf("%s: generation %d is committed but its kept metadata is missing or damaged", when, meta.Generation)
	}
	if meta.Generation > 1 && len(kept) < 2 {
		t.Fatalf("%s: the generation before %d is not kept", when, meta.Generation)
	}
	for _, m := range kept {
		copied := copyDir(t, dir)
		if err := copied.Remove(storage.MetadataFile); err != nil {
			t.Fatal(err)
		}
		if err := storage.FallBack(copied, m.Generation); err != nil {
			t.Fatalf("%s: fall back to generation %d: %v", when, m.Generation, err)
		}
		ids, gen := openReaderIDs(t, copied, fmt.Sprintf("%s, fallen back to generation %d", when, m.Generation))
		live := 0
		for _, s := range m.Segments {
			live += int(s.NumDocs - s.NumDeleted)
		}
		if gen != m.Generation || len(ids) != live {
			t.Fatalf("%s: fallen back to generation %d, the index holds generation %d with %d documents; want %d", when, m.Generation, gen, len(ids), live)
		}
	}
}

// checkOnlyRecordedFiles opens a writer on dir (its cleanup runs) and
// checks that what is left is exactly what the kept generations name.
func checkOnlyRecordedFiles(t *testing.T, dir *storage.FaultyDirectory, when string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	w, err := hermes.Open(ctx, dir, crashConfig())
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	closeWriter(t, w)
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := storage.KeptGenerations(dir, meta.Generation, storage.DefaultKeepGenerations)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{storage.MetadataFile: true, storage.SegmentIDsFile: true, pkindex.FileName: true}
	for _, m := range kept {
		want[storage.GenerationFile(m.Generation)] = true
		for _, s := range m.Segments {
			for _, f := range s.Files {
				want[f] = true
			}
			if s.DelGen > 0 {
				id, _ := segment.ParseID(s.ID)
				want[segment.DeletesFileName(id, s.DelGen)] = true
			}
		}
	}
	names, err := dir.List()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, name := range names {
		have[name] = true
		if !want[name] {
			t.Errorf("%s: after a writer opened the index, %s is left though no kept generation names it", when, name)
		}
	}
	for name := range want {
		if !have[name] && name != pkindex.FileName && name != storage.SegmentIDsFile {
			t.Errorf("%s: %s, named by a kept generation, is gone", when, name)
		}
	}
}

// copyDir copies every file of dir into a new in-memory directory.
func copyDir(t *testing.T, dir storage.Directory) storage.Directory {
	t.Helper()
	names, err := dir.List()
	if err != nil {
		t.Fatal(err)
	}
	out := storage.NewMem()
	for _, name := range names {
		data, err := storage.ReadAll(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := out.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return out
}
