package actors

import (
	"slices"
	"testing"
)

// The intake's contract: one wake-up per group, every document put reaches
// the coordinator exactly once (by a wake-up or by Flush), and a wake-up
// older than a Flush takes nothing, so no document put after the Flush
// overtakes the message that follows it.
func TestIntakeGroupsAndFlush(t *testing.T) {
	var q Intake
	a, b, c, d := []byte("a"), []byte("b"), []byte("c"), []byte("d")
	w1 := q.Put(a)
	if w1 == nil {
		t.Fatal("the first put sent no wake-up")
	}
	if w := q.Put(b); w != nil {
		t.Fatal("a second wake-up while one is on its way")
	}
	if got := q.take(w1); !slices.EqualFunc(got, [][]byte{a, b}, slices.Equal) {
		t.Fatalf("take = %q, want a and b", got)
	}
	if got := q.take(w1); len(got) != 0 {
		t.Fatalf("a second take of one wake-up = %q, want nothing", got)
	}

	w2 := q.Put(c)
	if w2 == nil {
		t.Fatal("no wake-up after the coordinator took the last group")
	}
	m := q.Flush()
	if m == nil || !slices.EqualFunc(m.Docs, [][]byte{c}, slices.Equal) {
		t.Fatalf("Flush = %v, want c", m)
	}
	// d comes after the flush (a later add): the stale wake-up, still in
	// the mailbox ahead of the flushed message, must not take it.
	w3 := q.Put(d)
	if w3 == nil {
		t.Fatal("no wake-up for the first put after a flush")
	}
	if got := q.take(w2); len(got) != 0 {
		t.Fatalf("a wake-up older than the flush took %q", got)
	}
	if got := q.take(w3); !slices.EqualFunc(got, [][]byte{d}, slices.Equal) {
		t.Fatalf("take = %q, want d", got)
	}
	if m := q.Flush(); m != nil {
		t.Fatalf("Flush of an empty intake = %v, want nil", m)
	}
}
