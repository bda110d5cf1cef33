package segment

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// ValueKind is the kind of a FieldValue.
type ValueKind uint8

// Value kinds. Text and keyword fields take KindString; u64, i64, f64 and
// bytes fields take the matching kind; date fields take KindI64 (epoch
// milliseconds, see AddDate) and bool fields KindU64 (1 or 0, see AddBool).
const (
	KindString ValueKind = iota + 1
	KindU64
	KindI64
	KindF64
	KindBytes
)

// String returns the kind's name, using the field type names ("string",
// "u64", "i64", "f64", "bytes").
func (k ValueKind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindU64:
		return "u64"
	case KindI64:
		return "i64"
	case KindF64:
		return "f64"
	case KindBytes:
		return "bytes"
	}
	return fmt.Sprintf("ValueKind(%d)", uint8(k))
}

// kindFor returns the value kind a field type accepts.
func kindFor(t FieldType) ValueKind {
	switch t {
	case TypeText, TypeKeyword:
		return KindString
	case TypeU64, TypeBool:
		return KindU64
	case TypeI64, TypeDate:
		return KindI64
	case TypeF64:
		return KindF64
	case TypeBytes:
		return KindBytes
	}
	return 0
}

// FieldValue is one value of one field. Only the member selected by Kind
// is meaningful.
type FieldValue struct {
	Field string
	Kind  ValueKind
	Str   string
	U64   uint64
	I64   int64
	F64   float64
	Bytes []byte
}

// Document is a list of field values. A field may repeat (multi-valued);
// values keep their order, which is also the order Reader.Document returns.
type Document struct {
	Values []FieldValue
}

// AddString appends a string value (for text and keyword fields).
func (d *Document) AddString(field, s string) *Document {
	d.Values = append(d.Values, FieldValue{Field: field, Kind: KindString, Str: s})
	return d
}

// AddU64 appends an unsigned integer value.
func (d *Document) AddU64(field string, v uint64) *Document {
	d.Values = append(d.Values, FieldValue{Field: field, Kind: KindU64, U64: v})
	return d
}

// AddI64 appends a signed integer value.
func (d *Document) AddI64(field string, v int64) *Document {
	d.Values = append(d.Values, FieldValue{Field: field, Kind: KindI64, I64: v})
	return d
}

// AddF64 appends a float value.
func (d *Document) AddF64(field string, v float64) *Document {
	d.Values = append(d.Values, FieldValue{Field: field, Kind: KindF64, F64: v})
	return d
}

// AddDate appends a date value: t as i64 milliseconds since the Unix epoch
// (finer precision is truncated), the value a date field holds.
func (d *Document) AddDate(field string, t time.Time) *Document {
	return d.AddI64(field, t.UnixMilli())
}

// AddBool appends a bool value: the u64 1 or 0, the value a bool field
// holds.
func (d *Document) AddBool(field string, b bool) *Document {
	var v uint64
	if b {
		v = 1
	}
	return d.AddU64(field, v)
}

// AddBytes appends a byte-string value. The slice is not copied.
func (d *Document) AddBytes(field string, b []byte) *Document {
	d.Values = append(d.Values, FieldValue{Field: field, Kind: KindBytes, Bytes: b})
	return d
}

// Get returns the first value of field.
func (d *Document) Get(field string) (FieldValue, bool) {
	for _, v := range d.Values {
		if v.Field == field {
			return v, true
		}
	}
	return FieldValue{}, false
}

// GetAll returns every value of field, in order.
func (d *Document) GetAll(field string) []FieldValue {
	var out []FieldValue
	for _, v := range d.Values {
		if v.Field == field {
			out = append(out, v)
		}
	}
	return out
}

// SizeBytes is the document's payload size: for each value, the length of
// the field name plus the string/bytes length, or 8 for a number. It is the
// measure Validate's maxBytes limits and batching budgets use.
func (d *Document) SizeBytes() int {
	n := 0
	for i := range d.Values {
		n += d.Values[i].sizeBytes()
	}
	return n
}

