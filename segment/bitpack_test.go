package segment

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestAppendPackedBytes checks appendPacked's bytes against the format's
// definition (FORMAT.md, post: value i occupies bits [i*w, (i+1)*w) of a
// little-endian bit string), set bit by bit, for every width and for
// lengths that do and do not end on a byte or word boundary.
func TestAppendPackedBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2))
	for w := uint8(0); w <= 32; w++ {
		for _, n := range []int{0, 1, 3, 7, 8, 33, blockSize} {
			vals := make([]uint32, n)
			want := make([]byte, packedLen(n, w))
			for i := range vals {
				vals[i] = uint32(rng.Uint64() & (1<<w - 1))
				for bit := range int(w) {
					if vals[i]>>bit&1 != 0 {
						pos := i*int(w) + bit
						want[pos/8] |= 1 << (pos % 8)
					}
				}
			}
			got := appendPacked([]byte{0xAA}, vals, w)
			if got[0] != 0xAA || !bytes.Equal(got[1:], want) {
				t.Fatalf("width %d, %d values: packed bytes differ from the format", w, n)
			}
		}
	}
}
