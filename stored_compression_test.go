package hermes_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// TestStoredCompressionOfIndex: the schema's stored-field codec reaches the
// segments a Writer builds (the first byte of each store file), survives
// reopening, and ExtendSchema changes it for the segments built and
// merged after; documents of both codecs read back.
func TestStoredCompressionOfIndex(t *testing.T) {
	ctx := context.Background()
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := storage.NewMem()
	// codecs counts the committed segments by the codec byte of their
	// store file.
	codecs := func() map[byte]int {
		t.Helper()
		meta, err := storage.ReadMetadata(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[byte]int{}
		for _, seg := range meta.Segments {
			data, err := storage.ReadAll(dir, seg.ID+".store")
			if err != nil {
				t.Fatal(err)
			}
			out[data[0]]++
		}
		return out
	}
	next := 0
	addCommit := func(w *hermes.Writer, forceMerge bool) {
		t.Helper()
		for range 40 {
			next++
			doc := new(hermes.Document).AddString("id", fmt.Sprintf("d%03d", next)).AddString("body", strings.Repeat(fmt.Sprintf("word%d ", next), 50))
			if err := w.AddDocumentWait(ctx, doc); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if forceMerge {
			if err := w.ForceMerge(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	w, err := hermes.Create(ctx, dir, s.WithStoredCompression(segment.StoredZstd), hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	addCommit(w, false)
	if w, err = hermes.Open(ctx, dir, hermes.Config{}); err != nil {
		t.Fatal(err)
	}
	addCommit(w, false)
	if got := codecs(); got[byte(segment.StoredZstd)] == 0 || len(got) != 1 {
		t.Fatalf("store codecs %v, want zstd only", got)
	}
	if err := hermes.ExtendSchema(ctx, dir, s, hermes.Config{}); err != nil { // back to the default, S2
		t.Fatal(err)
	}
	if w, err = hermes.Open(ctx, dir, hermes.Config{}); err != nil {
		t.Fatal(err)
	}
	addCommit(w, false)
	if got := codecs(); got[byte(segment.StoredZstd)] == 0 || got[byte(segment.StoredS2)] == 0 {
		t.Fatalf("store codecs %v, want zstd and S2", got)
	}
	// A merge writes the schema's codec, whatever its sources hold.
	if w, err = hermes.Open(ctx, dir, hermes.Config{}); err != nil {
		t.Fatal(err)
	}
	addCommit(w, true)
	if got := codecs(); got[byte(segment.StoredS2)] != 1 || len(got) != 1 {
		t.Fatalf("store codecs %v after ForceMerge, want one S2 segment", got)
	}
	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, i := range []int{1, 60, 120, 160} {
		id := fmt.Sprintf("d%03d", i)
		d, err := r.Document(ctx, id)
		if err != nil || d == nil || len(d.Values) != 2 || d.Values[0].Str != id {
			t.Fatalf("Document(%s) = %+v, %v", id, d, err)
		}
	}
}
