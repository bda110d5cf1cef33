package messages

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/hermes-search/hermes-go/segment"
)

// Documents travel, and wait in the coordinator until they are durable, as
// the protobuf wire form of Document: one byte slice each, which the
// garbage collector marks without scanning, where a Document and its
// FieldValues are a dozen pointers to follow at every collection. The
// messages' docs fields are bytes, wire-compatible with a Document field of
// the same number. AppendDocument writes the form (as proto.Marshal would,
// values in order); DecodeDocument reads any valid encoding of a Document.

// Wire tags (field number << 3 | wire type) of FieldValue's fields and of
// Document's values. Wire types: 0 varint, 1 fixed64, 2 length-delimited.
const (
	tagValues = 1<<3 + 2 // Document.values
	tagField  = 1<<3 + 2 // FieldValue.field
	tagStr    = 2<<3 + 2
	tagU64    = 3<<3 + 0
	tagI64    = 4<<3 + 0 // sint64: zigzag
	tagF64    = 5<<3 + 1 // double
	tagRaw    = 6<<3 + 2
)

// AppendDocument appends the wire form of d's values to b. The result,
// alone or after other documents' values, is a Document's wire form: a
// document's values may be appended in several calls (the writer appends
// its sequence number after the user's values).
func AppendDocument(b []byte, d *segment.Document) []byte {
	for i := range d.Values {
		b = AppendValue(b, &d.Values[i])
	}
	return b
}

// AppendValue appends one value of a Document's wire form to b. A value of
// no known kind is written with its field name alone (a FieldValue whose
// oneof is unset), which DecodeDocument reads back as kind 0.
func AppendValue(b []byte, v *segment.FieldValue) []byte {
	b = append(b, tagValues)
	b = binary.AppendUvarint(b, uint64(fieldValueSize(v)))
	if v.Field != "" { // proto3 leaves out an empty string
		b = append(b, tagField)
		b = binary.AppendUvarint(b, uint64(len(v.Field)))
		b = append(b, v.Field...)
	}
	switch v.Kind {
	case segment.KindString:
		b = append(b, tagStr)
		b = binary.AppendUvarint(b, uint64(len(v.Str)))
		b = append(b, v.Str...)
	case segment.KindU64:
		b = append(b, tagU64)
		b = binary.AppendUvarint(b, v.U64)
	case segment.KindI64:
		b = append(b, tagI64)
		b = binary.AppendUvarint(b, zigzag(v.I64))
	case segment.KindF64:
		b = append(b, tagF64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.F64))
	case segment.KindBytes:
		b = append(b, tagRaw)
		b = binary.AppendUvarint(b, uint64(len(v.Bytes)))
		b = append(b, v.Bytes...)
	}
	return b
}

// DocumentSize is the length of AppendDocument's output for d.
func DocumentSize(d *segment.Document) int {
	n := 0
	for i := range d.Values {
		n += ValueSize(&d.Values[i])
	}
	return n
}

// ValueSize is the length of AppendValue's output for v.
func ValueSize(v *segment.FieldValue) int {
	n := fieldValueSize(v)
	return 1 + uvarintLen(uint64(n)) + n
}

// fieldValueSize is the length of v's FieldValue message.
func fieldValueSize(v *segment.FieldValue) int {
	n := 0
	if v.Field != "" {
		n = 1 + uvarintLen(uint64(len(v.Field))) + len(v.Field)
	}
	switch v.Kind {
	case segment.KindString:
		n += 1 + uvarintLen(uint64(len(v.Str))) + len(v.Str)
	case segment.KindU64:
		n += 1 + uvarintLen(v.U64)
	case segment.KindI64:
		n += 1 + uvarintLen(zigzag(v.I64))
	case segment.KindF64:
		n += 1 + 8
	case segment.KindBytes:
		n += 1 + uvarintLen(uint64(len(v.Bytes))) + len(v.Bytes)
	}
	return n
}

