package hermes

import (
	"fmt"
	"math"
	"strconv"

	"github.com/hermes-search/hermes-go/segment"
)

// numColumn reads one fast column of a segment as order-preserving u64s
// (for sorting and cursors) or as float64s (for aggregations).
type numColumn struct {
	c   *segment.FastColumn
	typ segment.FieldType
}

// fastField checks that name is a fast field of the reader's schema.
func (r *Reader) fastField(name, use string) (segment.Field, error) {
	f, ok := r.schema.Field(name)
	if !ok {
		return f, fmt.Errorf("hermes: %s: unknown field %q", use, name)
	}
	if !f.FastNumeric() {
		if f.FastKeyword() {
			return f, fmt.Errorf("hermes: %s: field %q is a keyword field; its column serves terms aggregations only", use, name)
		}
		if f.Type == segment.TypeText {
			// Inferred strings are text: say how to get a column.
			return f, fmt.Errorf("hermes: %s: field %q is not a fast field: it is text, which has no column (declare it keyword or numeric with Fast in the schema)", use, name)
		}
		return f, fmt.Errorf("hermes: %s: field %q is not a fast field (set Fast in the schema)", use, name)
	}
	return f, nil
}

func (r *Reader) column(seg int, f segment.Field) (numColumn, error) {
	c, err := r.view.readers[seg].Fast(f.Name)
	if err != nil {
		return numColumn{}, fmt.Errorf("hermes: segment %s: %w", r.view.readers[seg].ID(), err)
	}
	return numColumn{c: c, typ: f.Type.Storage()}, nil
}

// ordered returns doc's value mapped to a u64 of the same order.
func (n numColumn) ordered(doc uint32) (uint64, bool) { return n.c.Raw(doc) }

// float returns doc's value as a float64 (u64 and i64 values beyond 2^53
// are rounded).
func (n numColumn) float(doc uint32) (float64, bool) {
	switch n.typ {
	case segment.TypeU64:
		v, ok := n.c.U64(doc)
		return float64(v), ok
	case segment.TypeI64:
		v, ok := n.c.I64(doc)
		return float64(v), ok
	default:
		return n.c.F64(doc)
	}
}

// orderedF64 maps a float64 to a u64 of the same order (NaN excluded).
func orderedF64(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 0 {
		return b | 1<<63
	}
	return ^b
}

func fromOrderedF64(u uint64) float64 {
	if u>>63 != 0 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// orderedValue converts an ordered u64 of a field of type t back to its
// value, as a float64 and printed exactly: a date as RFC 3339, a bool as
// true or false.
func orderedValue(t segment.FieldType, u uint64) (float64, string) {
	switch t {
	case segment.TypeDate:
		v := int64(u ^ 1<<63)
		return float64(v), segment.FormatDate(v)
	case segment.TypeBool:
		return float64(u), strconv.FormatBool(u == 1)
	}
	switch t.Storage() {
	case segment.TypeU64:
		return float64(u), strconv.FormatUint(u, 10)
	case segment.TypeI64:
		v := int64(u ^ 1<<63)
		return float64(v), strconv.FormatInt(v, 10)
	default:
		f := fromOrderedF64(u)
		return f, strconv.FormatFloat(f, 'g', -1, 64)
	}
}
