package segment

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/storage"
)

// FuzzStoreReader replaces a segment's store payload (under a valid file
// checksum, and with the size in meta updated, so that the damage gets
// past every check but the store's own) by fuzzed bytes: Open, reading
// every document and merging the segment must never panic; each error
// names the store file (a merge's wraps storage.ErrCorrupt), and a merge
// that succeeds keeps every document that read back. The seeds are the
// stores of each codec, with a stored-only field (a merge rewrites every
// record) and without one (a merge copies the blocks still compressed).
func FuzzStoreReader(f *testing.F) {
	type base struct {
		s   *Schema
		dir storage.Directory
		id  ID
	}
	var bases []base
	var fields []Field
	for _, fd := range corpusSchema(f).Fields() {
		if fd.Name != "raw" { // stored only
			fields = append(fields, fd)
		}
	}
	noRaw, err := NewSchema(fields...)
	if err != nil {
		f.Fatal(err)
	}
	docs := generatedDocs(60, 71) // several blocks, no raw values
	for _, s := range []*Schema{corpusSchema(f), noRaw} {
		for _, c := range storedCodecs {
			sc := s.WithStoredCompression(c)
			dir := storage.NewMem()
			id, _ := buildSegment(f, sc, docs, dir)
			payload, _ := readPayload(f, dir, fileName(id, kindStore), kindStore)
			f.Add(uint8(len(bases)), payload)
			bases = append(bases, base{sc, dir, id})
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		b := bases[int(which)%len(bases)]
		name := fileName(b.id, kindStore)
		dir := withStorePayload(t, b.dir, b.id, func([]byte) []byte { return payload })
		r, err := Open(dir, b.id, b.s)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("Open: %v, does not name %s", err, name)
			}
			return
		}
		defer r.Close()
		read := make([]*Document, r.NumDocs())
		for doc := range r.NumDocs() {
			d, err := r.Document(doc)
			if err != nil {
				if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), name) {
					t.Fatalf("Document(%d): %v, want ErrCorrupt naming %s", doc, err, name)
				}
				continue
			}
			read[doc] = d
		}
		meta, err := Merge(context.Background(), dir, b.s, NewID(), []*Reader{r})
		if err != nil {
			if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), name) {
				t.Fatalf("Merge: %v, want ErrCorrupt naming %s", err, name)
			}
			return
		}
		m, err := Open(dir, meta.ID, b.s)
		if err != nil {
			t.Fatalf("the merged segment does not open: %v", err)
		}
		defer m.Close()
		for doc, want := range read {
			if want == nil {
				continue
			}
			got, err := m.Document(uint32(doc))
			if err != nil || !docsEqual(got, want) {
				t.Fatalf("merged Document(%d) = %v, %v; the source read %v", doc, got, err, want)
			}
		}
	})
}
