package messages

import "github.com/hermes-search/hermes-go/segment"

// SegmentDocument converts m for a segment builder, every value included
// (the writer's hidden fields too). Local and remote workers both use it,
// so a document reads the same on every node.
func (m *Document) SegmentDocument() *segment.Document {
	d := &segment.Document{Values: make([]segment.FieldValue, len(m.Values))}
	for i, fv := range m.Values {
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
		d.Values[i] = v
	}
	return d
}
