package messages

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/hermes-search/hermes-go/segment"
	"google.golang.org/protobuf/encoding/protowire"
)

// Documents travel, and wait in the coordinator until they are durable, as
// the protobuf wire form of Document: one byte slice each, which the
// garbage collector marks without scanning, where a Document and its
// FieldValues are a dozen pointers to follow at every collection. The
// messages' docs fields are bytes, wire-compatible with a Document field of
// the same number. AppendDocument writes the form (as proto.Marshal would,
// values in order); DecodeDocument reads any valid encoding of a Document.

// Field numbers of FieldValue's fields, and of Document's values.
const (
	numValues protowire.Number = 1 // Document.values
	numField  protowire.Number = 1 // FieldValue.field
	numStr    protowire.Number = 2
	numU64    protowire.Number = 3
	numI64    protowire.Number = 4 // sint64: zigzag
	numF64    protowire.Number = 5 // double
	numRaw    protowire.Number = 6
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
	b = appendValueHead(b, v)
	if v.Kind == segment.KindString {
		b = append(b, v.Str...)
	}
	return b
}

// AppendValueChecked is AppendValue that also reports whether a string
// value is valid UTF-8 (always true for other kinds), checked as the
// string is copied: the writer's intake, which must refuse invalid UTF-8,
// so reads each string once (segment.Schema.ValidateFields). b is
// unspecified when ok is false.
func AppendValueChecked(b []byte, v *segment.FieldValue) (_ []byte, ok bool) {
	b = appendValueHead(b, v)
	if v.Kind != segment.KindString {
		return b, true
	}
	return appendUTF8(b, v.Str)
}

// appendValueHead appends v's wire form without a string value's bytes,
// which end it: the caller appends them.
func appendValueHead(b []byte, v *segment.FieldValue) []byte {
	b = appendTag(b, numValues, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(fieldValueSize(v)))
	if v.Field != "" { // proto3 leaves out an empty string
		b = appendTag(b, numField, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(len(v.Field)))
		b = append(b, v.Field...)
	}
	switch v.Kind {
	case segment.KindString:
		b = appendTag(b, numStr, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(len(v.Str)))
	case segment.KindU64:
		b = appendTag(b, numU64, protowire.VarintType)
		b = protowire.AppendVarint(b, v.U64)
	case segment.KindI64:
		b = appendTag(b, numI64, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(v.I64))
	case segment.KindF64:
		b = appendTag(b, numF64, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(v.F64))
	case segment.KindBytes:
		b = appendTag(b, numRaw, protowire.BytesType)
		b = protowire.AppendBytes(b, v.Bytes)
	}
	return b
}

// appendTag appends a tag, one byte for every field number here (see
// tagSize): protowire.AppendTag without its call to AppendVarint.
func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return append(b, byte(protowire.EncodeTag(num, typ)))
}

// appendUTF8 appends s to b and reports whether s is valid UTF-8, in one
// pass while s is ASCII (8 bytes at a time, as utf8.ValidString checks
// it); from the first word with a byte past ASCII on, it copies the rest
// and validates it.
func appendUTF8(b []byte, s string) ([]byte, bool) {
	n := len(b)
	b = slices.Grow(b, len(s))[:n+len(s)]
	dst, src := b[n:], unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+8 <= len(src); i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		if x&0x8080808080808080 != 0 {
			break
		}
		binary.LittleEndian.PutUint64(dst[i:], x)
	}
	for ; i < len(src) && src[i] < utf8.RuneSelf; i++ { // a short tail
		dst[i] = src[i]
	}
	if i == len(src) {
		return b, true
	}
	copy(dst[i:], src[i:])
	// Every byte before i is ASCII, so no character starts before it.
	return b, utf8.Valid(dst[i:])
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
	return tagSize + protowire.SizeBytes(fieldValueSize(v))
}

// tagSize is the length of every tag above (field numbers below 16).
const tagSize = 1

// fieldValueSize is the length of v's FieldValue message.
func fieldValueSize(v *segment.FieldValue) int {
	n := 0
	if v.Field != "" {
		n = tagSize + protowire.SizeBytes(len(v.Field))
	}
	switch v.Kind {
	case segment.KindString:
		n += tagSize + protowire.SizeBytes(len(v.Str))
	case segment.KindU64:
		n += tagSize + protowire.SizeVarint(v.U64)
	case segment.KindI64:
		n += tagSize + protowire.SizeVarint(protowire.EncodeZigZag(v.I64))
	case segment.KindF64:
		n += tagSize + protowire.SizeFixed64()
	case segment.KindBytes:
		n += tagSize + protowire.SizeBytes(len(v.Bytes))
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
		msg, rest, isValue, err := nextField(wire)
		if err != nil {
			return err
		}
		wire = rest
		if !isValue {
			continue
		}
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
		msg, rest, isValue, err := nextField(wire)
		if err != nil {
			return v, false, err
		}
		wire = rest
		if isValue {
			last, ok = msg, true
		}
	}
	if !ok {
		return v, false, nil
	}
	return v, true, decodeValue(last, &v)
}

// nextField splits the first field of a Document's wire form off wire:
// msg is a value's FieldValue message if isValue, and other fields are
// skipped.
func nextField(wire []byte) (msg, rest []byte, isValue bool, err error) {
	num, typ, n := protowire.ConsumeTag(wire)
	if n < 0 {
		return nil, nil, false, malformed(n)
	}
	wire = wire[n:]
	if num != numValues || typ != protowire.BytesType {
		n = protowire.ConsumeFieldValue(num, typ, wire)
		if n < 0 {
			return nil, nil, false, malformed(n)
		}
		return nil, wire[n:], false, nil
	}
	msg, n = protowire.ConsumeBytes(wire)
	if n < 0 {
		return nil, nil, false, malformed(n)
	}
	return msg, wire[n:], true, nil
}

// malformed is the error for protowire's negative length n.
func malformed(n int) error {
	return fmt.Errorf("messages: malformed document: %w", protowire.ParseError(n))
}

// decodeValue decodes a FieldValue message.
func decodeValue(msg []byte, v *segment.FieldValue) error {
	*v = segment.FieldValue{}
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return malformed(n)
		}
		msg = msg[n:]
		switch {
		case typ == protowire.BytesType && (num == numField || num == numStr || num == numRaw):
			b, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return malformed(n)
			}
			msg = msg[n:]
			switch num {
			case numField:
				v.Field = aliasString(b)
			case numStr:
				v.Kind, v.Str, v.Bytes = segment.KindString, aliasString(b), nil
			case numRaw:
				v.Kind, v.Str, v.Bytes = segment.KindBytes, "", b[:len(b):len(b)]
			}
		case typ == protowire.VarintType && (num == numU64 || num == numI64):
			x, n := protowire.ConsumeVarint(msg)
			if n < 0 {
				return malformed(n)
			}
			msg = msg[n:]
			if num == numU64 {
				v.Kind, v.U64 = segment.KindU64, x
			} else {
				v.Kind, v.I64 = segment.KindI64, protowire.DecodeZigZag(x)
			}
			v.Str, v.Bytes = "", nil
		case typ == protowire.Fixed64Type && num == numF64:
			x, n := protowire.ConsumeFixed64(msg)
			if n < 0 {
				return malformed(n)
			}
			msg = msg[n:]
			v.Kind, v.F64 = segment.KindF64, math.Float64frombits(x)
			v.Str, v.Bytes = "", nil
		default:
			n := protowire.ConsumeFieldValue(num, typ, msg)
			if n < 0 {
				return malformed(n)
			}
			msg = msg[n:]
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

// aliasString returns b's bytes as a string without copying them.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
