package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
)

// A schema with "unknown_fields":"dynamic" creates the index with every
// field the whole input adds, typed as inference types them, and commits
// them in the schema; a value of another kind than the field's first is an
// error of its line. A later run into the index, with the same schema file
// or none, adds the fields it brings to the index's schema, and the
// documents indexed before read as lacking them.
func TestIndexDynamicFields(t *testing.T) {
	schemaPath := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schemaPath, []byte(`{"fields":[
		{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},
		{"name":"title","type":"text","indexed":true,"stored":true}],"unknown_fields":"dynamic"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		`{"id":"1","title":"a book"}`,
		`{"id":"2","title":"b","year":1999,"author":{"name":"Ann Lee","born":"1950-02-03"}}`,
		`{"id":"3","title":"c","year":2001.5,"ok":true}`,
		`{"id":"4","title":"d","year":"unknown"}`,
		`{"id":"5","title":"e","tags":["x","y"],"ok":false}`,
	}
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, strings.Join(lines, "\n")+"\n", "index", "--index", dir, "--schema", schemaPath, "--input", "-", "--on-error", "skip")
	if r.code != 0 || !strings.Contains(r.stdout, "indexed 4 documents") ||
		!strings.Contains(r.stdout, `line 4: field "year": wrong type`) {
		t.Fatalf("dynamic index: %v", r)
	}
	_, schema, err := readIndexMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if schema.UnknownFields() != segment.DynamicUnknown {
		t.Errorf("committed schema: unknown fields %v", schema.UnknownFields())
	}
	want := map[string]segment.FieldType{"id": segment.TypeKeyword, "title": segment.TypeText, "year": segment.TypeF64,
		"author.name": segment.TypeText, "author.born": segment.TypeDate, "ok": segment.TypeBool, "tags": segment.TypeText}
	var names []string
	for _, f := range schema.Fields() {
		names = append(names, f.Name)
		if want[f.Name] != f.Type {
			t.Errorf("field %s: %v, want %v", f.Name, f.Type, want[f.Name])
		}
	}
	if !slices.Equal(names, []string{"id", "title", "year", "author.name", "author.born", "ok", "tags"}) {
		t.Errorf("committed fields %v: want the schema's, then the added ones in input order", names)
	}
	for q, ids := range map[string][]string{
		"year:>2000": {"3"}, "author.name:lee": {"2"}, "author.born:[1950-01-01 TO 1951-01-01]": {"2"},
		"ok:true": {"3"}, "tags:y": {"5"},
	} {
		if got := hitIDs(t, searchJSON(t, dir, q)); !slices.Equal(got, ids) {
			t.Errorf("%s: hits %v, want %v", q, got, ids)
		}
	}

	// Into the existing index, with the same schema file: "pages" is
	// added; "ok" keeps its type, so a string there is an error of its line.
	r = runHermes(t, "", "index", "--index", dir, "--schema", schemaPath, "--on-error", "skip", "--input",
		writeFile(t, []string{`{"id":"6","title":"f","year":7}`, `{"id":"7","title":"g","pages":10}`, `{"id":"8","title":"h","ok":"yes"}`}))
	if r.code != 0 || !strings.Contains(r.stdout, "indexed 2 documents") || !strings.Contains(r.stdout, `line 3: field "ok"`) ||
		!strings.Contains(r.stderr, "pages") {
		t.Fatalf("second run: %v", r)
	}
	// Without --schema, the index's own dynamic schema grows, with a
	// document of only new fields.
	r = runHermes(t, "", "index", "--index", dir, "--input",
		writeFile(t, []string{`{"id":"9","title":"i","lang":"en","pages":3}`}))
	if r.code != 0 || !strings.Contains(r.stdout, "indexed 1 documents") {
		t.Fatalf("third run: %v", r)
	}
	_, schema, err = readIndexMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	names = names[:0]
	for _, f := range schema.Fields() {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"id", "title", "year", "author.name", "author.born", "ok", "tags", "pages", "lang"}) {
		t.Errorf("committed fields after growing %v", names)
	}
	for q, ids := range map[string][]string{
		"pages:[1 TO 20]": {"7", "9"}, "lang:en": {"9"}, "year:>2000": {"3"}, "year:<10": {"6"}, "title:a": {"1"},
	} {
		if got := hitIDs(t, searchJSON(t, dir, q)); !slices.Equal(got, ids) {
			t.Errorf("after growing, %s: hits %v, want %v", q, got, ids)
		}
	}
}

// A --schema that only adds fields to the index's (here without dynamic
// mapping) adds them; one that changes a field is refused.
func TestIndexSchemaAddsFields(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	schema := func(extra string) string {
		path := filepath.Join(t.TempDir(), "schema.json")
		if err := os.WriteFile(path, []byte(`{"fields":[
			{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},
			{"name":"title","type":"text","indexed":true,"stored":true}`+extra+`]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	r := runHermes(t, "", "index", "--index", dir, "--schema", schema(""), "--input", writeFile(t, []string{`{"id":"1","title":"a"}`}))
	if r.code != 0 {
		t.Fatalf("first run: %v", r)
	}
	r = runHermes(t, "", "index", "--index", dir, "--schema", schema(`,{"name":"n","type":"u64","indexed":true,"fast":true}`),
		"--input", writeFile(t, []string{`{"id":"2","title":"b","n":5}`}))
	if r.code != 0 || !strings.Contains(r.stdout, "indexed 1 documents") {
		t.Fatalf("run adding a field: %v", r)
	}
	if got := hitIDs(t, searchJSON(t, dir, "n:5")); !slices.Equal(got, []string{"2"}) {
		t.Errorf("n:5: hits %v", got)
	}
	r = runHermes(t, "", "index", "--index", dir, "--schema", schema(`,{"name":"n","type":"i64","indexed":true,"fast":true}`),
		"--input", writeFile(t, []string{`{"id":"3","title":"c","n":5}`}))
	if r.code == 0 || !strings.Contains(r.stderr, "different schema") {
		t.Fatalf("run changing a field's type: %v", r)
	}
}

// --infer-lines all infers the schema from every line, so a field first
// seen late is a field, not an error.
func TestIndexInferAllLines(t *testing.T) {
	lines := []string{`{"id":"1","title":"a"}`, `{"id":"2","title":"b"}`, `{"id":"3","title":"c","year":2020}`}
	input := writeFile(t, lines)
	if r := runHermes(t, "", "index", "--index", filepath.Join(t.TempDir(), "idx"), "--input", input, "--infer-lines", "1"); r.code == 0 ||
		!strings.Contains(r.stderr, `"year": unknown field`) {
		t.Fatalf("--infer-lines 1: %v", r)
	}
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", input, "--infer-lines", "all"); r.code != 0 ||
		!strings.Contains(r.stderr, "schema inferred from all 3 lines") {
		t.Fatalf("--infer-lines all: %v", r)
	}
	if got := hitIDs(t, searchJSON(t, dir, "year:2020")); !slices.Equal(got, []string{"3"}) {
		t.Errorf("year:2020: hits %v", got)
	}
	if r := runHermes(t, "", "index", "--index", dir, "--input", input, "--infer-lines", "some"); r.code != exitUsage {
		t.Errorf("--infer-lines some: %v", r)
	}
}
