package actors

import (
	"bytes"
	"slices"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
)

// ToMessage converts a validated document for the trip to a worker, with
// its sequence number in SeqField.
func ToMessage(d *segment.Document, seq uint64) *messages.Document {
	values := make([]*messages.FieldValue, len(d.Values), len(d.Values)+1)
	for i := range d.Values {
		v := &d.Values[i]
		fv := &messages.FieldValue{Field: v.Field}
		switch v.Kind {
		case segment.KindString:
			fv.Value = &messages.FieldValue_Str{Str: v.Str}
		case segment.KindU64:
			fv.Value = &messages.FieldValue_U64{U64: v.U64}
		case segment.KindI64:
			fv.Value = &messages.FieldValue_I64{I64: v.I64}
		case segment.KindF64:
			fv.Value = &messages.FieldValue_F64{F64: v.F64}
		case segment.KindBytes:
			// Copied: the caller may reuse its buffer once AddDocument returns.
			fv.Value = &messages.FieldValue_Raw{Raw: bytes.Clone(v.Bytes)}
		}
		values[i] = fv
	}
	values = append(values, &messages.FieldValue{Field: SeqField, Value: &messages.FieldValue_U64{U64: seq}})
	return &messages.Document{Values: values}
}

// messageBytes approximates a document's size for batch cutting.
func messageBytes(m *messages.Document) int {
	n := 0
	for _, fv := range m.Values {
		n += len(fv.Field) + 8
		switch x := fv.Value.(type) {
		case *messages.FieldValue_Str:
			n += len(x.Str)
		case *messages.FieldValue_Raw:
			n += len(x.Raw)
		}
	}
	return n
}

// removeFiles deletes a discarded segment's files. Failure only leaves an
// orphan for the next cleanup, so it is logged, not returned.
func removeFiles(cfg *Config, files []string) {
	for _, f := range files {
		if err := cfg.Dir.Remove(f); err != nil {
			cfg.logger().Warn("could not remove a discarded file", "file", f, "error", err)
		}
	}
}

// UserDocument is m.SegmentDocument() without SeqField: the document as the user
// added it.
func UserDocument(m *messages.Document) *segment.Document {
	d := m.SegmentDocument()
	d.Values = slices.DeleteFunc(d.Values, func(v segment.FieldValue) bool { return v.Field == SeqField })
	return d
}

// DocSeq is a document's sequence number, which ToMessage puts last.
func DocSeq(m *messages.Document) uint64 {
	if n := len(m.Values); n > 0 && m.Values[n-1].Field == SeqField {
		return m.Values[n-1].GetU64()
	}
	return 0
}
