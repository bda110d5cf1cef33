package hermes_test

import (
	"context"
	"testing"
	"unsafe"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// The writer keeps none of a document's memory once AddDocument returns
// (hermes index decodes the next lines into the memory of the last with
// segment.JSONDecoder.Reuse), also the name of a field that dynamic
// mapping adds for it: here a name whose bytes the caller overwrites
// afterwards, as such a decoder would.
func TestWriterKeepsNoFieldNameOfADocument(t *testing.T) {
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), dynamicSchema(t), hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	buf := []byte("color")
	name := unsafe.String(unsafe.SliceData(buf), len(buf))
	if err := w.AddDocument(new(hermes.Document).AddString("id", "a").AddString(name, "red")); err != nil {
		t.Fatal(err)
	}
	copy(buf, "xxxxx") // the caller reuses its memory
	if _, ok := w.Schema().Field("color"); !ok {
		t.Fatalf("the grown schema lost field color; its fields: %v", w.Schema().Fields())
	}
	res, err := w.Commit(ctx)
	if err != nil || res.Docs != 1 || len(res.Rejected) != 0 {
		t.Fatalf("commit: %+v, %v", res, err)
	}
}
