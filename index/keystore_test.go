package index

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The segments tile the positions: each starts where the one before ends,
// twice its size up to segment lastDoubling, as large after.
func TestSegmentOfTilesThePositions(t *testing.T) {
	const first = 4
	var k int
	var at uint64
	for i := range uint64(3000) {
		gotK, gotAt := segmentOf(i, first)
		if gotK != k || gotAt != at {
			t.Fatalf("position %d: segment %d at %d, want %d at %d", i, gotK, gotAt, k, at)
		}
		if at++; at == segmentSize(k, first) {
			k, at = k+1, 0
		}
	}
}

// Entries read back as pushed, and stay where they are as more come.
func TestEntryLogKeepsEntriesInPlace(t *testing.T) {
	var l entryLog
	first := l.at(l.push(pendingKey{off: 7}))
	for j := uint32(1); j < 10_000; j++ {
		if got := l.push(pendingKey{off: j, lastAdd: uint64(j) * 3}); got != j {
			t.Fatalf("push %d numbered %d", j, got)
		}
	}
	if first != l.at(0) || first.off != 7 {
		t.Fatal("the first entry moved or changed")
	}
	for j := uint32(1); j < l.n; j++ {
		if e := l.at(j); e.off != j || e.lastAdd != uint64(j)*3 {
			t.Fatalf("entry %d reads %+v", j, *e)
		}
	}
	if per := float64(l.held) / float64(l.n); per < 24 || per > 2*24+1 {
		t.Fatalf("%.1f bytes held per entry of 24", per)
	}
}

// Keys of every length, some longer than the first segments, read back
// whole; a key longer than any segment, or whose position would not fit 32
// bits, is refused without a change.
func TestKeyArenaKeepsKeysWhole(t *testing.T) {
	var a keyArena
	rng := rand.New(rand.NewPCG(1, 2))
	type placed struct {
		pos uint32
		key []byte
	}
	var all []placed
	used := 0
	for i := range 3000 {
		n := rng.IntN(40)
		if i%500 == 0 {
			n = 5000 // larger than the first segments
		}
		key := []byte(fmt.Sprintf("%0*d", n, i))[:n]
		pos, ok := a.put(key)
		if !ok {
			t.Fatalf("key %d refused", i)
		}
		all = append(all, placed{pos, key})
		used += n
	}
	for i, p := range all {
		if got := a.get(p.pos, uint32(len(p.key))); !bytes.Equal(got, p.key) {
			t.Fatalf("key %d reads %q, want %q", i, got, p.key)
		}
	}
	if a.held > 3*int64(used) {
		t.Fatalf("%d bytes held for %d of keys", a.held, used)
	}
	next, held := a.next, a.held
	if _, ok := a.put(make([]byte, segmentSize(lastDoubling, firstArenaBytes)+1)); ok || a.next != next || a.held != held {
		t.Fatal("a key longer than any segment was placed")
	}
	a.next = math.MaxUint32 - 5
	if _, ok := a.put(make([]byte, 10)); ok || a.next != math.MaxUint32-5 || a.held != held {
		t.Fatal("a key past 2^32 was placed")
	}
}
