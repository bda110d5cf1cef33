package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Without --schema, arrays of integers, floats, dates and booleans are
// inferred as multi-valued fields, and a term or range query finds a
// document by any value of its array, not only the first. Sort reads the
// first value of an array.
func TestIndexInfersArraysFoundByAnyValue(t *testing.T) {
	lines := []string{
		`{"id":"a","nums":[1,5,9],"scores":[0.5,2.25],"days":["2023-01-05","2024-06-30T10:00:00Z"],"flags":[false,true]}`,
		`{"id":"b","nums":[7],"scores":[-1.5],"days":["2022-12-31"],"flags":[false]}`,
		`{"id":"c","nums":[3,12],"scores":[9.75,3.0],"days":"2025-02-01","flags":true}`,
		`{"id":"d","nums":[],"scores":null,"days":[],"flags":[]}`,
	}
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines))
	if r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	for _, want := range []string{"nums (i64", "scores (f64", "days (date", "flags (bool"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the inferred schema does not show %q: %s", want, r.stderr)
		}
	}
	for query, want := range map[string][]string{
		"nums:9":                              {"a"},
		"nums:5":                              {"a"},
		"nums:12":                             {"c"},
		"nums:[8 TO 10]":                      {"a"},
		"nums:>10":                            {"c"},
		"nums:5 AND nums:9":                   {"a"},
		"scores:2.25":                         {"a"},
		"scores:3":                            {"c"},
		"scores:[2 TO 4]":                     {"a", "c"},
		"scores:<0":                           {"b"},
		"days:2024-06-30":                     {"a"},
		"days:[2024-01-01 TO 2024-12-31]":     {"a"},
		"days:[2022-12-31 TO 2023-01-05]":     {"a", "b"},
		"days:>=2025-01-01":                   {"c"},
		"flags:true":                          {"a", "c"},
		"flags:false":                         {"a", "b"},
		"flags:true AND flags:false":          {"a"},
		"_exists_:nums":                       {"a", "b", "c"},
		"nums:9 OR scores:-1.5 OR flags:true": {"a", "b", "c"},
	} {
		if got := hitIDs(t, searchJSON(t, dir, query)); !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", query, got, want)
		}
	}
	// Sorting reads the fast column: the first value of each array (a 1,
	// c 3, b 7).
	var order []string
	for _, h := range searchJSON(t, dir, "_exists_:nums", "--sort", "nums") {
		id, _ := h["id"].(string)
		order = append(order, id)
	}
	if want := []string{"a", "c", "b"}; !slices.Equal(order, want) {
		t.Errorf("--sort nums = %v, want %v (by first value)", order, want)
	}
}
