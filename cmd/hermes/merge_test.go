package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// merge --force leaves one segment holding every document, still found by
// search and passing check.
func TestForceMerge(t *testing.T) {
	lines, zebras := corpus(40)
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--commit-every", "10"); r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	segments := func() int {
		r := runHermes(t, "", "stats", "--index", dir, "--json")
		var st struct{ Segments []struct{ Docs int } }
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatalf("stats: %v: %v", err, r)
		}
		return len(st.Segments)
	}
	if n := segments(); n < 4 {
		t.Fatalf("%d segments before the merge, want at least one per commit (4)", n)
	}
	r := runHermes(t, "", "merge", "--index", dir, "--force")
	if r.code != 0 || !strings.Contains(r.stdout, "-> 1 segment") {
		t.Fatalf("merge --force: %v", r)
	}
	if n := segments(); n != 1 {
		t.Fatalf("%d segments after merge --force, want 1", n)
	}
	if n := docCount(t, dir); n != 40 {
		t.Fatalf("%d documents after the merge, want 40", n)
	}
	if got := hitIDs(t, searchJSON(t, dir, "zebra")); strings.Join(got, ",") != strings.Join(zebras, ",") {
		t.Fatalf("search after the merge: %v, want %v", got, zebras)
	}
	if r := runHermes(t, "", "check", "--index", dir); r.code != 0 {
		t.Fatalf("check after the merge: %v", r)
	}
}
