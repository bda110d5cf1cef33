package index

import (
	"math"
	"math/bits"
	"unsafe"
)

// A shard's pending keys grow without copying. Their entries and bytes live
// in segments, so that adding one never moves the ones before it: a
// slice's append copies everything it holds when it grows, and under the
// shard's lock, which every add of the shard's keys waits for. The first
// segments double in size, so that a few keys hold little; from the
// (lastDoubling+1)th on they are all as large, so that many keys waste at
// most one segment (doubling to the end would waste up to half).
const lastDoubling = 6

// segmentOf returns the segment that holds position i, when the first
// segment holds first positions, each next one twice as many up to
// segment lastDoubling, and the ones after as many as that one; and i's
// place in it.
func segmentOf(i, first uint64) (k int, at uint64) {
	if end := first * (1<<(lastDoubling+1) - 1); i >= end {
		size := first << lastDoubling
		return lastDoubling + 1 + int((i-end)/size), (i - end) % size
	}
	k = bits.Len64(i/first+1) - 1
	return k, i - first*(1<<k-1)
}

// segmentSize is the size of segment k.
func segmentSize(k int, first uint64) uint64 { return first << min(k, lastDoubling) }

// entryLog is a shard's entries, numbered from 0 in the order they came.
type entryLog struct {
	segs [][]pendingKey
	n    uint32 // how many
	held int64  // the segments' bytes
}

const firstEntries = 64

func (l *entryLog) at(j uint32) *pendingKey {
	k, at := segmentOf(uint64(j), firstEntries)
	return &l.segs[k][at]
}

// push appends e and returns its number; l.n must be below MaxUint32.
func (l *entryLog) push(e pendingKey) uint32 {
	j := l.n
	k, at := segmentOf(uint64(j), firstEntries)
	if k == len(l.segs) {
		size := segmentSize(k, firstEntries)
		l.segs = append(l.segs, make([]pendingKey, size))
		l.held += int64(unsafe.Sizeof(pendingKey{}) * uintptr(size))
	}
	l.segs[k][at] = e
	l.n++
	return j
}

// keyArena is a shard's key bytes, each key whole in one segment, at a
// position below 2^32.
type keyArena struct {
	segs [][]byte
	next uint64 // the position of the next key
	held int64  // the segments' bytes
}

const firstArenaBytes = 1024

// put copies key in and returns its position, or false if the key is
// larger than a segment can be or its position would not fit 32 bits. A
// key that does not fit in the rest of the current segment goes to the
// next one large enough; the segments skipped are never allocated.
func (a *keyArena) put(key []byte) (uint32, bool) {
	n := uint64(len(key))
	if n > segmentSize(lastDoubling, firstArenaBytes) {
		return 0, false
	}
	pos := a.next
	k, at := segmentOf(pos, firstArenaBytes)
	for at+n > segmentSize(k, firstArenaBytes) {
		pos += segmentSize(k, firstArenaBytes) - at
		k, at = k+1, 0
	}
	if pos+n > math.MaxUint32 {
		return 0, false
	}
	for len(a.segs) <= k {
		a.segs = append(a.segs, nil)
	}
	if a.segs[k] == nil {
		size := segmentSize(k, firstArenaBytes)
		a.segs[k] = make([]byte, size)
		a.held += int64(size)
	}
	copy(a.segs[k][at:], key)
	a.next = pos + n
	return uint32(pos), true
}

// get returns the n bytes of the key at pos.
func (a *keyArena) get(pos, n uint32) []byte {
	k, at := segmentOf(uint64(pos), firstArenaBytes)
	end := at + uint64(n)
	return a.segs[k][at:end:end]
}
