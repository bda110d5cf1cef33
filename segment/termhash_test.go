package segment

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"testing"
	"weak"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// TestTermHashModel interns a seeded stream of terms built to stress the
// slot comparisons (terms that differ only by trailing zero bytes, long
// terms that share their first 8 bytes and length, the empty term, terms
// longer than 255 bytes) and checks every id against a map, across growth
// with and without re-hashing the terms.
// drop forgets the field's released tables and their size, so that a
// test starts from none.
func (f *freeTables) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tables, f.hint, f.hintOwner = nil, termTablesHint{}, weak.Pointer[Schema]{}
}

// buildFiles builds b as segment id in memory and returns its files' bytes
// by name.
func buildFiles(t *testing.T, b *Builder, id ID) map[string][]byte {
	t.Helper()
	dir := storage.NewMem()
	if _, err := b.Build(dir, id); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, name := range SegmentFiles(id) {
		data, err := storage.ReadAll(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	return files
}

// newTermHash is newOwnedTermHash for a term hash of no builder.
func newTermHash(field string) *termHash { return newOwnedTermHash(nil, field) }

func TestTermHashModel(t *testing.T) {
	for _, hashedMask := range []uint64{slotHashMask, 63} {
		t.Run(fmt.Sprintf("hashedMask=%d", hashedMask), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(13, hashedMask))
			h := newTermHash("")
			h.hashedMask = hashedMask
			ids := map[string]uint32{}
			var byID []string
			gen := func() []byte {
				switch rng.IntN(6) {
				case 0: // short, trailing zeros
					return append([]byte("ab"), make([]byte, rng.IntN(8))...)
				case 1: // long, same prefix, same length, differing tail
					return fmt.Appendf(nil, "commonpr%04d", rng.IntN(3000))
				case 2: // long, same prefix, differing length
					return append([]byte("commonprefix"), bytes.Repeat([]byte{'x'}, rng.IntN(300))...)
				case 3:
					return nil
				default:
					b := make([]byte, 1+rng.IntN(10))
					for i := range b {
						b[i] = byte(rng.IntN(4)) // small alphabet: many repeats, zeros
					}
					return b
				}
			}
			for range 50000 {
				term := gen()
				id, isNew, ok := h.add(term)
				if !ok {
					t.Fatal("add refused a term")
				}
				want, seen := ids[string(term)]
				if !seen {
					want = uint32(len(byID))
					ids[string(term)] = want
					byID = append(byID, string(term))
				}
				if id != want || isNew == seen {
					t.Fatalf("add(%q) = %d, new %v; want %d, new %v", term, id, isNew, want, !seen)
				}
			}
			if h.len() != len(byID) {
				t.Fatalf("len %d, want %d", h.len(), len(byID))
			}
			for id, term := range byID {
				if got := string(h.term(uint32(id))); got != term {
					t.Fatalf("term(%d) = %q, want %q", id, got, term)
				}
			}
			if 3*len(h.slots) < 4*h.len() {
				t.Fatalf("%d slots for %d terms", len(h.slots), h.len())
			}
		})
	}
}

// TestBuilderReusesTermTables builds the same documents twice, the second
// time on the first builder's term tables once Build has released them
// (grown, and with old bytes in the arenas), and expects the same files.
// It hands the tables over itself: sync.Pool may drop what it is given.
func TestBuilderReusesTermTables(t *testing.T) {
	s := corpusSchema(t)
	docs := corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 600), 3)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := NewID()
	var released []*termTables
	var files [2]map[string][]byte
	for round := range files {
		b := NewBuilder(s, toks)
		for i, fx := range b.indexed {
			if round == 1 {
				fx.hash = newTermHashOn(fx.field.Name, released[i])
			}
		}
		for _, d := range docs {
			if err := b.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		if round == 0 {
			for _, fx := range b.indexed {
				h := fx.hash
				released = append(released, &termTables{slots: h.slots, arena: h.arena, ends: h.ends})
			}
		}
		files[round] = buildFiles(t, b, id)
	}
	for name, data := range files[0] {
		if !bytes.Equal(files[1][name], data) {
			t.Errorf("%s differs when built on reused term tables", name)
		}
	}
	for _, tt := range released {
		for _, slot := range tt.slots {
			if slot.id1 != 0 {
				t.Fatal("released term tables still have occupied slots")
			}
		}
	}
}

