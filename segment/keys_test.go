package segment

import (
	"testing"

	"github.com/hermes-search/hermes-go/storage"
)

// TestKeyColumn checks that every kind of primary key comes back from the
// key column as the value the document was added with, and that a schema
// without one gives nil keys.
func TestKeyColumn(t *testing.T) {
	cases := []struct {
		typ FieldType
		add func(d *Document, i int)
		val func(i int) FieldValue
	}{
		{TypeKeyword, func(d *Document, i int) { d.AddString("k", string(rune('a'+i%26))+"-key") },
			func(i int) FieldValue {
				return FieldValue{Field: "k", Kind: KindString, Str: string(rune('a'+i%26)) + "-key"}
			}},
		{TypeU64, func(d *Document, i int) { d.AddU64("k", uint64(i)*1e15) },
			func(i int) FieldValue { return FieldValue{Field: "k", Kind: KindU64, U64: uint64(i) * 1e15} }},
		{TypeI64, func(d *Document, i int) { d.AddI64("k", int64(i)-20) },
			func(i int) FieldValue { return FieldValue{Field: "k", Kind: KindI64, I64: int64(i) - 20} }},
	}
	for _, c := range cases {
		t.Run(c.typ.String(), func(t *testing.T) {
			s, err := NewSchema(Field{Name: "k", Type: c.typ, Indexed: true, Primary: true},
				Field{Name: "body", Type: TypeText, Indexed: true, Stored: true})
			if err != nil {
				t.Fatal(err)
			}
			var docs []*Document
			for i := 0; i < 40; i++ {
				d := &Document{}
				c.add(d, i)
				docs = append(docs, d.AddString("body", "some words"))
			}
			dir := storage.NewMem()
			id, _ := buildSegment(t, s, docs, dir)
			r, err := Open(dir, id, s)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			f, _ := s.Primary()
			for i := range docs {
				key, err := r.Key(uint32(i))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := KeyValue(f, key), c.val(i); got.Str != want.Str || got.U64 != want.U64 || got.I64 != want.I64 || got.Kind != want.Kind || got.Field != want.Field {
					t.Fatalf("doc %d: key %+v, want %+v", i, got, want)
				}
			}
		})
	}
	s, err := NewSchema(Field{Name: "body", Type: TypeText, Indexed: true, Stored: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := storage.NewMem()
	id, _ := buildSegment(t, s, []*Document{new(Document).AddString("body", "x")}, dir)
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if key, err := r.Key(0); key != nil || err != nil {
		t.Fatalf("Key without a primary key = %q, %v; want nil, nil", key, err)
	}
}
