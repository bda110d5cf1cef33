package segment

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// TestTermHashModel interns a seeded stream of terms built to stress the
// slot comparisons (terms that differ only by trailing zero bytes, long
// terms that share their first 8 bytes and length, the empty term, terms
// longer than 255 bytes) and checks every id against a map, across growth
// with and without re-hashing the terms.
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
		dir := storage.NewMem()
		if _, err := b.Build(dir, id); err != nil {
			t.Fatal(err)
		}
		files[round] = map[string][]byte{}
		for _, name := range SegmentFiles(id) {
			data, err := storage.ReadAll(dir, name)
			if err != nil {
				t.Fatal(err)
			}
			files[round][name] = data
		}
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