// sizeBytes is v's part of its document's SizeBytes.
func (v *FieldValue) sizeBytes() int {
	switch v.Kind {
	case KindString:
		return len(v.Field) + len(v.Str)
	case KindBytes:
		return len(v.Field) + len(v.Bytes)
	}
	return len(v.Field) + 8
}

// MarshalJSON writes the document as one JSON object in the form DecodeJSON
// reads: fields in order of first appearance, a repeated field as an array,
// bytes as base64. Infinite floats cannot be written and are an error. It
// knows no schema, so a date is its epoch milliseconds and a bool its 1 or
// 0; Schema.MarshalDocument writes them as a user wrote them.
func (d *Document) MarshalJSON() ([]byte, error) { return d.marshalJSON(nil) }

// MarshalDocument is Document.MarshalJSON with the schema's types: a date
// field's value as an RFC 3339 UTC string with milliseconds (see
// FormatDate), a bool field's as true or false. DecodeJSON reads the
// result back to the same document.
func (s *Schema) MarshalDocument(d *Document) ([]byte, error) { return d.marshalJSON(s) }

// FormatDate writes epoch milliseconds as an RFC 3339 UTC timestamp,
// "2024-05-01T10:30:00.25Z", which ParseDate reads back; a date outside the
// years 0-9999, which RFC 3339 cannot write, stays a decimal number.
func FormatDate(ms int64) string {
	if s, ok := formatDate(ms); ok {
		return s
	}
	return strconv.FormatInt(ms, 10)
}

func formatDate(ms int64) (string, bool) {
	t := time.UnixMilli(ms).UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return "", false
	}
	return t.Format("2006-01-02T15:04:05.999Z07:00"), true
}

func (d *Document) marshalJSON(s *Schema) ([]byte, error) {
	var order []string
	groups := make(map[string][]int)
	for i, v := range d.Values {
		if _, ok := groups[v.Field]; !ok {
			order = append(order, v.Field)
		}
		groups[v.Field] = append(groups[v.Field], i)
	}
	buf := []byte{'{'}
	for n, name := range order {
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, name)
		buf = append(buf, ':')
		idx := groups[name]
		if len(idx) > 1 {
			buf = append(buf, '[')
		}
		for j, i := range idx {
			if j > 0 {
				buf = append(buf, ',')
			}
			v := &d.Values[i]
			typ := FieldType(0)
			if s != nil {
				if fi, ok := s.byName[v.Field]; ok {
					typ = s.fields[fi].Type
				}
			}
			switch {
			case typ == TypeDate && v.Kind == KindI64:
				if str, ok := formatDate(v.I64); ok {
					buf = appendJSONString(buf, str)
					continue
				}
			case typ == TypeBool && v.Kind == KindU64 && v.U64 <= 1:
				buf = strconv.AppendBool(buf, v.U64 == 1)
				continue
			}
			var err error
			buf, err = appendJSONValue(buf, v)
			if err != nil {
				return nil, err
			}
		}
		if len(idx) > 1 {
			buf = append(buf, ']')
		}
	}
	return append(buf, '}'), nil
}

func appendJSONString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s) // cannot fail for a string
	return append(buf, b...)
}

func appendJSONValue(buf []byte, v *FieldValue) ([]byte, error) {
	switch v.Kind {
	case KindString:
		return appendJSONString(buf, v.Str), nil
	case KindU64:
		return strconv.AppendUint(buf, v.U64, 10), nil
	case KindI64:
		return strconv.AppendInt(buf, v.I64, 10), nil
	case KindF64:
		if math.IsNaN(v.F64) || math.IsInf(v.F64, 0) {
			return nil, &DocumentError{Field: v.Field, Problem: fmt.Sprintf("%v cannot be written as JSON", v.F64)}
		}
		b := strconv.AppendFloat(buf, v.F64, 'g', -1, 64)
		return b, nil
	case KindBytes:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, v.Bytes)
		return append(buf, '"'), nil
	}
	return nil, &DocumentError{Field: v.Field, Problem: fmt.Sprintf("invalid value kind %v", v.Kind)}
}

