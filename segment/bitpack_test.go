package segment

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// The simple packer, a value at a time, that appendPackedBlock is checked
// against.

// bitWidth returns the number of bits needed for the largest of vals.
func bitWidth(vals []uint32) uint8 {
	var or uint32
	for _, v := range vals {
		or |= v
	}
	return uint8(bits.Len32(or))
}

// appendPacked appends vals, each taking w bits (<= 32), least significant
// bit first, as packedLen(len(vals), w) bytes. It emits 4 bytes at a time.
func appendPacked(dst []byte, vals []uint32, w uint8) []byte {
	if w == 0 {
		return dst
	}
	var acc uint64 // n pending bits; n < 32 before each value
	var n uint
	for _, v := range vals {
		acc |= uint64(v) << n
		n += uint(w)
		if n >= 32 {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(acc))
			acc >>= 32
			n -= 32
		}
	}
	for ; n > 0; n -= min(n, 8) {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	return dst
}

// TestAppendPackedBytes checks appendPacked's bytes against the format's
// definition (FORMAT.md, post: value i occupies bits [i*w, (i+1)*w) of a
// little-endian bit string), set bit by bit, for every width and for
// lengths that do and do not end on a byte or word boundary; and
// appendPackedBlock's, which writes full blocks, alike.
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
			if n == blockSize {
				got = appendPackedBlock([]byte{0xAA}, (*[blockSize]uint32)(vals), w)
				if got[0] != 0xAA || !bytes.Equal(got[1:], want) {
					t.Fatalf("width %d: appendPackedBlock's bytes differ from the format", w)
				}
			}
		}
	}
}
