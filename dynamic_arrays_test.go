package hermes_test

import (
	"context"
	"slices"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// Dynamic mapping in a running Writer types arrays of numbers, dates and
// booleans as inference does (indexed and fast), so that a search finds a
// document by any value of its array, as the CLI does without --schema.
func TestDynamicMappingArraysFoundByAnyValue(t *testing.T) {
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), dynamicSchema(t), hermes.Config{Workers: 1, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, line := range []string{
		`{"id":"a","nums":[1,5,9],"prices":[0.5,2.25],"days":["2023-01-05","2024-06-30T10:00:00Z"],"flags":[false,true]}`,
		`{"id":"b","nums":[7],"prices":[-1.5],"days":["2022-12-31"],"flags":[false]}`,
		`{"id":"c","nums":[3,12],"prices":[9.75,3.5],"days":"2025-02-01","flags":true}`,
	} {
		doc, err := w.DecodeJSON([]byte(line))
		if err != nil {
			t.Fatalf("DecodeJSON %s: %v", line, err)
		}
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for q, want := range map[string][]string{
		"nums:9":                          {"a"},
		"nums:[8 TO 12]":                  {"a", "c"},
		"nums:5 AND nums:9":               {"a"},
		"prices:2.25":                     {"a"},
		"prices:[3 TO 4]":                 {"c"},
		"days:2024-06-30":                 {"a"},
		"days:[2024-01-01 TO 2024-12-31]": {"a"},
		"flags:true":                      {"a", "c"},
		"flags:true AND flags:false":      {"a"},
	} {
		hits, err := r.Search(ctx, q, 10)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.Key.Str)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}
}
