package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hermes search --highlight marks what the query matched as the field was
// analysed (a stemmed word in another form; a phrase only where its words
// stand together), and with --json each hit carries its fragments with byte
// ranges into the stored value.
func TestSearchHighlightFlag(t *testing.T) {
	schema := `{"fields":[
		{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},
		{"name":"title","type":"text","indexed":true,"stored":true,"positions":true,"tokenizer":"en"},
		{"name":"body","type":"text","indexed":true,"stored":true,"positions":true,"tokenizer":"en"}]}`
	schemaPath := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schemaPath, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	body := "The quick fox was running. Runners saw a fox, brown and quick. " + strings.Repeat("Filler words here. ", 12) + "A quick fox runs."
	lines := []string{
		`{"id":"a","title":"Foxes","body":` + jsonString(t, body) + `}`,
		`{"id":"b","title":"Dogs","body":"A slow dog."}`,
	}
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--schema", schemaPath, "--input", writeFile(t, lines)); r.code != 0 {
		t.Fatalf("index: %v", r)
	}

	hits := searchJSONk(t, dir, `runs "quick foxes"`, "--highlight=body", "--fragment-size", "40", "--fragments", "5", "--marks", "<em>,</em>", "--fields", "id")
	if len(hits) != 1 || hits[0]["id"] != "a" {
		t.Fatalf("hits %v", hits)
	}
	var hl map[string][]fragmentJSON
	b, _ := json.Marshal(hits[0]["highlight"])
	if err := json.Unmarshal(b, &hl); err != nil {
		t.Fatal(err)
	}
	var marked []string
	for _, f := range hl["body"] {
		if body[f.Start:f.End] != f.Text {
			t.Fatalf("fragment %q is not body[%d:%d] = %q", f.Text, f.Start, f.End, body[f.Start:f.End])
		}
		for _, m := range f.Matches {
			marked = append(marked, f.Text[m[0]:m[1]])
		}
		if !strings.Contains(f.Marked, "<em>") {
			t.Errorf("fragment %q: marked %q", f.Text, f.Marked)
		}
	}
	// "Runners" stems to another term; the second fox and quick are not
	// together, so not marked.
	if got, want := strings.Join(marked, " "), "quick fox running quick fox runs"; got != want {
		t.Errorf("marked words %q, want %q (fragments %+v)", got, want, hl["body"])
	}
	if _, ok := hl["title"]; ok {
		t.Errorf("title highlighted, not asked for: %v", hl)
	}

	// Text output: every text field by default, matches in ** off a terminal.
	r := runHermes(t, "", "search", "--index", dir, "--highlight", "fox")
	if r.code != 0 {
		t.Fatalf("search: %v", r)
	}
	for _, want := range []string{"    title: **Foxes**\n", "    body: The quick **fox** was running. Runners saw a **fox**, brown"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, bad := range [][]string{
		{"--highlight=nope"},
		{"--marks", "<b>,</b>"},
		{"--highlight", "--marks", "<b>"},
		{"--highlight", "--fragments", "-1"},
	} {
		r := runHermes(t, "", append(append([]string{"search", "--index", dir}, bad...), "fox")...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want usage error; stderr %s", bad, r.code, r.stderr)
		}
	}
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
