package hermes

import (
	"iter"
	"slices"
)

// topN returns the at most size items of items that come first in the
// order before (a strict total order: before(i, j) says item i precedes
// item j), in that order. It keeps the best size items met so far in a
// heap whose root is the worst of them, so a terms aggregation over n
// distinct values costs O(n log size) comparisons, not the O(n log n) of
// sorting them all, and memory for size items only.
func topN(size int, items iter.Seq[int], before func(i, j int) bool) []int {
	if size <= 0 {
		return nil
	}
	// heap[0] is the kept item that comes last: after(heap[parent],
	// heap[child]) never fails, i.e. a parent does not precede its child.
	heap := make([]int, 0, min(size, 1024))
	down := func(p int) {
		for {
			c := 2*p + 1
			if c >= len(heap) {
				return
			}
			if c+1 < len(heap) && before(heap[c], heap[c+1]) {
				c++ // the later child
			}
			if !before(heap[p], heap[c]) {
				return
			}
			heap[p], heap[c] = heap[c], heap[p]
			p = c
		}
	}
	for i := range items {
		if len(heap) < size {
			heap = append(heap, i)
			for c := len(heap) - 1; c > 0; {
				p := (c - 1) / 2
				if !before(heap[p], heap[c]) {
					break
				}
				heap[p], heap[c] = heap[c], heap[p]
				c = p
			}
			continue
		}
		if before(i, heap[0]) {
			heap[0] = i
			down(0)
		}
	}
	slices.SortFunc(heap, func(i, j int) int {
		switch {
		case before(i, j):
			return -1
		case before(j, i):
			return 1
		}
		return 0
	})
	return heap
}

// upTo yields 0 .. n-1.
func upTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}
