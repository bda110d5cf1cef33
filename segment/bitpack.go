package segment

import (
	"encoding/binary"
	"slices"
)

// blockSize is the number of documents in a full postings block.
const blockSize = 128

// packedLen is the byte length of n values packed at width w.
func packedLen(n int, w uint8) int { return (n*int(w) + 7) / 8 }

// appendPackedBlock appends a full block's values, each taking w bits
// (<= 32), least significant bit first (FORMAT.md, post): 16*w bytes.
// 128 values fill 2*w words of 64 bits exactly, so it writes whole words.
func appendPackedBlock(dst []byte, vals *[blockSize]uint32, w uint8) []byte {
	if w == 0 {
		return dst
	}
	n := 16 * int(w)
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	var acc uint64 // k pending bits, k < 64
	var k uint
	j := 0
	for _, v := range vals {
		acc |= uint64(v) << k
		k += uint(w)
		if k >= 64 {
			binary.LittleEndian.PutUint64(out[j:], acc)
			j += 8
			k -= 64
			acc = uint64(v) >> (uint(w) - k)
		}
	}
	return dst[:len(dst)+n]
}

// unpack decodes len(out) (<= blockSize) values of width w (<= 32) from
// src, which must hold at least packedLen(len(out), w) bytes (the caller
// checks).
func unpack(out []uint32, src []byte, w uint8) {
	if w == 0 {
		clear(out)
		return
	}
	// Copy into a padded buffer so every value is one unaligned 8-byte load.
	var buf [blockSize*4 + 8]byte
	copy(buf[:], src[:packedLen(len(out), w)])
	mask := uint64(1)<<w - 1
	off := uint(0)
	for i := range out {
		out[i] = uint32(binary.LittleEndian.Uint64(buf[off>>3:]) >> (off & 7) & mask)
		off += uint(w)
	}
}

// getBits reads the w-bit value (w <= 64) at bit offset off of src; src
// must hold 8 bytes past the last value (fast columns are padded so).
func getBits(src []byte, off uint64, w uint8) uint64 {
	if w == 0 {
		return 0
	}
	p := off / 8
	shift := off % 8
	v := binary.LittleEndian.Uint64(src[p:]) >> shift
	if uint64(w)+shift > 64 {
		v |= uint64(src[p+8]) << (64 - shift)
	}
	if w == 64 {
		return v
	}
	return v & (1<<w - 1)
}

// appendPacked64 appends vals at width w (<= 64), least significant bit
// first.
func appendPacked64(dst []byte, vals []uint64, w uint8) []byte {
	if w == 0 {
		return dst
	}
	var acc uint64 // holds n pending bits
	var n uint
	for _, v := range vals {
		if w < 64 {
			v &= 1<<w - 1
		}
		acc |= v << n
		room := 64 - n
		if uint(w) < room {
			n += uint(w)
		} else {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			if room < 64 {
				acc = v >> room
			} else {
				acc = 0
			}
			n = uint(w) - room
		}
	}
	for n > 0 {
		dst = append(dst, byte(acc))
		acc >>= 8
		if n < 8 {
			n = 0
		} else {
			n -= 8
		}
	}
	return dst
}
