package messages

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-search/hermes-go/segment"
)

// fromProto is the segment form of a Document decoded by proto: what
// DecodeDocument must give for the same bytes.
func fromProto(m *Document) []segment.FieldValue {
	out := make([]segment.FieldValue, 0, len(m.Values))
	for _, fv := range m.Values {
		v := segment.FieldValue{Field: fv.Field}
		switch x := fv.Value.(type) {
		case *FieldValue_Str:
			v.Kind, v.Str = segment.KindString, x.Str
		case *FieldValue_U64:
			v.Kind, v.U64 = segment.KindU64, x.U64
		case *FieldValue_I64:
			v.Kind, v.I64 = segment.KindI64, x.I64
		case *FieldValue_F64:
			v.Kind, v.F64 = segment.KindF64, x.F64
		case *FieldValue_Raw:
			v.Kind, v.Bytes = segment.KindBytes, x.Raw
		}
		out = append(out, v)
	}
	return out
}

// toProto is d as a Document.
func toProto(d *segment.Document) *Document {
	m := &Document{}
	for _, v := range d.Values {
		fv := &FieldValue{Field: v.Field}
		switch v.Kind {
		case segment.KindString:
			fv.Value = &FieldValue_Str{Str: v.Str}
		case segment.KindU64:
			fv.Value = &FieldValue_U64{U64: v.U64}
		case segment.KindI64:
			fv.Value = &FieldValue_I64{I64: v.I64}
		case segment.KindF64:
			fv.Value = &FieldValue_F64{F64: v.F64}
		case segment.KindBytes:
			fv.Value = &FieldValue_Raw{Raw: v.Bytes}
		}
		m.Values = append(m.Values, fv)
	}
	return m
}

// sample is a document of every kind of value, edge values included.
func sample() *segment.Document {
	d := new(segment.Document)
	d.AddString("id", "doc-1")
	d.AddString("empty", "")
	d.AddString("text", string(bytes.Repeat([]byte("héllo wörld "), 30))) // a length over 127
	d.AddU64("u0", 0)
	d.AddU64("umax", math.MaxUint64)
	d.AddI64("i0", 0)
	d.AddI64("imin", math.MinInt64)
	d.AddI64("imax", math.MaxInt64)
	d.AddI64("ineg", -1)
	d.AddF64("f", -0.5)
	d.AddF64("nan", math.Inf(1))
	d.AddBytes("raw", []byte{0, 1, 2, 255})
	d.AddBytes("noraw", nil)
	d.Values = append(d.Values, segment.FieldValue{Field: ""})
	return d
}

func same(a, b []segment.FieldValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Field != y.Field || x.Kind != y.Kind || x.Str != y.Str || x.U64 != y.U64 || x.I64 != y.I64 ||
			math.Float64bits(x.F64) != math.Float64bits(y.F64) || !bytes.Equal(x.Bytes, y.Bytes) {
			return false
		}
	}
	return true
}

// AppendDocument writes exactly what proto.Marshal writes for the same
// Document, and DocumentSize is its length; DecodeDocument reads it back.
func TestDocumentWireFormIsProtos(t *testing.T) {
	d := sample()
	wire := AppendDocument(nil, d)
	if len(wire) != DocumentSize(d) {
		t.Fatalf("DocumentSize %d, written %d", DocumentSize(d), len(wire))
	}
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(toProto(d))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wire, want) {
		t.Fatalf("wire form\n%x\nproto's\n%x", wire, want)
	}
	var got segment.Document
	if err := DecodeDocument(wire, &got); err != nil {
		t.Fatal(err)
	}
	if !same(got.Values, d.Values) {
		t.Fatalf("decoded %v, want %v", got.Values, d.Values)
	}
	last, ok, err := LastValue(wire)
	if err != nil || !ok || !same([]segment.FieldValue{last}, d.Values[len(d.Values)-1:]) {
		t.Fatalf("LastValue %v %v %v", last, ok, err)
	}
	if _, ok, err := LastValue(nil); ok || err != nil {
		t.Fatalf("LastValue of no values: %v %v", ok, err)
	}
	// A message field of the documents' wire forms reads as Documents.
	batch, err := proto.Marshal(&Batch{Seq: 3, Docs: [][]byte{wire, AppendDocument(nil, &segment.Document{})}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []*Document
	for b := batch; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		b = b[n:]
		if num != 2 || typ != protowire.BytesType {
			b = b[protowire.ConsumeFieldValue(num, typ, b):]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		b = b[n:]
		var m Document
		if err := proto.Unmarshal(v, &m); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, &m)
	}
	if len(docs) != 2 || !same(fromProto(docs[0]), d.Values) || len(docs[1].Values) != 0 {
		t.Fatalf("a batch's docs read as Documents: %v", docs)
	}
}

