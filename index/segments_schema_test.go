package index

import (
	"log/slog"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// A grown schema reopens segments for new holders, while holders of the
// older opens keep theirs; the files go only when the last of every open
// is released.
func TestSegmentsSetSchemaReopensForNewHoldersOnly(t *testing.T) {
	dir := storage.NewMem()
	old, err := segment.NewSchema(segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	grown, err := segment.NewSchema(old.Fields()[0], segment.Field{Name: "n", Type: segment.TypeI64, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	b := segment.NewBuilder(old, nil)
	if err := b.Add(new(segment.Document).AddString("id", "a")); err != nil {
		t.Fatal(err)
	}
	id := segment.NewID()
	m, err := b.Build(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	info := storage.SegmentInfo{ID: id.String(), NumDocs: m.NumDocs, Files: m.Files, Bytes: m.Bytes}
	meta := &storage.Metadata{Generation: 1, Segments: []storage.SegmentInfo{info}}
	s := NewSegments(dir, old, meta, slog.New(slog.DiscardHandler))
	defer s.Close()

	r1, err := s.Acquire(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSchema(old); err != nil { // no change
		t.Fatal(err)
	}
	if err := s.SetSchema(grown); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSchema(old); err == nil {
		t.Fatal("SetSchema back to the older schema succeeded")
	}
	r2, err := s.Acquire(info)
	if err != nil {
		t.Fatal(err)
	}
	if r1 == r2 || !r1.Schema().Equal(old) || !r2.Schema().Equal(grown) {
		t.Fatalf("opens: r1 %p under %d fields, r2 %p under %d; want two, under the old and the grown schema",
			r1, r1.Schema().NumFields(), r2, r2.Schema().NumFields())
	}
	if _, err := r2.Fast("n"); err != nil {
		t.Fatalf("new field in the reopened segment: %v", err)
	}
	// Retire the segment: its files stay while either open is held.
	s.Commit(&storage.Metadata{Generation: 2})
	s.Release(info, r2)
	if !s.Held(info.ID) {
		t.Fatal("segment not held while an open under the old schema is")
	}
	if names, _ := dir.List(); len(names) == 0 {
		t.Fatal("files deleted while a reader holds them")
	}
	s.Release(info, r1)
	if s.Held(info.ID) {
		t.Fatal("segment still held after every open was released")
	}
	if names, _ := dir.List(); len(names) != 0 {
		t.Fatalf("files left after the last release: %v", names)
	}
}
