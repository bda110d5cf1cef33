package hermes

import (
	"cmp"
	"math/rand"
	"slices"
	"testing"
)

// TestTopNMatchesSort checks topN against sorting everything and keeping
// the first size, over counts full of ties (broken by index).
func TestTopNMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := range 2000 {
		n := rng.Intn(60)
		counts := make([]int, n)
		for i := range counts {
			counts[i] = rng.Intn(1 + trial%7) // few distinct counts: many ties
		}
		before := func(i, j int) bool { return counts[i] > counts[j] || counts[i] == counts[j] && i < j }
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		slices.SortFunc(all, func(i, j int) int {
			if c := -cmp.Compare(counts[i], counts[j]); c != 0 {
				return c
			}
			return cmp.Compare(i, j)
		})
		size := rng.Intn(n + 3)
		want := all[:min(size, n)]
		if got := topN(size, upTo(n), before); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("counts %v, size %d: topN = %v, want %v", counts, size, got, want)
		}
	}
}
