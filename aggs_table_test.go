package hermes

import (
	"math"
	"math/rand/v2"
	"testing"
)

// valueTable numbers each distinct value once, densely in order of
// arrival, and keeps the numbers through its resizes: checked against a
// map on values with many collisions in the hash's high bits.
func TestValueTableNumbersValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	tab := newValueTable()
	model := map[uint64]int{}
	var order []uint64
	pick := []func() uint64{
		func() uint64 { return rng.Uint64N(5000) },                        // dense small values
		func() uint64 { return rng.Uint64N(3000) << 40 },                  // only high bits vary
		func() uint64 { return rng.Uint64() },                             // anywhere
		func() uint64 { return []uint64{0, math.MaxUint64}[rng.IntN(2)] }, // the extremes
	}
	for range 100_000 {
		v := pick[rng.IntN(len(pick))]()
		n, seen := model[v]
		if !seen {
			n = len(order)
			model[v] = n
			order = append(order, v)
		}
		if got := tab.index(v); got != n {
			t.Fatalf("index(%d) = %d, want %d", v, got, n)
		}
	}
	if tab.len() != len(order) {
		t.Fatalf("len %d, want %d", tab.len(), len(order))
	}
	for i, v := range order {
		if tab.key(i) != v {
			t.Fatalf("key(%d) = %d, want %d", i, tab.key(i), v)
		}
	}
}