// TestNextBuilderTakesReleasedTermTables follows a field's term tables
// from builder to builder: a failed Build releases them too; the next
// builder, of a schema with one more field, takes them for the fields it
// shares; once the collector has freed them, the next is sized for the
// terms of the last released. Each builds the same files as a builder on
// new tables.
func TestNextBuilderTakesReleasedTermTables(t *testing.T) {
	// The released tables are held weakly: no collection unless the test
	// asks for one.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	dropAll := func() {
		freeTermTables.Range(func(_, f any) bool {
			f.(*freeTables).drop()
			return true
		})
	}
	defer dropAll()
	s1 := corpusSchema(t)
	s2, err := NewSchema(append(s1.Fields(), Field{Name: "body", Type: TypeText, Indexed: true})...)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRealmix(t, "testdata/realmix-head.jsonl.gz", 300)
	docs1, docs2 := corpusDocs(recs, 5), corpusDocs(recs, 5)
	for i, d := range docs2 {
		d.AddString("body", recs[len(recs)-1-i][2])
	}
	tokens := func(s *Schema) map[string]analysis.Tokenizer {
		toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return toks
	}
	toks1, toks2 := tokens(s1), tokens(s2)
	id := NewID()
	// add adds docs to b and returns each field's slots, before a Build
	// releases them.
	add := func(b *Builder, docs []*Document) map[string][]termSlot {
		for _, d := range docs {
			if err := b.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		slots := map[string][]termSlot{}
		for _, fx := range b.indexed {
			slots[fx.field.Name] = fx.hash.slots
		}
		return slots
	}
	// build adds docs2 to b and returns the files it builds, and each
	// field's slots before Build released them.
	build := func(b *Builder) (map[string][]byte, map[string][]termSlot) {
		slots := add(b, docs2)
		return buildFiles(t, b, id), slots
	}
	sameFiles := func(what string, got, want map[string][]byte) {
		t.Helper()
		for name, data := range want {
			if !bytes.Equal(got[name], data) {
				t.Errorf("%s: %s differs from the one built on new tables", what, name)
			}
		}
	}

	dropAll()
	want, _ := build(NewBuilder(s2, toks2))
	dropAll()

	// A failed Build of schema s1.
	b1 := NewBuilder(s1, toks1)
	failed := add(b1, docs1)
	dir := storage.NewFaulty(1)
	dir.FailAfter(0)
	if _, err := b1.Build(dir, id); !errors.Is(err, storage.ErrInjected) {
		t.Fatalf("Build on a failing directory: %v", err)
	}

	// The next builder, of s2, takes the failed builder's tables (empty).
	b2 := NewBuilder(s2, toks2)
	for _, fx := range b2.indexed {
		h, old := fx.hash, failed[fx.field.Name]
		switch {
		case old == nil && len(h.slots) != 16:
			t.Errorf("new field %q: %d slots, want 16", fx.field.Name, len(h.slots))
		case old != nil && &h.slots[0] != &old[0]:
			t.Errorf("field %q: new slots, not the released ones", fx.field.Name)
		case h.len() != 0 || len(h.arena) != 0:
			t.Errorf("field %q: %d terms in a new term hash", fx.field.Name, h.len())
		}
		for _, s := range h.slots {
			if s != (termSlot{}) {
				t.Fatalf("field %q: released slots are not empty", fx.field.Name)
			}
		}
	}
	got, released := build(b2)
	sameFiles("on the failed builder's tables", got, want)

	// Once collected, the next tables are new, sized for the terms of
	// the last: the same documents do not grow them.
	runtime.GC()
	runtime.GC()
	b3 := NewBuilder(s2, toks2)
	presized := map[string]int{}
	for _, fx := range b3.indexed {
		h, old := fx.hash, released[fx.field.Name]
		if &h.slots[0] == &old[0] || len(h.slots) < 16 || len(h.slots) > len(old) {
			t.Errorf("field %q: %d slots at %p after a collection, want at most %d new ones", fx.field.Name, len(h.slots), &h.slots[0], len(old))
		}
		presized[fx.field.Name] = len(h.slots)
	}
	got, grown := build(b3)
	for name, n := range presized {
		if len(grown[name]) != n {
			t.Errorf("field %q: the presized table grew from %d to %d slots", name, n, len(grown[name]))
		}
	}
	sameFiles("on tables sized like the last", got, want)

	// After a small segment, new tables are small again.
	b4 := NewBuilder(s2, toks2)
	if err := b4.Add(docs2[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := b4.Build(storage.NewMem(), id); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	for _, fx := range NewBuilder(s2, toks2).indexed {
		if len(fx.hash.slots) > 1024 {
			t.Errorf("field %q: %d slots after a segment of one document", fx.field.Name, len(fx.hash.slots))
		}
	}
}

// add is addSlot returning the term's id, for tests that index terms
// by id.
func (h *termHash) add(term []byte) (id uint32, isNew, ok bool) {
	i, isNew, ok := h.addSlot(term)
	if !ok {
		return 0, false, false
	}
	return h.slots[i].id1 - 1, isNew, true
}
