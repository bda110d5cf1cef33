package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

func TestReaderDocumentByKey(t *testing.T) {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < 50; i++ {
		doc := new(hermes.Document).AddString("id", fmt.Sprint("Key ", i)).AddString("title", fmt.Sprint("title ", i))
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteByKey("Key 7"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, i := range []int{0, 6, 8, 49} {
		d, err := r.Document(ctx, fmt.Sprint("Key ", i))
		if err != nil {
			t.Fatalf("Document(Key %d): %v", i, err)
		}
		if v, _ := d.Get("title"); v.Str != fmt.Sprint("title ", i) {
			t.Errorf("Document(Key %d) has title %q", i, v.Str)
		}
	}
	for _, key := range []string{"Key 7", "key 1", "Key", ""} {
		if _, err := r.Document(ctx, key); !errors.Is(err, hermes.ErrNotFound) {
			t.Errorf("Document(%q) error = %v, want ErrNotFound", key, err)
		}
	}
}

func TestReaderExplain(t *testing.T) {
	ctx := context.Background()
	schema, err := segment.NewSchema(hermes.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true})
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, title := range []string{"go programming", "rust programming", "go go go"} {
		if err := w.AddDocumentWait(ctx, new(hermes.Document).AddString("title", title)); err != nil {
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
	const q = "go^2 programing~1"
	hits, err := r.Search(ctx, q, 10)
	if err != nil || len(hits) != 3 {
		t.Fatalf("Search: %v, %v", hits, err)
	}
	for _, h := range hits {
		e, err := r.Explain(ctx, q, h)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Match || math.Abs(e.Value-float64(h.Score)) > 1e-5*e.Value {
			t.Errorf("Explain = %v %v, hit score %v\n%s", e.Match, e.Value, h.Score, e)
		}
	}
	if _, err := r.Explain(ctx, q, hermes.Hit{Segment: "nosuch"}); err == nil {
		t.Error("Explain of a foreign hit: no error")
	}
}

// Document finds documents by a numeric primary key too, given as the
// number's decimal text, as DeleteByKey and a query ("id:42") do.
func TestReaderDocumentByNumericKey(t *testing.T) {
	ctx := context.Background()
	for _, typ := range []segment.FieldType{segment.TypeU64, segment.TypeI64} {
		schema, err := segment.NewSchema(
			hermes.Field{Name: "id", Type: typ, Indexed: true, Stored: true, Primary: true},
			hermes.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true},
		)
		if err != nil {
			t.Fatal(err)
		}
		w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for i := 0; i < 20; i++ {
			doc := new(hermes.Document).AddString("title", fmt.Sprint("title ", i))
			if typ == segment.TypeU64 {
				doc.AddU64("id", uint64(i)*1000)
			} else {
				doc.AddI64("id", int64(i-10)*1000)
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
		key, title := "7000", "title 7"
		if typ == segment.TypeI64 {
			key, title = "-3000", "title 7"
		}
		d, err := r.Document(ctx, key)
		if err != nil {
			t.Fatalf("%v key: Document(%s): %v", typ, key, err)
		}
		if v, _ := d.Get("title"); v.Str != title {
			t.Errorf("%v key: Document(%s) has title %q, want %q", typ, key, v.Str, title)
		}
		if _, err := r.Document(ctx, "7001"); !errors.Is(err, hermes.ErrNotFound) {
			t.Errorf("%v key: Document(7001) error = %v, want ErrNotFound", typ, err)
		}
		if _, err := r.Document(ctx, "seven"); err == nil || errors.Is(err, hermes.ErrNotFound) {
			t.Errorf("%v key: Document(seven) error = %v, want one saying it is no number", typ, err)
		}
	}
}
