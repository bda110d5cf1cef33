package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Without --schema, JSON with nested objects, booleans, integers and RFC
// 3339 dates is indexed as it is, and searched with date ranges, bool terms
// and dotted field names; hits show dates and bools as they were written.
func TestIndexInfersNestedBoolsIntsAndDates(t *testing.T) {
	lines := []string{
		`{"id":"a","title":"Go in practice","draft":false,"created":"2023-06-01T12:00:00Z","pages":310,"author":{"name":"Ann Lee","born":"1980-02-03"}}`,
		`{"id":"b","title":"Rust for Go programmers","draft":true,"created":"2024-03-15T08:30:00.5+01:00","pages":-1,"author":{"name":"Bob Ray"}}`,
		`{"id":"c","title":"Distributed search","draft":false,"created":"2024-12-31","pages":512,"author":[{"name":"Cy Ann"},{"name":"Di"}]}`,
	}
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines))
	if r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	for _, want := range []string{"draft (bool", "created (date", "pages (i64", "author.name (text", "author.born (date"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the inferred schema does not show %q: %s", want, r.stderr)
		}
	}
	for query, want := range map[string][]string{
		"created:[2024-01-01 TO 2025-01-01]":     {"b", "c"},
		"created:[2024-01-01 TO 2024-12-31}":     {"b"},
		"created:2024-12-31":                     {"c"},
		"created:<2024-03-15T07:30:00.5Z":        {"a"},
		"draft:true":                             {"b"},
		"draft:false AND pages:>300":             {"a", "c"},
		"pages:[* TO 0]":                         {"b"},
		"author.name:ann":                        {"a", "c"},
		"author.born:[1980-01-01 TO 1981-01-01]": {"a"},
	} {
		if got := hitIDs(t, searchJSON(t, dir, query)); !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", query, got, want)
		}
	}
	hits := searchJSON(t, dir, "id:b")
	if len(hits) != 1 {
		t.Fatalf("id:b found %d hits", len(hits))
	}
	if hits[0]["created"] != "2024-03-15T07:30:00.5Z" || hits[0]["draft"] != true {
		t.Fatalf("hit b shows created %v, draft %v; want the date as RFC 3339 and true", hits[0]["created"], hits[0]["draft"])
	}
}

// A schema with "unknown_fields":"ignore" indexes lines with extra fields,
// dropping them; the default rejects such a line naming the field.
func TestIndexUnknownFields(t *testing.T) {
	lines := []string{
		`{"id":"a","text":"hello","extra":1,"meta":{"x":[1,2],"y":"z"}}`,
		`{"id":"b","text":"world","more":[{"k":true}]}`,
	}
	schemaFile := func(extra string) string {
		path := filepath.Join(t.TempDir(), "schema.json")
		body := `{"fields":[{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},` +
			`{"name":"text","type":"text","indexed":true,"stored":true}]` + extra + `}`
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--schema", schemaFile(""))
	if r.code == 0 || !strings.Contains(r.stderr, `"extra"`) || !strings.Contains(r.stderr, "unknown field") {
		t.Fatalf("reject: %v", r)
	}
	dir = filepath.Join(t.TempDir(), "idx")
	r = runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--schema", schemaFile(`,"unknown_fields":"ignore"`))
	if r.code != 0 {
		t.Fatalf("ignore: %v", r)
	}
	if got := hitIDs(t, searchJSON(t, dir, "hello OR world")); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("hits %v", got)
	}
}

// With --upsert, indexing a file again replaces the documents with the same
// id instead of stopping at the first one, and a later line with an id seen
// earlier in the input replaces the earlier one.
func TestIndexUpsert(t *testing.T) {
	lines, zebras := corpus(8)
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines)); r.code != 0 {
		t.Fatalf("first run: %v", r)
	}
	again := append([]string(nil), lines...)
	again[2] = `{"id":"doc-002","title":"Title doc-002","text":"quokka","n":2}`
	again = append(again, `{"id":"doc-008","title":"new","text":"wombat","n":8}`, `{"id":"doc-008","title":"newer","text":"numbat","n":8}`)
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, again), "--upsert")
	if r.code != 0 {
		t.Fatalf("upsert run: %v", r)
	}
	if n := docCount(t, dir); n != 9 {
		t.Fatalf("index holds %d documents, want 9", n)
	}
	for query, want := range map[string][]string{
		"quokka":     {"doc-002"},
		"wombat":     nil,
		"numbat":     {"doc-008"},
		"zebra":      zebras,
		"id:doc-002": {"doc-002"},
	} {
		if got := hitIDs(t, searchJSON(t, dir, query)); !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", query, got, want)
		}
	}
}
