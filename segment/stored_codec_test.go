package segment

import (
	"context"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// TestUnknownStoredCompression: a schema given a codec that does not
// exist (StoredCompression(7)) cannot be written down (MarshalJSON fails
// naming it, so no index records a schema ParseSchema refuses), and Build
// fails naming it and leaves no file, instead of writing a store that Open
// then calls corrupt.
func TestUnknownStoredCompression(t *testing.T) {
	s := corpusSchema(t).WithStoredCompression(7)
	if out, err := s.MarshalJSON(); err == nil || !strings.Contains(err.Error(), "StoredCompression(7)") {
		t.Fatalf("MarshalJSON of codec 7 = %s, %v; want an error naming it", out, err)
	}
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(s, toks)
	for i, d := range generatedDocs(50, 3) {
		if err := b.Add(d); err != nil && !strings.Contains(err.Error(), "StoredCompression(7)") {
			t.Fatalf("Add doc %d: %v", i, err)
		}
	}
	dir := storage.NewMem()
	if _, err := b.Build(dir, NewID()); err == nil || !strings.Contains(err.Error(), "StoredCompression(7)") {
		t.Fatalf("Build with codec 7: %v, want an error naming it", err)
	}
	if names, err := dir.List(); err != nil || len(names) != 0 {
		t.Fatalf("Build with codec 7 left %v (%v)", names, err)
	}
	// A merge into codec 7 of a segment of a valid one.
	src := storage.NewMem()
	id, _ := buildSegment(t, corpusSchema(t), generatedDocs(50, 3), src)
	r, err := Open(src, id, corpusSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before, _ := src.List()
	if _, err := Merge(context.Background(), src, s, NewID(), []*Reader{r}); err == nil || !strings.Contains(err.Error(), "StoredCompression(7)") {
		t.Fatalf("Merge into codec 7: %v, want an error naming it", err)
	}
	if after, _ := src.List(); len(after) != len(before) {
		t.Fatalf("Merge into codec 7 left files: %v, had %v", after, before)
	}
}
