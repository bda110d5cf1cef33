package democorpus

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

// The embedded corpus is what the README says: 6,292 documents with unique
// ids, 1,585 speech passages with a year and 4,707 WordNet glosses.
func TestEmbeddedCorpus(t *testing.T) {
	r, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seen := map[string]bool{}
	var speeches, glosses int
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d struct {
			ID, Title, Text string
			Year            int
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line %d: %v", len(seen)+1, err)
		}
		if seen[d.ID] {
			t.Fatalf("duplicate id %q", d.ID)
		}
		seen[d.ID] = true
		if d.Title == "" || d.Text == "" {
			t.Fatalf("%s: empty title or text", d.ID)
		}
		switch {
		case strings.HasPrefix(d.ID, "sotu:"):
			speeches++
			if d.Year < 1790 || d.Year > 2021 || !strings.Contains(d.ID, "sotu:"+itoa(d.Year)+"_") {
				t.Fatalf("%s: year %d", d.ID, d.Year)
			}
		case strings.HasPrefix(d.ID, "wordnet:"):
			glosses++
			if d.Year != 0 {
				t.Fatalf("%s: a gloss with a year", d.ID)
			}
		default:
			t.Fatalf("%s: neither a speech nor a WordNet gloss", d.ID)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if speeches != 1585 || glosses != 4707 {
		t.Fatalf("%d speech passages and %d glosses, want 1,585 and 4,707 as README.md says", speeches, glosses)
	}
	if !strings.Contains(Notice, "WordNet 3.0 Copyright 2006 by Princeton University") {
		t.Fatal("the WordNet notice is missing")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
