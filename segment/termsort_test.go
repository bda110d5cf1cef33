package segment

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortTermIDs checks the radix sort of term ids against a comparison
// sort of the terms, on vocabularies that exercise its edge cases: terms
// shorter than, as long as and longer than the 8-byte prefix, shared
// prefixes, zero bytes (which the prefix's padding also holds), the empty
// term, sizes on both sides of radixMinTerms, and runs of more than
// radixMinTerms terms that share their first 8 and 16 bytes (sorted by
// radix again, on their next 8 bytes), with zero bytes there too.
func TestSortTermIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	for _, n := range []int{0, 1, 2, 100, radixMinTerms - 1, radixMinTerms, 5000, 12000} {
		h := newTermHash("")
		var terms [][]byte
		for len(terms) < n {
			var term []byte
			switch rng.IntN(5) {
			case 0: // short, from a tiny alphabet, so with zero bytes and repeats
				term = make([]byte, rng.IntN(9))
				for i := range term {
					term[i] = byte(rng.IntN(3))
				}
			case 1: // a long shared stem
				term = append([]byte("internationali"), byte('a'+rng.IntN(26)), byte('a'+rng.IntN(26)))
			case 2: // 8 bytes, like numeric terms
				term = []byte{0, 0, 0, 0, byte(rng.IntN(256)), byte(rng.IntN(256)), 0, byte(rng.IntN(256))}
			case 3: // a stem of 20 bytes, then up to 12 from a tiny alphabet
				term = []byte("internationalization")
				for range rng.IntN(13) {
					term = append(term, byte(rng.IntN(3)))
				}
			default:
				term = make([]byte, 1+rng.IntN(20))
				for i := range term {
					term[i] = byte('a' + rng.IntN(26))
				}
			}
			if _, isNew, ok := h.add(term); !ok {
				t.Fatal("term hash full")
			} else if isNew {
				terms = append(terms, term)
			}
		}
		want := make([]uint32, n)
		for i := range want {
			want[i] = uint32(i)
		}
		slices.SortFunc(want, func(x, y uint32) int { return bytes.Compare(terms[x], terms[y]) })
		got := sortTermIDs(h, n, []uint32{7, 7, 7})
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: sorted ids differ from a comparison sort of the terms", n)
		}
		// The terms as Build feeds them to the FST, most from their prefix.
		var buf [8]byte
		for i, k := range sortTerms(h, n, nil) {
			if term := k.term(h, &buf); !bytes.Equal(term, terms[want[i]]) {
				t.Fatalf("n=%d: term %d is %q, want %q", n, i, term, terms[want[i]])
			}
		}
	}
}
