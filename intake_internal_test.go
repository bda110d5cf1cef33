package hermes

import (
	"testing"

	"github.com/hermes-search/hermes-go/actors"
)

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