// Wire tag bytes (field number << 3 | wire type) for hand-made encodings.
const (
	tagValues = 1<<3 | 2 // Document.values
	tagField  = 1<<3 | 2 // FieldValue.field
	tagStr    = 2<<3 | 2
	tagU64    = 3<<3 + 0 // varint
	tagI64    = 4<<3 + 0
	tagF64    = 5<<3 | 1
)

// DecodeDocument reads what proto reads, from proto's own encodings and
// from encodings proto.Marshal does not make (unknown fields, a oneof set
// twice, a field name repeated, values split across the message).
func TestDecodeDocumentLikeProto(t *testing.T) {
	unknown := AppendDocument(nil, sample())
	unknown = append(unknown, 2<<3+0, 0x96, 0x01, 3<<3|5, 1, 2, 3, 4, 4<<3|1, 1, 2, 3, 4, 5, 6, 7, 8, 5<<3|2, 2, 'h', 'i')
	value := func(inner ...byte) []byte { return append([]byte{tagValues, byte(len(inner))}, inner...) }
	oneofTwice := value(tagField, 1, 'a', tagStr, 1, 'x', tagU64, 7)
	nameTwice := value(tagField, 1, 'a', tagI64, 3, tagField, 2, 'b', 'c')
	innerUnknown := value(7<<3+0, 1, tagField, 1, 'a', 8<<3+0, 0, 9<<3|1, 1, 2, 3, 4, 5, 6, 7, 8)
	overlong := []byte{tagValues, 0x87, 0x80, 0x00, tagField, 1, 'a', tagU64, 0x81, 0x80, 0x00}
	split := append(value(tagField, 1, 'a', tagStr, 2, 'h', 'i'), value(tagF64, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f)...)
	for i, wire := range [][]byte{AppendDocument(nil, sample()), unknown, oneofTwice, nameTwice, innerUnknown, overlong, split, nil} {
		var m Document
		if err := proto.Unmarshal(wire, &m); err != nil {
			t.Fatalf("case %d: proto refuses it: %v", i, err)
		}
		var got segment.Document
		if err := DecodeDocument(wire, &got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if want := fromProto(&m); !same(got.Values, want) {
			t.Fatalf("case %d: decoded %v, proto reads %v", i, got.Values, want)
		}
	}
}

// A document cut short or otherwise malformed is an error, never a panic or
// a value read past the end.
func TestDecodeDocumentMalformed(t *testing.T) {
	wire := AppendDocument(nil, sample())
	var d segment.Document
	for n := 1; n < len(wire); n++ {
		cut := wire[:n:n]
		err := DecodeDocument(cut, &d)
		if proto.Unmarshal(cut, new(Document)) != nil && err == nil {
			t.Fatalf("cut at %d of %d: no error", n, len(wire))
		}
	}
	for i, bad := range [][]byte{
		{tagValues},                    // no length
		{tagValues, 5, tagField},       // length past the end
		{tagValues, 2, tagField, 9},    // inner length past the end
		{tagValues, 3, tagF64, 1, 2},   // a short double
		{0x80},                         // a tag cut short
		{0},                            // field number 0
		{3<<3 | 3, 0},                  // a group
		{tagValues, 2, 1<<3 | 7, 0},    // wire type 7
		bytes.Repeat([]byte{0xff}, 11), // a varint too long
		{tagValues, 0xff, 0xff, 0xff, 0xff, 0xff, 0}, // a huge length
	} {
		if err := DecodeDocument(bad, &d); err == nil {
			t.Fatalf("case %d (%x): no error", i, bad)
		}
		if _, _, err := LastValue(bad); err == nil {
			t.Fatalf("case %d (%x): LastValue: no error", i, bad)
		}
	}
}

// Decoding reuses the document's values and allocates nothing.
func TestDecodeDocumentAllocatesNothing(t *testing.T) {
	wire := AppendDocument(nil, sample())
	var d segment.Document
	if err := DecodeDocument(wire, &d); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(100, func() { _ = DecodeDocument(wire, &d) }); a != 0 {
		t.Fatalf("%v allocations a decode", a)
	}
}

// FuzzDecodeDocument: whatever proto reads, DecodeDocument reads the same;
// nothing panics.
func FuzzDecodeDocument(f *testing.F) {
	f.Add(AppendDocument(nil, sample()))
	f.Add([]byte{tagValues, 9, tagField, 1, 'a', tagStr, 1, 'x', tagU64, 7})
	f.Add([]byte{tagValues, 2, 1<<3 | 7, 0})
	f.Fuzz(func(t *testing.T, wire []byte) {
		var d segment.Document
		err := DecodeDocument(wire, &d)
		_, _, _ = LastValue(wire)
		var m Document
		if proto.Unmarshal(wire, &m) != nil {
			return
		}
		if err != nil {
			t.Fatalf("proto reads %x, DecodeDocument: %v", wire, err)
		}
		if want := fromProto(&m); !same(d.Values, want) {
			t.Fatalf("decoded %v, proto reads %v", d.Values, want)
		}
	})
}

// utf8Cases are strings around the 8-byte words AppendValueChecked checks
// at a time: ASCII of every length to 20, and a multi-byte character, an
// invalid byte, a truncated sequence and an encoded surrogate at every
// position of them.
func utf8Cases() []string {
	var out []string
	for n := 0; n <= 20; n++ {
		ascii := string(bytes.Repeat([]byte{'a'}, n))
		out = append(out, ascii)
		for at := 0; at <= n; at++ {
			for _, bad := range []string{"é", "世", "😀", "\xff", "\x80", "\xc3", "\xe4\xb8", "\xed\xa0\x80", "\xc0\xaf"} {
				out = append(out, ascii[:at]+bad+ascii[at:])
			}
		}
	}
	return out
}

// AppendValueChecked writes what AppendValue writes and reports exactly
// what utf8.ValidString reports.
func TestAppendValueChecked(t *testing.T) {
	for _, s := range append(utf8Cases(), strings.Repeat("x", 200), strings.Repeat("é", 9000)) {
		checkAppendValueChecked(t, s)
	}
	for _, v := range []segment.FieldValue{
		{Field: "n", Kind: segment.KindU64, U64: 300},
		{Field: "b", Kind: segment.KindBytes, Bytes: []byte("\xff")},
	} {
		got, ok := AppendValueChecked([]byte("x"), &v)
		if want := AppendValue([]byte("x"), &v); !ok || !bytes.Equal(got, want) {
			t.Errorf("%v: got %x, %v; want %x, true", v, got, ok, want)
		}
	}
}

func FuzzAppendValueChecked(f *testing.F) {
	for _, s := range utf8Cases() {
		f.Add(s)
	}
	f.Fuzz(checkAppendValueChecked)
}

func checkAppendValueChecked(t *testing.T, s string) {
	v := segment.FieldValue{Field: "body", Kind: segment.KindString, Str: s}
	got, ok := AppendValueChecked([]byte("prefix"), &v)
	if valid := utf8.ValidString(s); ok != valid {
		t.Fatalf("%q: ok = %v, utf8.ValidString says %v", s, ok, valid)
	}
	if want := AppendValue([]byte("prefix"), &v); ok && !bytes.Equal(got, want) {
		t.Fatalf("%q: got %x, want %x", s, got, want)
	}
	if !ok {
		return
	}
	// And AppendValue writes what proto does, s as a value and as a name.
	d := &segment.Document{Values: []segment.FieldValue{v, {Field: s, Kind: segment.KindU64, U64: uint64(len(s))}}}
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(toProto(d))
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendDocument(nil, d); !bytes.Equal(got, want) {
		t.Fatalf("%q: AppendDocument wrote %x, proto %x", s, got, want)
	}
}
