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
