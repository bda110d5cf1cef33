package segment

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// The term dictionary is built in one pass over a field's terms in byte
// order, so Build sorts each field's terms once, here, and feeds the FST
// and the postings writer from the sorted ids with no copy of a term.

// radixMinTerms is the number of terms from which sortTermIDs radix-sorts;
// below it a comparison sort is as fast and needs no counting tables.
const radixMinTerms = 1024

// prefixedID is a term id with the term's first 8 bytes, big-endian and
// zero-padded, and its length, so that most comparisons need not read the
// term, and a term of up to 8 bytes (most words) is fed to the FST without
// reading the term arena (where sorted order jumps around: a cache miss a
// term).
type prefixedID struct {
	prefix uint64
	id     uint32
	len    uint32
}

// term returns k's bytes: built in buf from the prefix when they fit in it,
// else h's. The result is valid until the next call with buf.
func (k *prefixedID) term(h *termHash, buf *[8]byte) []byte {
	if k.len <= 8 {
		binary.BigEndian.PutUint64(buf[:], k.prefix)
		return buf[:k.len]
	}
	return h.term(k.id)
}

// sortTermIDs returns the ids 0..n-1 of h's terms in the order of their
// bytes, reusing ids' memory (see sortTerms).
func sortTermIDs(h *termHash, n int, ids []uint32) []uint32 {
	keys := sortTerms(h, n, nil)
	ids = slices.Grow(ids[:0], n)
	for _, k := range keys {
		ids = append(ids, k.id)
	}
	return ids
}

// sortTerms returns h's terms 0..n-1 in the order of their bytes, reusing
// keys' memory. It sorts the 8-byte prefixes by radix (half the CPU of a
// comparison sort on realmix vocabularies, BenchmarkBuildParts/sort), then
// each run of equal prefixes by the next 8 bytes (sortFrom).
func sortTerms(h *termHash, n int, keys []prefixedID) []prefixedID {
	keys = slices.Grow(keys[:0], n)[:n]
	for i := range keys {
		t := h.term(uint32(i))
		keys[i] = prefixedID{prefixAt(t, 0), uint32(i), uint32(len(t))}
	}
	var scratch []prefixedID
	if n >= radixMinTerms {
		scratch = make([]prefixedID, n)
	}
	sortFrom(h, keys, 0, scratch)
	return keys
}

// maxRadixOffset bounds sortFrom's recursion: runs that still share their
// first maxRadixOffset bytes are left to the comparison sort.
const maxRadixOffset = 64

// sortFrom sorts keys, whose terms' bytes before off are equal (zero-padded
// alike) and whose prefix holds the 8 bytes at off (prefixAt), by their
// terms; scratch holds at least len(keys) keys when len(keys) reaches
// radixMinTerms. Where those 8 bytes differ, their order is the terms'. A
// run of equal ones is sorted the same way by the next 8 bytes: by radix
// while it is long (the primary keys of one source, as "gcide:gcide-1...",
// share their first 12 bytes), by comparison, then whole terms on a tie,
// once it is short. On return each key's prefix is what it was on entry,
// so that sortTerms's keys hold their terms' first 8 bytes (term reads
// them).
func sortFrom(h *termHash, keys []prefixedID, off int, scratch []prefixedID) {
	if len(keys) < radixMinTerms || off >= maxRadixOffset {
		slices.SortFunc(keys, func(x, y prefixedID) int {
			if x.prefix != y.prefix {
				return cmp.Compare(x.prefix, y.prefix)
			}
			return bytes.Compare(h.term(x.id), h.term(y.id))
		})
		return
	}
	radixSortPrefixes(keys, scratch)
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j].prefix == keys[i].prefix {
			j++
		}
		if run := keys[i:j]; len(run) > 1 {
			these8 := run[0].prefix
			for x := range run {
				run[x].prefix = prefixAt(h.term(run[x].id), off+8)
			}
			sortFrom(h, run, off+8, scratch)
			for x := range run {
				run[x].prefix = these8
			}
		}
		i = j
	}
}

// prefixAt returns term[off:off+8] as a big-endian integer, zero-padded.
// For terms whose bytes before off are equal, the order of these prefixes,
// where they differ, is the order of the terms.
func prefixAt(term []byte, off int) uint64 {
	if len(term) >= off+8 {
		return binary.BigEndian.Uint64(term[off:])
	}
	var p [8]byte
	if off < len(term) {
		copy(p[:], term[off:])
	}
	return binary.BigEndian.Uint64(p[:])
}

// radixSortPrefixes sorts keys by prefix: a least-significant-digit radix
// sort, one byte per pass, that skips the passes whose byte is the same in
// every key (the low bytes of short terms' zero padding, often). scratch
// holds at least len(keys) keys.
func radixSortPrefixes(keys, scratch []prefixedID) {
	if len(keys) < 2 {
		return
	}
	var counts [8][256]int
	for _, k := range keys {
		p := k.prefix
		for d := range counts {
			counts[d][byte(p>>(8*d))]++
		}
	}
	src, dst := keys, scratch[:len(keys)]
	for d := range counts {
		shift := uint(8 * d)
		c := &counts[d]
		if c[byte(src[0].prefix>>shift)] == len(src) {
			continue
		}
		sum := 0
		for i, v := range c {
			c[i] = sum
			sum += v
		}
		for _, k := range src {
			b := byte(k.prefix >> shift)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}
