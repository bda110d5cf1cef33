package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// The reproduction: with metadata.json gone, 'hermes index' must
// not start a new index over the old one's files (the open-time cleanup
// deleted them all); it refuses and says how to recover.
func TestIndexRefusesADirectoryWhoseMetadataIsLost(t *testing.T) {
	lines, _ := corpus(60)
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines[:30])); r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines[30:])); r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	if err := os.Remove(filepath.Join(dir, "metadata.json")); err != nil {
		t.Fatal(err)
	}
	before := dirFiles(t, dir)
	more, _ := corpus(5)
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, more))
	if r.code == 0 {
		t.Fatalf("index over a lost index's files succeeded: %v", r)
	}
	if !strings.Contains(r.stderr, "hermes check") {
		t.Errorf("the error does not say how to recover: %v", r)
	}
	if after := dirFiles(t, dir); !slices.Equal(before, after) {
		t.Fatalf("index changed the directory:\nbefore %v\nafter  %v", before, after)
	}
}

// Losing metadata.json: check says so, lists the kept generations and what
// falling back loses, and --fall-back restores the newest intact one.
func TestCheckFallsBackWhenMetadataIsLost(t *testing.T) {
	lines, _ := corpus(60)
	dir := filepath.Join(t.TempDir(), "idx")
	for _, part := range [][]string{lines[:30], lines[30:]} {
		if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, part)); r.code != 0 {
			t.Fatalf("index: %v", r)
		}
	}
	if err := os.Remove(filepath.Join(dir, "metadata.json")); err != nil {
		t.Fatal(err)
	}
	if r := runHermes(t, "", "stats", "--index", dir); r.code == 0 || !strings.Contains(r.stderr, "hermes check") {
		t.Fatalf("stats on an index without metadata.json does not point at check: %v", r)
	}
	r := runHermes(t, "", "check", "--index", dir)
	if r.code == 0 {
		t.Fatalf("check passed an index without metadata.json: %v", r)
	}
	for _, want := range []string{"metadata.json: MISSING", "intact, 60 documents", "--fall-back", "no acknowledged commit is lost"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check does not say %q: %v", want, r)
		}
	}
	r = runHermes(t, "", "check", "--index", dir, "--fall-back")
	if r.code != 0 || !strings.Contains(r.stdout, "fell back to generation") || !strings.Contains(r.stdout, "intact") {
		t.Fatalf("check --fall-back: %v", r)
	}
	if n := docCount(t, dir); n != 60 {
		t.Fatalf("after the fall-back the index holds %d documents, want 60", n)
	}
	more, _ := corpus(65)
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, more[60:])); r.code != 0 {
		t.Fatalf("index after the fall-back: %v", r)
	}
	if n := docCount(t, dir); n != 65 {
		t.Fatalf("the index holds %d documents, want 65", n)
	}
}

// A damaged metadata.json is named; falling back names what is lost when
// the newest generation file is damaged too.
func TestCheckReportsDamagedMetadata(t *testing.T) {
	lines, _ := corpus(40)
	dir := filepath.Join(t.TempDir(), "idx")
	for _, part := range [][]string{lines[:10], lines[10:20], lines[20:]} {
		if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, part)); r.code != 0 {
			t.Fatalf("index: %v", r)
		}
	}
	var newest string
	for _, name := range dirFiles(t, dir) {
		if strings.HasPrefix(name, "metadata_") && name > newest {
			newest = name
		}
	}
	for _, name := range []string{"metadata.json", newest} {
		flipByte(t, filepath.Join(dir, name))
	}
	r := runHermes(t, "", "check", "--index", dir)
	if r.code == 0 || !strings.Contains(r.stdout, "metadata.json: DAMAGED") || !strings.Contains(r.stdout, "checksum mismatch") {
		t.Fatalf("check of a damaged metadata.json: %v", r)
	}
	if !strings.Contains(r.stdout, "intact, 20 documents") || !strings.Contains(r.stdout, "are lost") {
		t.Fatalf("check does not offer the older generation and say what it loses: %v", r)
	}
	r = runHermes(t, "", "check", "--index", dir, "--fall-back")
	if r.code != 0 {
		t.Fatalf("check --fall-back: %v", r)
	}
	if n := docCount(t, dir); n != 20 {
		t.Fatalf("after the fall-back the index holds %d documents, want 20", n)
	}
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x04
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// check knows deletes files: a committed one is verified, not called an
// orphan (deleting it, as check used to suggest, brings deleted documents
// back); a damaged one is named.
func TestCheckVerifiesDeletesFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	fsdir, err := storage.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := hermes.Create(ctx, fsdir, schema, hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := w.AddDocument(new(hermes.Document).AddString("id", fmt.Sprint("d", i)).AddString("text", "some words")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteByKey("d3"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var del string
	for _, name := range dirFiles(t, dir) {
		if strings.HasSuffix(name, ".del") {
			del = name
		}
	}
	if del == "" {
		t.Fatal("no deletes file was written")
	}
	r := runHermes(t, "", "check", "--index", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "intact") {
		t.Fatalf("check of an intact index with deletes: %v", r)
	}
	if strings.Contains(r.stdout, del) {
		t.Fatalf("check lists the committed deletes file %s as an orphan: %v", del, r)
	}
	flipByte(t, filepath.Join(dir, del))
	r = runHermes(t, "", "check", "--index", dir)
	if r.code == 0 || !strings.Contains(r.stdout, "deletes of generation") || !strings.Contains(r.stdout, del+": checksum mismatch") {
		t.Fatalf("check does not name the damaged deletes file %s: %v", del, r)
	}
}