// DocumentError reports a document that does not fit the schema.
type DocumentError struct {
	// Field is the offending field, or "" for a problem with the whole
	// document (size, JSON syntax).
	Field string
	// Problem says what is wrong.
	Problem string
	// Line is the 1-based input line, set by callers reading JSONL; 0
	// otherwise.
	Line int
}

// Error formats as `line 3: field "title": wrong type: got u64, schema says text`.
func (e *DocumentError) Error() string {
	s := ""
	if e.Line > 0 {
		s = "line " + strconv.Itoa(e.Line) + ": "
	}
	if e.Field != "" {
		s += "field " + strconv.Quote(e.Field) + ": "
	} else {
		s += "document: "
	}
	return s + e.Problem
}

func docErr(field, format string, args ...any) *DocumentError {
	return &DocumentError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Validate checks d against the schema: every field known, every value of
// the field's kind, strings valid UTF-8, floats not NaN, indexed keywords
// at most MaxTermBytes, the primary key present exactly once (and not an
// empty string), and, if maxBytes > 0, SizeBytes at most maxBytes. It
// returns nil or a *DocumentError.
func (s *Schema) Validate(d *Document, maxBytes int) error {
	_, err := s.validate(d, maxBytes, true)
	return err
}

// ValidateFields is Validate without its check that string values are
// valid UTF-8, for a caller that makes that check in a pass over the
// strings of its own (the writer's, as it copies them into a document's
// wire form) and calls Validate for the error when it fails. On success it
// returns the index in d.Values of the primary key's value (-1 without a
// primary key). On failure its error may differ from Validate's, which
// reports the first problem in order, an invalid string included.
func (s *Schema) ValidateFields(d *Document, maxBytes int) (primary int, err error) {
	return s.validate(d, maxBytes, false)
}

func (s *Schema) validate(d *Document, maxBytes int, checkUTF8 bool) (primary int, err error) {
	if d == nil {
		return -1, docErr("", "nil document")
	}
	// SizeBytes, summed in the same pass: a document too large is
	// reported before any problem of its values.
	size, primaries, primary := 0, 0, -1
	fi := -1 // the last value's field: values mostly come in the schema's order
	for i := range d.Values {
		v := &d.Values[i]
		size += v.sizeBytes()
		fi = s.fieldAfter(fi, v.Field)
		if fi < 0 {
			return -1, s.tooLarge(d, maxBytes, docErr(v.Field, "unknown field (not in the schema)"))
		}
		if err := s.validateValue(v, fi, checkUTF8); err != nil {
			return -1, s.tooLarge(d, maxBytes, err)
		}
		if fi == s.primary {
			primaries++
			primary = i
		}
	}
	if maxBytes > 0 && size > maxBytes {
		return -1, docErr("", "too large: %d bytes, the limit is %d", size, maxBytes)
	}
	if s.primary >= 0 {
		name := s.fields[s.primary].Name
		switch {
		case primaries == 0:
			return -1, docErr(name, "missing primary key")
		case primaries > 1:
			return -1, docErr(name, "primary key given %d times, want exactly once", primaries)
		}
	}
	return primary, nil
}

// fieldAfter returns the index of the field named name, -1 if the schema
// has none. prev is the previous value's field (-1 for none): values
// mostly come in the schema's order, so it tries prev (a repeated field)
// and the field after prev before it looks name up in the map.
func (s *Schema) fieldAfter(prev int, name string) int {
	if prev >= 0 && s.fields[prev].Name == name {
		return prev
	}
	if next := prev + 1; next < len(s.fields) && s.fields[next].Name == name {
		return next
	}
	if i, ok := s.byName[name]; ok {
		return i
	}
	return -1
}

// tooLarge returns the error for a document too large if d is, and err
// otherwise: the size is reported first.
func (s *Schema) tooLarge(d *Document, maxBytes int, err error) error {
	if maxBytes > 0 {
		if n := d.SizeBytes(); n > maxBytes {
			return docErr("", "too large: %d bytes, the limit is %d", n, maxBytes)
		}
	}
	return err
}

// validateValue checks one value of field fi.
func (s *Schema) validateValue(v *FieldValue, fi int, checkUTF8 bool) error {
	f := &s.fields[fi]
	if want := kindFor(f.Type); v.Kind != want {
		return docErr(v.Field, "wrong type: got %v, schema says %v", v.Kind, f.Type)
	}
	switch v.Kind {
	case KindString:
		if checkUTF8 && !utf8.ValidString(v.Str) {
			return invalidUTF8(v.Field, v.Str)
		}
		if f.Type == TypeKeyword && f.Indexed && len(v.Str) > MaxTermBytes {
			return docErr(v.Field, "keyword is %d bytes, longer than the %d-byte term limit", len(v.Str), MaxTermBytes)
		}
	case KindF64:
		if math.IsNaN(v.F64) {
			return docErr(v.Field, "NaN is not allowed")
		}
	case KindU64:
		if f.Type == TypeBool && v.U64 > 1 {
			return docErr(v.Field, "bool value must be 0 (false) or 1 (true), got %d", v.U64)
		}
	}
	if fi == s.primary && v.Kind == KindString && v.Str == "" {
		return docErr(v.Field, "empty primary key")
	}
	return nil
}

// invalidUTF8 is the error for a string value of field that is not valid
// UTF-8, naming the byte where it stops being.
func invalidUTF8(field, str string) *DocumentError {
	return docErr(field, "invalid UTF-8 at byte %d", invalidUTF8At(str))
}

func invalidUTF8At(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// PrimaryKey returns the indexed term of d's primary key (the first value
// of the primary field), or false if the schema has no primary key or d
// lacks it.
func (s *Schema) PrimaryKey(d *Document) ([]byte, bool) {
	if s.primary < 0 || d == nil {
		return nil, false
	}
	f := &s.fields[s.primary]
	for i := range d.Values {
		v := &d.Values[i]
		if v.Field != f.Name || v.Kind != kindFor(f.Type) {
			continue
		}
		return indexedTerm(nil, v), true
	}
	return nil, false
}

// indexedTerm appends the single term of a keyword or numeric value.
func indexedTerm(dst []byte, v *FieldValue) []byte {
	switch v.Kind {
	case KindString:
		return append(dst, v.Str...)
	case KindU64:
		return binary.BigEndian.AppendUint64(dst, v.U64)
	case KindI64:
		return binary.BigEndian.AppendUint64(dst, uint64(v.I64)^(1<<63))
	case KindF64:
		return binary.BigEndian.AppendUint64(dst, f64Sortable(v.F64))
	}
	return dst
}

// U64Term returns the indexed term of a u64 value: 8 bytes big-endian, so
// byte order is numeric order.
func U64Term(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// I64Term returns the indexed term of an i64 value: the sign bit flipped,
// then 8 bytes big-endian, so byte order is numeric order.
func I64Term(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)^(1<<63)) }

// F64Term returns the indexed term of an f64 value: IEEE bits made
// order-preserving (negatives fully flipped, positives sign-flipped; -0 is
// indexed as +0), 8 bytes big-endian.
func F64Term(v float64) []byte { return binary.BigEndian.AppendUint64(nil, f64Sortable(v)) }

func f64Sortable(v float64) uint64 {
	if v == 0 {
		v = 0 // fold -0 into +0
	}
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// KeyValue returns the value of primary-key field f whose indexed term is
// term (see Reader.Key): a keyword's string, or the u64 or i64 it encodes.
func KeyValue(f Field, term []byte) FieldValue {
	v := FieldValue{Field: f.Name, Kind: kindFor(f.Type)}
	switch {
	case f.Type == TypeKeyword:
		v.Str = string(term)
	case len(term) != 8:
	case f.Type == TypeU64:
		v.U64 = binary.BigEndian.Uint64(term)
	case f.Type == TypeI64:
		v.I64 = int64(binary.BigEndian.Uint64(term) ^ 1<<63)
	}
	return v
}
