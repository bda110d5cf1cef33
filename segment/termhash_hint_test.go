package segment

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// A process may hold several writers, with budgets far apart, whose
// schemas share field names. A builder's first bytes must not depend on
// how large another builder of the same field name grew: once the
// released tables are collected, a new empty builder holds about what a
// builder in a fresh process holds, so that a writer with a small budget
// (which flushes at 80% of EstimatedMemoryBytes' share) does not write a
// segment for every few documents after a large index was built.
func TestNewBuilderAfterLargeReleaseStaysSmall(t *testing.T) {
	// Each writer has a schema of its own (its internal schema), here of
	// the same fields.
	newSchema := func() *Schema {
		s, err := NewSchema(
			Field{Name: "hintkey", Type: TypeKeyword, Indexed: true, Primary: true},
			Field{Name: "hintbody", Type: TypeText, Indexed: true},
		)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	schema, other := newSchema(), newSchema()
	toks, err := ResolveTokenizers(schema, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dropHints := func() {
		for _, name := range []string{"hintkey", "hintbody"} {
			freeTablesOf(name).drop()
		}
	}
	dropHints()
	defer dropHints()
	fresh := NewBuilder(schema, toks).EstimatedMemoryBytes()

	// A large builder: 200,000 distinct keys and words.
	big := NewBuilder(schema, toks)
	for i := range 200_000 {
		d := new(Document).AddString("hintkey", fmt.Sprintf("key-%07d", i)).AddString("hintbody", fmt.Sprintf("w%07d", i))
		if err := big.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	large := big.EstimatedMemoryBytes()
	if _, err := big.Build(storage.NewMem(), NewID()); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()

	// Another writer's builder, of a tiny index, after the collection.
	small := NewBuilder(other, toks)
	if got := small.EstimatedMemoryBytes(); got > 4*fresh+64<<10 {
		t.Fatalf("an empty builder holds %d bytes after another writer's builder of %d was released and collected; a fresh one holds %d", got, large, fresh)
	}
	// The same writer's next builder is still sized like its last.
	if got := NewBuilder(schema, toks).EstimatedMemoryBytes(); got < large/4 {
		t.Fatalf("the same schema's next builder holds %d bytes after one of %d was released and collected; want it sized like that one", got, large)
	}
}
