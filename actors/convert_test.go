package actors

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/hermes-search/hermes-go/segment"
)

// A document survives the trip to a worker whole, with its number last,
// whatever its size (ToMessage builds small ones in one allocation) and
// kinds of values; bytes are copied, as the caller may reuse them.
func TestToMessageRoundTrip(t *testing.T) {
	for fields := 0; fields <= smallDocFields+3; fields++ {
		d := new(segment.Document)
		raw := []byte("raw")
		for i := 0; i < fields; i++ {
			name := fmt.Sprint("f", i)
			switch i % 6 {
			case 0, 3:
				d.AddString(name, fmt.Sprint("text ", i))
			case 1:
				d.AddU64(name, uint64(i)<<40)
			case 2:
				d.AddI64(name, -int64(i))
			case 4:
				d.AddF64(name, float64(i)/3)
			case 5:
				d.AddBytes(name, raw)
			}
		}
		want := fmt.Sprint(d.Values)
		m := ToMessage(d, uint64(100+fields))
		raw[0] = 'X'
		if got := DocSeq(m); got != uint64(100+fields) {
			t.Fatalf("%d fields: number %d, want %d", fields, got, 100+fields)
		}
		if got := fmt.Sprint(UserDocument(m).Values); got != want {
			t.Fatalf("%d fields: round trip gives %s, want %s", fields, got, want)
		}
	}
}

// A document of up to smallDocFields text or keyword fields converts in one
// allocation, the smaller ones in the smaller pairDoc.
func TestToMessageOneAllocation(t *testing.T) {
	for fields := 0; fields <= smallDocFields; fields++ {
		d := new(segment.Document)
		for i := 0; i < fields; i++ {
			d.AddString(fmt.Sprint("f", i), "text")
		}
		if allocs := testing.AllocsPerRun(100, func() { ToMessage(d, 1) }); allocs != 1 {
			t.Fatalf("%d fields: %v allocations, want 1", fields, allocs)
		}
	}
	if size := unsafe.Sizeof(pairDoc{}); size > 512 {
		t.Fatalf("pairDoc takes %d bytes, more than the 512 of an object without a type header", size)
	}
}
