// Package pkindex holds the primary-key bloom filter of an index: the fast
// "certainly not a duplicate" answer of primary-key dedup.
//
// A key the filter does not contain is in no committed segment; a key it
// may contain is confirmed against the segments' term dictionaries. The
// filter never gives a false negative for a key added to it, so dedup stays
// exact; false positives only cost a term-dictionary lookup.
//
// The filter is persisted in pk_bloom.bin (see Save for the layout) with the
// IDs of the segments whose keys it holds, so a reopened writer extends it
// with the keys of new segments only (see Sync) instead of reading every
// segment's keys. The file is a cache: metadata.json stays the truth, and a
// missing, stale or corrupt file is rebuilt from the segments.
package pkindex

import (
	"slices"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"
)

// BitsPerKey is the filter's size per key at full capacity; with
// NumHashes hash functions it gives about 0.8% false positives when full,
// and far fewer at the expected load (see New).
const BitsPerKey = 10

// NumHashes is the number of hash functions (bit positions) per key, the
// optimum for BitsPerKey: round(10 * ln 2).
const NumHashes = 7

// minCapacity is the smallest capacity New gives a filter, so that a new
// index does not outgrow its filter on its first commits.
const minCapacity = 1024

// maxLayers bounds the layers a loaded file may declare. Each layer doubles
// the capacity, so 48 of them are more than any index needs.
const maxLayers = 48

// Filter is a bloom filter of primary keys plus the IDs of the segments
// whose keys it holds.
//
// Capacity and growth: New sizes the filter for twice the expected keys at
// BitsPerKey bits each, so at the expected load it has 20 bits per key
// (about 0.02% false positives) and at full capacity 10 (about 0.8%). A
// bloom filter cannot be resized without its keys, which it does not keep;
// so when its distinct keys reach its capacity, Add opens a new layer of
// twice the capacity, and MayContain asks every layer, so each full layer
// adds its ~0.8% of false positives. A layered filter is over capacity: Sync and Refresh rebuild it from the segments' keys into a
// single layer sized for the keys then present, so layers are short-lived.
//
// A Filter is safe for concurrent use: MayContain takes a read lock, Add
// and MarkCovered a write lock. Use New or Load; the zero Filter is not
// usable.
type Filter struct {
	mu      sync.RWMutex
	layers  []*layer // at least one; the last one takes new keys
	covered map[string]struct{}
}

// layer is one bloom filter of a Filter.
type layer struct {
	bf       *bloom.BloomFilter
	capacity uint64 // keys the layer takes before the next one opens
	keys     uint64 // distinct keys added: Adds that set at least one bit
}

// New returns an empty filter for about expectedKeys keys, with room for
// twice as many (at least 1024) before it grows.
func New(expectedKeys uint) *Filter {
	return &Filter{
		layers:  []*layer{newLayer(max(2*uint64(expectedKeys), minCapacity))},
		covered: make(map[string]struct{}),
	}
}

func newLayer(capacity uint64) *layer {
	bits := (capacity*BitsPerKey + 63) &^ 63 // whole 64-bit words
	return &layer{bf: bloom.New(uint(bits), NumHashes), capacity: capacity}
}

// Add adds key to the filter. Adding a key already present (or a false
// positive) changes nothing and does not count towards the capacity.
func (f *Filter) Add(key []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	last := len(f.layers) - 1
	for _, l := range f.layers[:last] {
		if l.bf.Test(key) {
			return
		}
	}
	l := f.layers[last]
	if l.keys >= l.capacity {
		if l.bf.Test(key) {
			return
		}
		l = newLayer(2 * l.capacity)
		f.layers = append(f.layers, l)
	}
	if !l.bf.TestOrAdd(key) {
		l.keys++
	}
}

// MayContain reports whether key may have been added. false is certain:
// the key was never added. true may be a false positive.
func (f *Filter) MayContain(key []byte) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, l := range f.layers {
		if l.bf.Test(key) {
			return true
		}
	}
	return false
}

// Covers returns, sorted, the IDs of the segments whose keys are all in the
// filter. It may name segments since merged away: their keys remain and
// only cost false positives.
func (f *Filter) Covers() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.coversLocked()
}

func (f *Filter) coversLocked() []string {
	out := make([]string, 0, len(f.covered))
	for id := range f.covered {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// MarkCovered records that every key of the given segments has been added.
// Call it only after adding them all: a covered segment's keys are never
// read again by Sync.
func (f *Filter) MarkCovered(segmentIDs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range segmentIDs {
		f.covered[id] = struct{}{}
	}
}

// Stats describes a filter's size and load.
type Stats struct {
	Keys     uint64 // distinct keys added (a few are missed as false positives)
	Capacity uint64 // keys the filter takes at BitsPerKey before it grows
	Layers   int    // more than 1: over capacity, to be rebuilt
	Bytes    int64  // size of the bit arrays
	Covered  int    // segment IDs covered
}

// Stats returns the filter's current size and load.
func (f *Filter) Stats() Stats {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s := Stats{Layers: len(f.layers), Covered: len(f.covered)}
	for _, l := range f.layers {
		s.Keys += l.keys
		s.Capacity += l.capacity
		s.Bytes += int64(l.bf.Cap() / 8)
	}
	return s
}

// overCapacity reports whether the filter has grown past its first layer.
func (f *Filter) overCapacity() bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.layers) > 1
}
