package query

import "sort"

// topK keeps the k best hits under the order: higher score first, then
// lower segment, then lower doc. The order is total, so the top k of a set
// of matches is unique: exhaustive and pruned search agree exactly.
type topK struct {
	k    int
	heap []Hit // min-heap: heap[0] is the worst kept hit
}

// worse reports whether a ranks after b.
func worse(a, b *Hit) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	if a.Segment != b.Segment {
		return a.Segment > b.Segment
	}
	return a.Doc > b.Doc
}

func (t *topK) full() bool { return len(t.heap) == t.k }

// threshold is the score a new hit must beat once the heap is full. Hits
// arrive in (segment, doc) order, so a later hit that only ties the worst
// kept one ranks after it and can be skipped.
func (t *topK) threshold() float32 { return t.heap[0].Score }

func (t *topK) offer(h Hit) {
	if len(t.heap) < t.k {
		t.heap = append(t.heap, h)
		for i := len(t.heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(&t.heap[i], &t.heap[p]) {
				break
			}
			t.heap[i], t.heap[p] = t.heap[p], t.heap[i]
			i = p
		}
		return
	}
	if !worse(&t.heap[0], &h) {
		return
	}
	t.heap[0] = h
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(t.heap) && worse(&t.heap[l], &t.heap[m]) {
			m = l
		}
		if r < len(t.heap) && worse(&t.heap[r], &t.heap[m]) {
			m = r
		}
		if m == i {
			break
		}
		t.heap[i], t.heap[m] = t.heap[m], t.heap[i]
		i = m
	}
}

// sorted returns the hits best first.
func (t *topK) sorted() []Hit {
	out := append([]Hit(nil), t.heap...)
	sort.Slice(out, func(i, j int) bool { return worse(&out[j], &out[i]) })
	return out
}
