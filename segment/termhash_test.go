package segment

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
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
			if len(h.slots) < 2*h.len() {
				t.Fatalf("%d slots for %d terms", len(h.slots), h.len())
			}
		})
	}
}

// TestBuilderReusesTermTables builds the same documents again on pooled term
// tables (already grown and full of old bytes) and requires the same files.
// The pool is a sync.Pool, which may drop an item (under -race it drops one
// Put in four on purpose), so the test builds until a builder has started
// on reused tables, a few rounds at most.
func TestBuilderReusesTermTables(t *testing.T) {
	s := corpusSchema(t)
	docs := corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 600), 3)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// No collection may empty the pools between the builders.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	id := NewID()
	build := func(b *Builder) map[string][]byte {
		for _, d := range docs {
			if err := b.Add(d); err != nil {
				t.Fatal(err)
			}
		}
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
	first := build(NewBuilder(s, toks))
	for range 20 {
		b := NewBuilder(s, toks)
		reused := len(b.indexed[0].hash.slots) > 16
		files := build(b)
		if !reused {
			continue
		}
		for name, data := range first {
			if !bytes.Equal(files[name], data) {
				t.Errorf("%s differs when built on reused term tables", name)
			}
		}
		return
	}
	t.Fatal("no builder in 20 got the term tables of the one before")
}
