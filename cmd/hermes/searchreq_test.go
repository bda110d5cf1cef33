package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hermes search pages through a field sort with --after and the hits'
// "cursor"s, reports the total in its summary line, and aggregates.
func TestSearchSortPagesAndAggregates(t *testing.T) {
	var lines []string
	type doc struct {
		id   string
		year int
	}
	var docs []doc
	for i := range 40 {
		d := doc{fmt.Sprintf("b%02d", i), 1990 + i*7%13}
		docs = append(docs, d)
		lines = append(lines, fmt.Sprintf(`{"id":%q,"title":"a book","year":%d}`, d.id, d.year))
	}
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines)); r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	// The model: year descending, ties by primary key.
	slices.SortFunc(docs, func(a, b doc) int {
		if a.year != b.year {
			return b.year - a.year
		}
		return strings.Compare(a.id, b.id)
	})
	var want []string
	for _, d := range docs {
		want = append(want, d.id)
	}
	var got []string
	cursor := ""
	for range 20 {
		args := []string{"--sort", "year:desc", "-k", "6"}
		if cursor != "" {
			args = append(args, "--after", cursor)
		}
		hits := searchJSONk(t, dir, "book", args...)
		if len(hits) == 0 {
			break
		}
		for _, h := range hits {
			got = append(got, h["id"].(string))
			cursor, _ = h["cursor"].(string)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages:\n got %v\nwant %v", got, want)
	}

	r := runHermes(t, "", "search", "--index", dir, "-k", "3", "--offset", "2", "--sort", "year:desc", "--agg", "terms:year:2>stats:year", "book")
	if r.code != 0 {
		t.Fatalf("search: %v", r)
	}
	if !strings.Contains(r.stdout, "3 of 40 hits in") || !strings.Contains(r.stdout, " "+want[2]+" ") {
		t.Errorf("text output lacks the page or the total:\n%s", r.stdout)
	}
	r = runHermes(t, "", "search", "--index", dir, "--json", "-k", "0", "--count", "--agg", "stats:year", "book")
	if r.code != 0 {
		t.Fatalf("search: %v", r)
	}
	out := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var total struct {
		Total    int
		Relation string
	}
	var aggs struct {
		Aggs map[string]struct{ Count int }
	}
	if len(out) != 2 || json.Unmarshal([]byte(out[0]), &total) != nil || json.Unmarshal([]byte(out[1]), &aggs) != nil ||
		total.Total != 40 || total.Relation != "=" || aggs.Aggs["stats:year"].Count != 40 {
		t.Errorf("--json --count --agg output:\n%s", r.stdout)
	}
	for _, bad := range [][]string{
		{"--agg", "median:year"},
		{"--agg", "range:year:5"},
		{"--agg", "terms:year>terms:id"},
		{"--sort", "year:up"},
	} {
		r := runHermes(t, "", append(append([]string{"search", "--index", dir}, bad...), "book")...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want usage error; stderr %s", bad, r.code, r.stderr)
		}
	}
	if r := runHermes(t, "", "search", "--index", dir, "--after", "nonsense", "book"); r.code == 0 || !strings.Contains(r.stderr, "bad cursor") {
		t.Errorf("--after nonsense: %v", r)
	}
}

// searchJSONk is searchJSON with the caller's -k.
func searchJSONk(t *testing.T, dir, query string, extra ...string) []map[string]any {
	t.Helper()
	args := append([]string{"search", "--index", dir, "--json"}, extra...)
	r := runHermes(t, "", append(args, query)...)
	if r.code != 0 {
		t.Fatalf("search %q: %v", query, r)
	}
	var hits []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line == "" {
			continue
		}
		var h map[string]any
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatalf("search output line %q is not JSON: %v", line, err)
		}
		hits = append(hits, h)
	}
	return hits
}

// hermes search -k 0 --count prints only the exact total, and stats of a
// date field print dates, and numbers exactly, not in six digits.
func TestSearchCountOnlyAndStatsText(t *testing.T) {
	lines := []string{
		`{"id":"a","title":"a book","created":"2024-03-01T10:00:00Z","n":123456789}`,
		`{"id":"b","title":"a book","created":"2025-06-15T08:30:00Z","n":123456790}`,
		`{"id":"c","title":"a pen","created":"2023-01-10T00:00:00Z","n":1}`,
	}
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines)); r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	r := runHermes(t, "", "search", "--index", dir, "-k", "0", "--count", "book")
	if r.code != 0 || strings.TrimSpace(r.stdout) == "" || !strings.HasPrefix(r.stdout, "0 of 2 hits in") {
		t.Errorf("-k 0 --count: %v", r)
	}
	r = runHermes(t, "", "search", "--index", dir, "-k", "0", "--agg", "stats:created", "--agg", "stats:n", "--agg", "terms:n>stats:created", "book")
	if r.code != 0 {
		t.Fatalf("search: %v", r)
	}
	for _, want := range []string{
		"count 2, min 2024-03-01T10:00:00Z, max 2025-06-15T08:30:00Z, avg 2024-10-22T21:15:00Z",
		"count 2, min 123456789, max 123456790, avg 123456789.5, sum 246913579",
		"(count 1, min 2024-03-01T10:00:00Z, max 2024-03-01T10:00:00Z, avg 2024-03-01T10:00:00Z)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stats output lacks %q:\n%s", want, r.stdout)
		}
	}
}
