package actors

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// A docQueue cuts the same batches as a flat slice of the same documents
// would (at most maxDocs, none past the one that reaches maxBytes), in
// order, whatever the groups they came in; batches inside a group are
// slices of it, and a queue emptied lets its groups go.
func TestDocQueueBatchesLikeAFlatQueue(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	size := func(d []byte) int { return len(d) }
	for round := 0; round < 300; round++ {
		var q docQueue
		var flat [][]byte
		next := 0
		maxDocs, maxBytes := 1+rnd.IntN(20), 1+rnd.IntN(200)
		for step := 0; step < 40; step++ {
			if rnd.IntN(3) > 0 || q.len() == 0 { // push a group
				g := make([][]byte, rnd.IntN(12))
				for i := range g {
					g[i] = []byte(fmt.Sprintf("%d:%s", next, make([]byte, rnd.IntN(30))))
					next++
				}
				q.push(g)
				flat = append(flat, g...)
				continue
			}
			got, bytes := q.take(maxDocs, maxBytes, size)
			n, want := 0, 0
			for n < len(flat) && n < maxDocs && (n == 0 || want < maxBytes) {
				want += size(flat[n])
				n++
			}
			if !slices.EqualFunc(got, flat[:n], slices.Equal) || bytes != want {
				t.Fatalf("round %d: batch of %d docs (%d bytes), want %d (%d bytes)", round, len(got), bytes, n, want)
			}
			flat = flat[n:]
			if q.len() != len(flat) || !slices.EqualFunc(q.list(), flat, slices.Equal) {
				t.Fatalf("round %d: queue holds %d docs, want %d", round, q.len(), len(flat))
			}
		}
		if rest := q.drain(); !slices.EqualFunc(rest, flat, slices.Equal) || q.len() != 0 || q.groups != nil {
			t.Fatalf("round %d: drain gave %d docs, want %d, and left %d groups", round, len(rest), len(flat), len(q.groups))
		}
	}
}

func TestDocQueueSlicesAGroup(t *testing.T) {
	var q docQueue
	g := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	q.push(g)
	got, _ := q.take(2, 100, func(d []byte) int { return len(d) })
	if &got[0] != &g[0] || cap(got) != 2 {
		t.Fatal("a batch inside one group was copied, or can grow into the rest of it")
	}
	q.take(2, 100, func(d []byte) int { return len(d) })
	if q.len() != 0 || q.groups != nil {
		t.Fatalf("an emptied queue keeps %d groups", len(q.groups))
	}
}