func zigzag(x int64) uint64 { return uint64(x<<1) ^ uint64(x>>63) }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// DecodeDocument decodes wire, a Document's wire form, into d, reusing
// d.Values' array. The strings and byte slices of the values share wire's
// memory, not copied: wire must not change while d is in use (documents in
// messages never change once made). Any valid encoding is read, with
// unknown fields skipped and the last of a repeated FieldValue field
// winning, as proto.Unmarshal would; a malformed one is an error, and d is
// then undefined.
func DecodeDocument(wire []byte, d *segment.Document) error {
	d.Values = d.Values[:0]
	for len(wire) > 0 {
		tag, n := binary.Uvarint(wire)
		if n <= 0 {
			return errMalformed
		}
		wire = wire[n:]
		if tag != tagValues {
			rest, err := skipField(wire, tag)
			if err != nil {
				return err
			}
			wire = rest
			continue
		}
		msg, rest, err := lengthDelimited(wire)
		if err != nil {
			return err
		}
		wire = rest
		d.Values = append(d.Values, segment.FieldValue{})
		if err := decodeValue(msg, &d.Values[len(d.Values)-1]); err != nil {
			return err
		}
	}
	return nil
}

// LastValue decodes the last value of wire, a Document's wire form; ok is
// false if it has none.
func LastValue(wire []byte) (v segment.FieldValue, ok bool, err error) {
	var last []byte
	for len(wire) > 0 {
		tag, n := binary.Uvarint(wire)
		if n <= 0 {
			return v, false, errMalformed
		}
		wire = wire[n:]
		if tag != tagValues {
			if wire, err = skipField(wire, tag); err != nil {
				return v, false, err
			}
			continue
		}
		if last, wire, err = lengthDelimited(wire); err != nil {
			return v, false, err
		}
		ok = true
	}
	if !ok {
		return v, false, nil
	}
	return v, true, decodeValue(last, &v)
}

var errMalformed = errors.New("messages: malformed document")

// decodeValue decodes a FieldValue message.
func decodeValue(msg []byte, v *segment.FieldValue) error {
	*v = segment.FieldValue{}
	for len(msg) > 0 {
		tag, n := binary.Uvarint(msg)
		if n <= 0 {
			return errMalformed
		}
		msg = msg[n:]
		switch tag {
		case tagField, tagStr, tagRaw:
			b, rest, err := lengthDelimited(msg)
			if err != nil {
				return err
			}
			msg = rest
			switch tag {
			case tagField:
				v.Field = aliasString(b)
			case tagStr:
				v.Kind, v.Str, v.Bytes = segment.KindString, aliasString(b), nil
			case tagRaw:
				v.Kind, v.Str, v.Bytes = segment.KindBytes, "", b[:len(b):len(b)]
			}
		case tagU64, tagI64:
			x, n := binary.Uvarint(msg)
			if n <= 0 {
				return errMalformed
			}
			msg = msg[n:]
			if tag == tagU64 {
				v.Kind, v.U64 = segment.KindU64, x
			} else {
				v.Kind, v.I64 = segment.KindI64, int64(x>>1)^-int64(x&1)
			}
			v.Str, v.Bytes = "", nil
		case tagF64:
			if len(msg) < 8 {
				return errMalformed
			}
			v.Kind, v.F64 = segment.KindF64, math.Float64frombits(binary.LittleEndian.Uint64(msg))
			v.Str, v.Bytes = "", nil
			msg = msg[8:]
		default:
			rest, err := skipField(msg, tag)
			if err != nil {
				return err
			}
			msg = rest
		}
	}
	// A oneof member set earlier and another after: proto keeps the last,
	// and so do the assignments above; clear the numbers of other kinds.
	switch v.Kind {
	case segment.KindU64:
		v.I64, v.F64 = 0, 0
	case segment.KindI64:
		v.U64, v.F64 = 0, 0
	case segment.KindF64:
		v.U64, v.I64 = 0, 0
	default:
		v.U64, v.I64, v.F64 = 0, 0, 0
	}
	return nil
}

// lengthDelimited splits a length-delimited field's bytes off b.
func lengthDelimited(b []byte) (field, rest []byte, err error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return nil, nil, errMalformed
	}
	end := n + int(l)
	return b[n:end], b[end:], nil
}

// skipField skips the value of an unknown field with tag.
func skipField(b []byte, tag uint64) ([]byte, error) {
	if tag>>3 == 0 {
		return nil, errMalformed // field number 0 is invalid
	}
	switch tag & 7 {
	case 0:
		_, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errMalformed
		}
		return b[n:], nil
	case 1:
		if len(b) < 8 {
			return nil, errMalformed
		}
		return b[8:], nil
	case 2:
		_, rest, err := lengthDelimited(b)
		return rest, err
	case 5:
		if len(b) < 4 {
			return nil, errMalformed
		}
		return b[4:], nil
	}
	return nil, fmt.Errorf("messages: malformed document: wire type %d", tag&7)
}

// aliasString returns b's bytes as a string without copying them.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
