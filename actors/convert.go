package actors

import (
	"bytes"
	"slices"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
)

// ToMessage converts a validated document for the trip to a worker, with
// its sequence number in index.SeqField. Every add makes one, so its parts come in
// a few slabs rather than an object per field and value.
func ToMessage(d *segment.Document, seq uint64) *messages.Document {
	n := len(d.Values) + 1
	strings := 0
	for i := range d.Values {
		if d.Values[i].Kind == segment.KindString {
			strings++
		}
	}
	m := &struct {
		doc messages.Document
		seq messages.FieldValue_U64
	}{seq: messages.FieldValue_U64{U64: seq}}
	values := make([]*messages.FieldValue, n)
	fvs := make([]messages.FieldValue, n)
	strs := make([]messages.FieldValue_Str, strings)
	for i := range d.Values {
		v := &d.Values[i]
		fv := &fvs[i]
		fv.Field = v.Field
		switch v.Kind {
		case segment.KindString:
			s := &strs[len(strs)-strings]
			strings--
			s.Str = v.Str
			fv.Value = s
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
	fvs[n-1].Field, fvs[n-1].Value = index.SeqField, &m.seq
	values[n-1] = &fvs[n-1]
	m.doc.Values = values
	return &m.doc
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

// UserDocument is m.SegmentDocument() without index.SeqField: the document as the user
// added it.
func UserDocument(m *messages.Document) *segment.Document {
	d := m.SegmentDocument()
	d.Values = slices.DeleteFunc(d.Values, func(v segment.FieldValue) bool { return v.Field == index.SeqField })
	return d
}

// DocSeq is a document's sequence number, which ToMessage puts last.
func DocSeq(m *messages.Document) uint64 {
	if n := len(m.Values); n > 0 && m.Values[n-1].Field == index.SeqField {
		return m.Values[n-1].GetU64()
	}
	return 0
}
