package actors

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
)

// A document survives the trip to a worker whole, with its number last,
// whatever its size and kinds of values; bytes are copied, as the caller
// may reuse them.
func TestToMessageRoundTrip(t *testing.T) {
	for fields := 0; fields <= 9; fields++ {
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
		u, err := UserDocument(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(u.Values); got != want {
			t.Fatalf("%d fields: round trip gives %s, want %s", fields, got, want)
		}
	}
}

// A document converts in one allocation, of exactly its size, whatever its
// number of fields.
func TestToMessageOneAllocation(t *testing.T) {
	for fields := 0; fields <= 8; fields++ {
		d := new(segment.Document)
		for i := 0; i < fields; i++ {
			d.AddString(fmt.Sprint("f", i), "text")
		}
		d.AddU64("n", 1<<50)
		if allocs := testing.AllocsPerRun(100, func() { ToMessage(d, 1) }); allocs != 1 {
			t.Fatalf("%d fields: %v allocations, want 1", fields, allocs)
		}
		if m := ToMessage(d, 1<<40); len(m) != cap(m) {
			t.Fatalf("%d fields: %d bytes in an allocation of %d", fields, len(m), cap(m))
		}
	}
}

// A document's user form is its own memory: changing the wire form after
// does not change it.
func TestUserDocumentOwnsItsMemory(t *testing.T) {
	d := new(segment.Document)
	d.AddString("text", "hello")
	d.AddBytes("raw", []byte("bytes"))
	m := ToMessage(d, 7)
	u, err := UserDocument(m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = 0
	}
	if got := fmt.Sprint(u.Values); got != fmt.Sprint(d.Values) {
		t.Fatalf("user document %s after its wire form was overwritten, want %s", got, fmt.Sprint(d.Values))
	}
}

// BenchmarkToMessage: the conversion every add makes, for a document of an
// id and a short text (BenchmarkIntake's) and one of realmix's average size
// (title and 680 bytes of text).
func BenchmarkToMessage(b *testing.B) {
	for _, size := range []int{60, 680} {
		d := new(segment.Document)
		d.AddString("id", "d12345")
		d.AddString("title", "a title of some words")
		text := make([]byte, size)
		for i := range text {
			text[i] = "abcdefgh "[i%9]
		}
		d.AddString("text", string(text))
		b.Run(fmt.Sprint("text=", size), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = ToMessage(d, uint64(i))
			}
		})
	}
}

// EncodeDocument then AppendSeq make ToMessage's bytes, with the keyword
// key sliced from them; a string of invalid UTF-8 is refused.
func TestEncodeDocument(t *testing.T) {
	d := new(segment.Document).AddU64("n", 7).AddString("id", "key-1").AddString("body", "héllo wörld, more than eight bytes")
	for _, seq := range []uint64{1, 300, math.MaxUint64} {
		wire, key, ok := EncodeDocument(d, 1, nil)
		if !ok || string(key) != "key-1" {
			t.Fatalf("EncodeDocument: key %q, ok %v", key, ok)
		}
		c := cap(wire)
		m := AppendSeq(wire, seq)
		if want := ToMessage(d, seq); !bytes.Equal(m, want) {
			t.Fatalf("seq %d: %x, want %x", seq, m, want)
		}
		if cap(m) != c {
			t.Fatalf("seq %d: AppendSeq grew the wire form (cap %d to %d)", seq, c, cap(m))
		}
		if DocSeq(m) != seq {
			t.Fatalf("DocSeq = %d, want %d", DocSeq(m), seq)
		}
	}
	if _, key, ok := EncodeDocument(d, 0, nil); !ok || key != nil {
		t.Fatalf("a numeric key: %q, %v; want nil (the caller makes its term)", key, ok)
	}
	bad := new(segment.Document).AddString("id", "k").AddString("body", "fine, then \xff")
	if _, _, ok := EncodeDocument(bad, 0, nil); ok {
		t.Fatal("invalid UTF-8 encoded")
	}
}
