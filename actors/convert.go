package actors

import (
	"bytes"
	"slices"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
)

// ToMessage converts a validated document for the trip to a worker, with
// its sequence number in index.SeqField. Every add makes one, so its parts
// come in one allocation for a document of up to smallDocFields fields of
// text, keyword or bytes (the common case), and in a few slabs otherwise,
// rather than an object per field and value. That allocation is sized to
// the document (see pairDoc), as the collector scans every converted
// document that waits in the coordinator's queue.
func ToMessage(d *segment.Document, seq uint64) *messages.Document {
	n := len(d.Values) + 1
	strings := 0
	for i := range d.Values {
		if d.Values[i].Kind == segment.KindString {
			strings++
		}
	}
	var m *messages.Document
	var seqValue *messages.FieldValue_U64
	var values []*messages.FieldValue
	var fvs []messages.FieldValue
	var strs []messages.FieldValue_Str
	switch {
	case n <= pairDocFields+1:
		s := new(pairDoc)
		m, seqValue = &s.doc, &s.seq
		values, fvs, strs = s.values[:n:n], s.fvs[:n:n], s.strs[:strings:strings]
	case n <= smallDocFields+1:
		s := new(smallDoc)
		m, seqValue = &s.doc, &s.seq
		values, fvs, strs = s.values[:n:n], s.fvs[:n:n], s.strs[:strings:strings]
	default:
		s := new(bigDoc)
		m, seqValue = &s.doc, &s.seq
		values, fvs, strs = make([]*messages.FieldValue, n), make([]messages.FieldValue, n), make([]messages.FieldValue_Str, strings)
	}
	seqValue.U64 = seq
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
	fvs[n-1].Field, fvs[n-1].Value = index.SeqField, seqValue
	values[n-1] = &fvs[n-1]
	m.Values = values
	return m
}

// smallDocFields is how many fields a document may have for ToMessage to
// build it in one allocation; pairDocFields, for the smaller one.
const (
	smallDocFields = 4
	pairDocFields  = 2
)

// smallDoc is a converted document with room for smallDocFields fields and
// index.SeqField (536 bytes); pairDoc, for pairDocFields (344 bytes, which
// also keeps it under the 512 bytes above which an object with pointers
// needs a type header); bigDoc holds the document and its number for
// larger ones.
type (
	pairDoc struct {
		doc    messages.Document
		seq    messages.FieldValue_U64
		values [pairDocFields + 1]*messages.FieldValue
		fvs    [pairDocFields + 1]messages.FieldValue
		strs   [pairDocFields]messages.FieldValue_Str
	}
	smallDoc struct {
		doc    messages.Document
		seq    messages.FieldValue_U64
		values [smallDocFields + 1]*messages.FieldValue
		fvs    [smallDocFields + 1]messages.FieldValue
		strs   [smallDocFields]messages.FieldValue_Str
	}
	bigDoc struct {
		doc messages.Document
		seq messages.FieldValue_U64
	}
)

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
