package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
