package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hermes search --query-json runs a JSON search request, from a file or
// stdin: each example of the README, and a request whose hits, highlights,
// total and aggregations are checked; bad requests are usage errors that
// name the JSON path.
func TestSearchQueryJSON(t *testing.T) {
	schema := `{"fields":[
		{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},
		{"name":"title","type":"text","indexed":true,"stored":true,"positions":true,"tokenizer":"en"},
		{"name":"body","type":"text","indexed":true,"stored":true,"positions":true,"tokenizer":"en"},
		{"name":"price","type":"f64","fast":true,"stored":true},
		{"name":"stock","type":"i64","fast":true},
		{"name":"shop","type":"u64","fast":true},
		{"name":"created","type":"date","fast":true},
		{"name":"colour","type":"keyword","indexed":true,"fast":true}]}`
	schemaPath := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schemaPath, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	titles := []string{"Blue mug", "Red mug", "Blue cup", "Ceramic mugs, blue"}
	var lines []string
	for i := range 40 {
		created := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i*20).Format(time.RFC3339)
		lines = append(lines, fmt.Sprintf(`{"id":"p%02d","title":%q,"body":"A ceramic %s for the kitchen, number %d. Blue glaze, big mug.","price":%g,"stock":%d,"shop":%d,"created":%q,"colour":%q}`,
			i, titles[i%4], titles[i%4], i, float64(i%7)*2.5, i*13%200, i%5, created, []string{"blue", "red", "blue", "blue"}[i%4]))
	}
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--schema", schemaPath, "--input", writeFile(t, lines)); r.code != 0 {
		t.Fatalf("index: %v", r)
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)[strings.Index(string(readme), "### The JSON search request"):]
	section = section[4:]
	section = section[:strings.Index(section, "\n### ")]
	examples := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(examples) < 4 {
		t.Fatalf("the README has %d JSON examples", len(examples))
	}
	for i, ex := range examples {
		r := runHermes(t, ex[1], "search", "--index", dir, "--query-json", "-")
		if r.code != 0 || !strings.Contains(r.stdout, " hits in ") {
			t.Errorf("README example %d: %v", i+1, r)
		}
	}

	req := `{"query": "mug", "k": 3, "offset": 1, "sort": [{"field": "price", "desc": true}, {"field": "stock"}],
		"total_hits_threshold": 100000, "fields": ["title"],
		"highlight": {"fields": ["title"], "pre": "[", "post": "]"},
		"aggs": {"shops": {"terms": {"field": "shop", "size": 2}}}}`
	path := filepath.Join(t.TempDir(), "req.json")
	if err := os.WriteFile(path, []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runHermes(t, "", "search", "--index", dir, "--json", "--query-json", path)
	if r.code != 0 {
		t.Fatalf("search: %v", r)
	}
	out := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(out) != 5 {
		t.Fatalf("want 3 hits, a total and aggregations, got:\n%s", r.stdout)
	}
	type hit struct {
		ID        string
		Title     string
		Price     *float64
		Highlight map[string][]fragmentJSON
	}
	var hits []hit
	for _, line := range out[:3] {
		var h hit
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatal(err)
		}
		hits = append(hits, h)
	}
	for _, h := range hits {
		if h.Title == "" || h.Price != nil {
			t.Errorf("hit %+v: want its title only (fields)", h)
		}
		if frags := h.Highlight["title"]; strings.Contains(h.Title, "mug") && (len(frags) != 1 || !strings.Contains(frags[0].Marked, "[mug")) {
			t.Errorf("hit %+v: want its title marked", h)
		}
	}
	if out[3] != `{"total":40,"relation":"="}` || !strings.HasPrefix(out[4], `{"aggs":{"shops":{"buckets":[`) {
		t.Errorf("total and aggregations:\n%s\n%s", out[3], out[4])
	}

	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"--query-json", "-", "mug"}, `{"query":"mug"}`, "no QUERY argument"},
		{[]string{"--query-json", "-", "-k", "3"}, `{"query":"mug"}`, "--k: set these in the JSON request"},
		{[]string{"--query-json", "-"}, `{"query":"mug","k":"3"}`, `$.k: want a non-negative integer, got string "3"`},
		{[]string{"--query-json", "-"}, `{"query":"mug","sort":[{"field":"flavour"}]}`, `$.sort[0].field: the schema has no field "flavour"`},
		{[]string{"--query-json", "-"}, `{"query":"nope:mug"}`, `$.query: field at byte 0: unknown field "nope"`},
		{[]string{"--query-json", filepath.Join(t.TempDir(), "missing.json")}, ``, "no such file"},
	} {
		r := runHermes(t, tc.stdin, append([]string{"search", "--index", dir}, tc.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v <<< %s: %v\nwant a usage error containing %q", tc.args, tc.stdin, r, tc.want)
		}
	}
}
