package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/storage"
)

// smallIndex commits three batches of documents and a delete into dir, so
// that it holds several segments and a deletes file, and closes the writer.
// It returns the number of live documents.
func smallIndex(t *testing.T, dir storage.Directory) int {
	t.Helper()
	ctx := context.Background()
	w, err := hermes.Create(ctx, dir, testSchema(t), hermes.Config{Workers: 1, MergePolicy: mergepolicy.NoMerge{}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	live := 0
	for round := range 3 {
		for i := range 5 {
			if err := w.AddDocument(doc(fmt.Sprintf("r%d-%d", round, i), "words of a document")); err != nil {
				t.Fatal(err)
			}
			live++
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.DeleteByKey("r0-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return live - 1
}

func listFiles(t *testing.T, dir storage.Directory) []string {
	t.Helper()
	names, err := dir.List()
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// A lost metadata.json must not turn Create into a wipe of the index: it
// refuses, says what it found and how to recover, and deletes nothing.
func TestCreateRefusesADirectoryWithSegmentFiles(t *testing.T) {
	dir := storage.NewMem()
	smallIndex(t, dir)
	if err := dir.Remove(storage.MetadataFile); err != nil {
		t.Fatal(err)
	}
	before := listFiles(t, dir)
	if !slices.ContainsFunc(before, func(n string) bool { return strings.HasSuffix(n, ".del") }) {
		t.Fatalf("the index has no deletes file: %v", before)
	}

	w, err := hermes.Create(context.Background(), dir, testSchema(t), hermes.Config{})
	if err == nil {
		w.Close()
		t.Fatal("Create made a new index over the files of a lost one")
	}
	if !errors.Is(err, hermes.ErrIndexFilesFound) {
		t.Fatalf("Create: %v; want an error wrapping ErrIndexFilesFound", err)
	}
	for _, want := range []string{"segment files", "deletes file", "hermes check", "--fall-back"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Create's error %q does not mention %q", err, want)
		}
	}
	if after := listFiles(t, dir); !slices.Equal(before, after) {
		t.Fatalf("Create changed the directory:\nbefore %v\nafter  %v", before, after)
	}
}

// Cleanup deletes only files a record of this index names: files that look
// like segment and deletes files but that no journal or kept generation of
// the index names (copied in, restored from elsewhere) are left alone.
func TestCleanupLeavesFilesNoRecordNames(t *testing.T) {
	dir := storage.NewMem()
	smallIndex(t, dir)
	foreign := []string{
		"0000000000010000000000000000abcd.tdict",
		"0000000000010000000000000000abcd.store",
		"0000000000010000000000000000abcd_3.del",
	}
	for _, name := range foreign {
		f, err := dir.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("someone else's data"))
		f.Close()
	}
	ctx := context.Background()
	w, err := hermes.Open(ctx, dir, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.CleanupOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	names := listFiles(t, dir)
	for _, name := range foreign {
		if !slices.Contains(names, name) {
			t.Errorf("cleanup deleted %s, which no record of the index names", name)
		}
	}
}

// A damaged metadata.json is reported naming the file, with the kept
// generation that could replace it; falling back to it restores the index.
func TestDamagedMetadataIsReportedWithItsFallBack(t *testing.T) {
	for _, damage := range []string{"missing", "flipped bit"} {
		t.Run(damage, func(t *testing.T) {
			dir := storage.NewMem()
			live := smallIndex(t, dir)
			meta, err := storage.ReadMetadata(dir)
			if err != nil {
				t.Fatal(err)
			}
			data, err := storage.ReadAll(dir, storage.MetadataFile)
			if err != nil {
				t.Fatal(err)
			}
			if damage == "missing" {
				err = dir.Remove(storage.MetadataFile)
			} else {
				data[len(data)/2] ^= 0x04
				err = dir.WriteAtomic(storage.MetadataFile, data)
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, err = hermes.OpenReader(ctx, dir, hermes.Config{})
			if err == nil {
				t.Fatal("OpenReader opened an index without its metadata")
			}
			for _, want := range []string{storage.MetadataFile, storage.GenerationFile(meta.Generation), "--fall-back"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("OpenReader's error %q does not mention %q", err, want)
				}
			}
			if err := storage.FallBack(dir, meta.Generation); err != nil {
				t.Fatal(err)
			}
			r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.NumDocs() != live || r.Generation() != meta.Generation {
				t.Fatalf("after the fall-back: generation %d, %d documents; want %d and %d", r.Generation(), r.NumDocs(), meta.Generation, live)
			}
		})
	}
}

// The previous commit's files survive the next commit (a merge that
// retires them included), so falling back to it works; older ones go.
func TestKeptGenerationKeepsItsFiles(t *testing.T) {
	dir := storage.NewMem()
	ctx := context.Background()
	w, err := hermes.Create(ctx, dir, testSchema(t), hermes.Config{Workers: 1, MergePolicy: mergepolicy.NoMerge{}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for round := range 3 {
		for i := range 5 {
			mustAdd(t, w, doc(fmt.Sprintf("r%d-%d", round, i), "words"))
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ForceMerge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	gens, err := storage.Generations(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{before.Generation, before.Generation + 1}; !slices.Equal(gens, want) {
		t.Fatalf("kept generations %v, want %v", gens, want)
	}
	if err := storage.FallBack(dir, before.Generation); err != nil {
		t.Fatal(err)
	}
	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		t.Fatalf("the generation before the merge does not open: %v", err)
	}
	defer r.Close()
	if r.NumDocs() != 15 || len(before.Segments) != 3 {
		t.Fatalf("the generation before the merge holds %d documents in %d segments; want 15 in 3", r.NumDocs(), len(before.Segments))
	}
}

// phantomDir lists, besides its files, the files of a segment that are gone
// by the time they are removed: what cleanup sees when a retired segment's
// grace period ends (or its last reader closes) between its List and its
// Remove.
type phantomDir struct {
	storage.Directory
	phantom []string
}

func (d phantomDir) List() ([]string, error) {
	names, err := d.Directory.List()
	names = append(names, d.phantom...)
	slices.Sort(names)
	return names, err
}

// A recorded orphan that disappears while cleanup runs is no error: it is
// gone, as cleanup wanted.
func TestCleanupToleratesFilesRemovedMeanwhile(t *testing.T) {
	mem := storage.NewMem()
	smallIndex(t, mem)
	const gone = "0000000000010000000000000000abcd"
	ids, err := storage.ReadSegmentIDs(mem)
	if err != nil {
		t.Fatal(err)
	}
	if err := storage.WriteSegmentIDs(mem, append(ids, gone)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := hermes.Open(ctx, phantomDir{mem, []string{gone + ".tdict", gone + "_3.del"}}, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.CleanupOrphans(ctx); err != nil {
		t.Fatalf("CleanupOrphans: %v", err)
	}
}
