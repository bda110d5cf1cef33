package pages

import "testing"

// slot is an element of 16 bytes, as a hash table's might be.
type slot [2]uint64

func TestTouchForWriteKeepsTheSliceZero(t *testing.T) {
	for _, n := range []int{0, 1, minBytes/16 - 1, minBytes / 16, 3*minBytes/16 + 5} {
		s := make([]slot, n)
		TouchForWrite(s)
		for i, v := range s {
			if v != (slot{}) {
				t.Fatalf("n=%d: s[%d] = %v after TouchForWrite, want zero", n, i, v)
			}
		}
	}
}
