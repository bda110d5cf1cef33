package hermes

import "math/bits"

// valueTable numbers distinct u64 values densely (0, 1, 2, ... in order of
// arrival) for the aggregations that count by value: an open-addressing
// hash table with linear probing, so counting a value costs a multiply and
// a probe or two, never an allocation. Callers keep per-value counters in
// slices indexed by the number.
type valueTable struct {
	slots []uint32 // 0: empty; else 1 + the value's number
	keys  []uint64 // by number
	shift uint8    // 64 - log2(len(slots))
}

func newValueTable() *valueTable {
	t := &valueTable{}
	t.resize(64)
	return t
}

func (t *valueTable) len() int { return len(t.keys) }

// key returns the value numbered i.
func (t *valueTable) key(i int) uint64 { return t.keys[i] }

// index returns v's number, numbering it if it is new.
func (t *valueTable) index(v uint64) int {
	mask := uint64(len(t.slots) - 1)
	// Fibonacci hashing: the high bits of v times 2^64/phi spread runs of
	// close values over the table.
	for i := (v * 0x9e3779b97f4a7c15) >> t.shift; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			break
		}
		if t.keys[s-1] == v {
			return int(s - 1)
		}
	}
	t.keys = append(t.keys, v)
	if 2*len(t.keys) > len(t.slots) { // load factor at most 1/2
		t.resize(2 * len(t.slots))
	} else {
		t.put(v, len(t.keys))
	}
	return len(t.keys) - 1
}

// put stores slot s for v, which is not in the table.
func (t *valueTable) put(v uint64, s int) {
	mask := uint64(len(t.slots) - 1)
	i := (v * 0x9e3779b97f4a7c15) >> t.shift
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = uint32(s)
}

// resize rebuilds the slots at size n, a power of two.
func (t *valueTable) resize(n int) {
	t.slots = make([]uint32, n)
	t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	for i, k := range t.keys {
		t.put(k, i+1)
	}
}
