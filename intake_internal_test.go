package hermes

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/actors"
)

// AddDocuments carves wire forms from slabs (wireSlab) of at most
// maxWireSlab bytes, or of one larger document, so that a document still
// held keeps few others alive, however many one call adds; and each slab
// takes exactly the documents it was made for.
func TestWireSlabsStaySmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	docs := make([]*Document, 2000)
	for i := range docs {
		size := rng.IntN(2000)
		if i%97 == 0 {
			size = 3 * maxWireSlab / 2 // larger than a slab
		}
		docs[i] = new(Document).AddString("id", "k").AddString("body", strings.Repeat("x", size))
	}
	slabs := 0
	for i := 0; i < len(docs); {
		slab, n := wireSlab(docs[i:])
		if n < 1 || i+n > len(docs) {
			t.Fatalf("wireSlab at %d: n = %d of %d", i, n, len(docs)-i)
		}
		if cap(slab) > maxWireSlab && n > 1 {
			t.Fatalf("a slab of %d documents, %d bytes; want at most %d bytes or one document", n, cap(slab), maxWireSlab)
		}
		for _, d := range docs[i : i+n] {
			if _, _, ok := actors.EncodeDocument(d, -1, &slab); !ok {
				t.Fatal("EncodeDocument refused a valid document")
			}
		}
		if len(slab) != cap(slab) {
			t.Fatalf("a slab of %d bytes for %d documents holds %d of theirs", cap(slab), n, len(slab))
		}
		i += n
		slabs++
	}
	if slabs > len(docs)/5 {
		t.Fatalf("%d slabs for %d documents: few documents share one", slabs, len(docs))
	}
}

// validUTF8, which names invalid UTF-8 in a document AddDocuments finds no
// room for, agrees with the encoding's check and costs no encoding (a full
// queue encodes nothing).
func TestValidUTF8AgreesWithTheEncoding(t *testing.T) {
	for _, body := range []string{"", "ascii only, more than eight bytes", "héllo wörld", "12345678\xff", "\xc3", "ok \xed\xa0\x80 surrogate", "tail é"} {
		d := new(Document).AddU64("n", 1).AddString("id", "k").AddString("body", body)
		_, _, want := actors.EncodeDocument(d, -1, nil)
		if got := validUTF8(d); got != want {
			t.Errorf("validUTF8(%q) = %v, the encoding says %v", body, got, want)
		}
		if allocs := testing.AllocsPerRun(10, func() { validUTF8(d) }); allocs != 0 {
			t.Errorf("validUTF8(%q) makes %v allocations, want none", body, allocs)
		}
	}
}
