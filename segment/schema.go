package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// FieldType is the type of a schema field. The zero value is invalid, so a
// Field whose Type was never set is rejected by NewSchema.
type FieldType uint8

// Field types.
const (
	// TypeText is a string analyzed into terms by a tokenizer.
	TypeText FieldType = iota + 1
	// TypeKeyword is a string indexed as one exact term.
	TypeKeyword
	// TypeU64 is an unsigned 64-bit integer.
	TypeU64
	// TypeI64 is a signed 64-bit integer.
	TypeI64
	// TypeF64 is a 64-bit float (NaN is rejected by Validate).
	TypeF64
	// TypeBytes is an opaque byte string; it can only be stored.
	TypeBytes
	// TypeDate is an instant, held as i64 milliseconds since the Unix epoch
	// (UTC): its values, terms and fast column are those of an i64 field.
	// JSON gives it as an RFC 3339 string or as integer epoch milliseconds.
	TypeDate
	// TypeBool is true or false, held as the u64 1 or 0: its values, terms
	// and fast column are those of a u64 field. JSON gives it as true/false.
	TypeBool
)

var fieldTypeNames = [...]string{
	TypeText:    "text",
	TypeKeyword: "keyword",
	TypeU64:     "u64",
	TypeI64:     "i64",
	TypeF64:     "f64",
	TypeBytes:   "bytes",
	TypeDate:    "date",
	TypeBool:    "bool",
}

// String returns the schema name of the type ("text", "keyword", "u64",
// "i64", "f64", "bytes", "date", "bool").
func (t FieldType) String() string {
	if t >= TypeText && int(t) < len(fieldTypeNames) {
		return fieldTypeNames[t]
	}
	return fmt.Sprintf("FieldType(%d)", uint8(t))
}

func (t FieldType) valid() bool { return t >= TypeText && t <= TypeBool }

// numeric reports whether t is held as a number: u64, i64, f64, date or bool.
func (t FieldType) numeric() bool {
	s := t.Storage()
	return s == TypeU64 || s == TypeI64 || s == TypeF64
}

// Storage returns the type whose values, indexed terms, stored encoding and
// fast column t uses: TypeI64 for TypeDate, TypeU64 for TypeBool, t itself
// otherwise. Code that reads columns or builds terms switches on it.
func (t FieldType) Storage() FieldType {
	switch t {
	case TypeDate:
		return TypeI64
	case TypeBool:
		return TypeU64
	}
	return t
}

// ParseFieldType parses a type name as written by FieldType.String.
func ParseFieldType(s string) (FieldType, error) {
	for t := TypeText; t <= TypeBool; t++ {
		if fieldTypeNames[t] == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown field type %q (want text, keyword, u64, i64, f64, bytes, date or bool)", s)
}

// MarshalJSON writes the type as its name.
func (t FieldType) MarshalJSON() ([]byte, error) {
	if !t.valid() {
		return nil, fmt.Errorf("segment: cannot marshal invalid %v", t)
	}
	return json.Marshal(t.String())
}

// UnmarshalJSON reads a type name.
func (t *FieldType) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("field type must be a string: %w", err)
	}
	v, err := ParseFieldType(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// DefaultTokenizer is the tokenizer of a text field that names none.
const DefaultTokenizer = "simple"

// MaxTermBytes is the longest term the index holds. Validate rejects longer
// indexed keyword values; the builder skips longer tokens of text fields
// (as Lucene does), since such "terms" are almost always binary garbage.
const MaxTermBytes = 32766

// MaxFields is the largest number of fields a schema may have.
const MaxFields = 1024

// maxFieldNameLen bounds field names, which are written into segment files.
const maxFieldNameLen = 255

// Field describes one field of a schema.
type Field struct {
	// Name is the field name: 1-255 bytes of ASCII letters, digits, '_', '-'
	// and '.', starting with a letter or '_'.
	Name string `json:"name"`
	// Type is the value type.
	Type FieldType `json:"type"`
	// Indexed fields are searchable: text is tokenized, keyword is one term,
	// numbers are one order-preserving 8-byte term (see U64Term).
	Indexed bool `json:"indexed,omitempty"`
	// Stored fields are returned by Reader.Document.
	Stored bool `json:"stored,omitempty"`
	// Fast fields get a column for per-document lookup. For u64, i64, f64,
	// date and bool fields the column holds one value per document: of a
	// multi-valued field, the first; so a range or sort on a fast field sees
	// only that value, while an indexed field matches any of them. An
	// indexed keyword field may be fast too: its keyword column holds every
	// value of each document, as ordinals into the segment's sorted terms,
	// for terms aggregations (it cannot sort or answer ranges).
	Fast bool `json:"fast,omitempty"`
	// Positions records token positions (indexed text only), for phrases.
	Positions bool `json:"positions,omitempty"`
	// Primary marks the primary key: at most one per schema, an indexed
	// keyword, u64 or i64 field, present exactly once in every document.
	Primary bool `json:"primary,omitempty"`
	// Tokenizer names the analysis tokenizer of a text field; "" means
	// DefaultTokenizer.
	Tokenizer string `json:"tokenizer,omitempty"`
}

// FastNumeric reports whether the field has a numeric fast column
// (Reader.Fast): a fast u64, i64, f64, date or bool field.
func (f Field) FastNumeric() bool { return f.Fast && f.Type.numeric() }

// FastKeyword reports whether the field has a keyword column
// (Reader.Keywords): a fast keyword field.
func (f Field) FastKeyword() bool { return f.Fast && f.Type == TypeKeyword }

// TokenizerName returns the field's tokenizer name, with the default applied.
func (f Field) TokenizerName() string {
	if f.Tokenizer == "" {
		return DefaultTokenizer
	}
	return f.Tokenizer
}

// UnknownFields says what DecodeJSON does with a JSON member that names no
// field of the schema.
type UnknownFields uint8

const (
	// RejectUnknown (the default) makes an unknown field an error.
	RejectUnknown UnknownFields = iota
	// IgnoreUnknown drops unknown fields' values, whatever they hold; the
	// known fields of a nested object are still taken.
	IgnoreUnknown
	// DynamicUnknown asks for bleve's dynamic mapping: an unknown field is
	// added to the schema with the type inferred from its values (package
	// segment/infer). A running hermes.Writer does it in AddDocument and
	// in its DecodeJSON, and commits the grown schema with the documents
	// (see hermes.Writer.DecodeJSON); `hermes index` reads its whole input
	// first and adds the fields before indexing. A Schema never changes, so
	// its own DecodeJSON and Validate treat unknown fields as
	// RejectUnknown does.
	DynamicUnknown
)

var unknownFieldsNames = [...]string{RejectUnknown: "reject", IgnoreUnknown: "ignore", DynamicUnknown: "dynamic"}

// String returns the schema JSON name: "reject", "ignore" or "dynamic".
func (u UnknownFields) String() string {
	if int(u) < len(unknownFieldsNames) {
		return unknownFieldsNames[u]
	}
	return fmt.Sprintf("UnknownFields(%d)", uint8(u))
}

// Schema is an immutable, validated list of fields. Field order is
// significant: it is the order of fields inside segment files.
type Schema struct {
	fields  []Field
	byName  map[string]int
	primary int // index into fields, -1 if none
	unknown UnknownFields
	// compression is the codec of stored fields in the segments built or
	// merged with this schema.
	compression StoredCompression
}

// WithUnknownFields returns a copy of s whose DecodeJSON treats unknown
// fields as u says. Validate still rejects a Document value of an unknown
// field; a hermes.Writer with DynamicUnknown adds the field instead.
func (s *Schema) WithUnknownFields(u UnknownFields) *Schema {
	c := *s
	c.unknown = u
	return &c
}

// UnknownFields returns what DecodeJSON does with unknown fields.
func (s *Schema) UnknownFields() UnknownFields { return s.unknown }

// WithStoredCompression returns a copy of s whose segments compress their
// stored fields with c (StoredS2 unless set). Segments already written
// keep their codec; a merge rewrites its documents with c. A c that is
// neither StoredS2 nor StoredZstd makes MarshalJSON (so hermes.Create),
// Builder.Add and Merge fail naming it.
func (s *Schema) WithStoredCompression(c StoredCompression) *Schema {
	cp := *s
	cp.compression = c
	return &cp
}

// StoredCompression returns the codec of the stored fields of the segments
// built with s.
func (s *Schema) StoredCompression() StoredCompression { return s.compression }

// NewSchema validates fields and returns a schema. Errors name the field
// and the problem.
func NewSchema(fields ...Field) (*Schema, error) {
	if len(fields) == 0 {
		return nil, fmt.Errorf("segment: schema has no fields")
	}
	if len(fields) > MaxFields {
		return nil, fmt.Errorf("segment: schema has %d fields, at most %d are allowed", len(fields), MaxFields)
	}
	s := &Schema{
		fields:  append([]Field(nil), fields...),
		byName:  make(map[string]int, len(fields)),
		primary: -1,
	}
	for i, f := range s.fields {
		if err := checkField(f); err != nil {
			if f.Name == "" || !validFieldName(f.Name) {
				return nil, fmt.Errorf("segment: schema field #%d: %w", i, err)
			}
			return nil, fmt.Errorf("segment: schema field %q: %w", f.Name, err)
		}
		if _, dup := s.byName[f.Name]; dup {
			return nil, fmt.Errorf("segment: schema field %q: defined twice", f.Name)
		}
		s.byName[f.Name] = i
		if f.Primary {
			if s.primary >= 0 {
				return nil, fmt.Errorf("segment: schema field %q: second primary key (field %q is already primary)",
					f.Name, s.fields[s.primary].Name)
			}
			s.primary = i
		}
	}
	return s, nil
}

func validFieldName(name string) bool {
	if name == "" || len(name) > maxFieldNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9') || c == '-' || c == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func checkField(f Field) error {
	switch {
	case f.Name == "":
		return fmt.Errorf("empty name")
	case !validFieldName(f.Name):
		return fmt.Errorf("invalid name %q: use 1-%d ASCII letters, digits, '_', '-' or '.', starting with a letter or '_'",
			f.Name, maxFieldNameLen)
	case !f.Type.valid():
		if f.Type == 0 {
			return fmt.Errorf("missing type")
		}
		return fmt.Errorf("invalid type %v", f.Type)
	case !f.Indexed && !f.Stored && !f.Fast:
		return fmt.Errorf("field is neither indexed, stored nor fast, so it would be dropped")
	case f.Positions && f.Type != TypeText:
		return fmt.Errorf("positions are only supported on text fields, not %v", f.Type)
	case f.Positions && !f.Indexed:
		return fmt.Errorf("positions require an indexed field")
	case f.Fast && f.Type == TypeKeyword && !f.Indexed:
		return fmt.Errorf("a fast keyword field must be indexed: its column is built from the term dictionary")
	case f.Fast && !f.Type.numeric() && f.Type != TypeKeyword:
		return fmt.Errorf("fast is only supported on u64, i64, f64, date, bool and keyword fields, not %v", f.Type)
	case f.Tokenizer != "" && f.Type != TypeText:
		return fmt.Errorf("tokenizer %q set on a %v field; only text fields are tokenized", f.Tokenizer, f.Type)
	case f.Indexed && f.Type == TypeBytes:
		return fmt.Errorf("bytes fields cannot be indexed, only stored")
	case f.Primary && f.Type != TypeKeyword && f.Type != TypeU64 && f.Type != TypeI64:
		return fmt.Errorf("primary key must be keyword, u64 or i64, not %v", f.Type)
	case f.Primary && !f.Indexed:
		return fmt.Errorf("primary key must be indexed")
	}
	return nil
}

type schemaJSON struct {
	Fields            []Field `json:"fields"`
	UnknownFields     string  `json:"unknown_fields,omitempty"`
	StoredCompression string  `json:"stored_compression,omitempty"`
}

// ParseSchema parses the JSON form {"fields":[{"name":...,"type":...},...]},
// with an optional "unknown_fields": "reject" (the default), "ignore" or
// "dynamic" (see UnknownFields) and an optional "stored_compression": "s2"
// (the default) or "zstd" (see StoredCompression). Unknown keys and
// trailing data are errors.
func ParseSchema(data []byte) (*Schema, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw struct {
		Fields            []json.RawMessage `json:"fields"`
		UnknownFields     string            `json:"unknown_fields"`
		StoredCompression string            `json:"stored_compression"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("segment: parse schema: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("segment: parse schema: unexpected data after the schema object at byte %d", dec.InputOffset())
	}
	fields := make([]Field, 0, len(raw.Fields))
	for i, r := range raw.Fields {
		var f Field
		fd := json.NewDecoder(bytes.NewReader(r))
		fd.DisallowUnknownFields()
		if err := fd.Decode(&f); err != nil {
			// Name the field if its name can be read at all.
			var named struct {
				Name string `json:"name"`
			}
			if json.Unmarshal(r, &named) == nil && named.Name != "" {
				return nil, fmt.Errorf("segment: parse schema: field %q: %w", named.Name, err)
			}
			return nil, fmt.Errorf("segment: parse schema: field #%d: %w", i, err)
		}
		fields = append(fields, f)
	}
	unknown := RejectUnknown
	switch raw.UnknownFields {
	case "", "reject":
	case "ignore":
		unknown = IgnoreUnknown
	case "dynamic":
		unknown = DynamicUnknown
	default:
		return nil, fmt.Errorf("segment: parse schema: unknown_fields %q: want reject, ignore or dynamic", raw.UnknownFields)
	}
	compression := StoredS2
	if raw.StoredCompression != "" {
		c, err := ParseStoredCompression(raw.StoredCompression)
		if err != nil {
			return nil, fmt.Errorf("segment: parse schema: stored_compression %q: want s2 or zstd", raw.StoredCompression)
		}
		compression = c
	}
	s, err := NewSchema(fields...)
	if err != nil {
		return nil, err
	}
	s.unknown, s.compression = unknown, compression
	return s, nil
}

// MarshalJSON writes the schema in the form ParseSchema reads.
func (s *Schema) MarshalJSON() ([]byte, error) {
	j := schemaJSON{Fields: s.fields}
	if s.unknown != RejectUnknown {
		j.UnknownFields = s.unknown.String()
	}
	if s.compression != StoredS2 {
		if !s.compression.valid() { // ParseSchema would refuse it
			return nil, fmt.Errorf("segment: schema: %v", s.compression.err())
		}
		j.StoredCompression = s.compression.String()
	}
	return json.Marshal(j)
}

// Fields returns a copy of the fields, in schema order.
func (s *Schema) Fields() []Field { return append([]Field(nil), s.fields...) }

// NumFields returns the number of fields.
func (s *Schema) NumFields() int { return len(s.fields) }

// Field returns the field with the given name.
func (s *Schema) Field(name string) (Field, bool) {
	i, ok := s.byName[name]
	if !ok {
		return Field{}, false
	}
	return s.fields[i], true
}

// FieldIndex returns the ordinal of the named field, or -1. Segment files
// refer to fields by ordinal.
func (s *Schema) FieldIndex(name string) int {
	i, ok := s.byName[name]
	if !ok {
		return -1
	}
	return i
}

// Primary returns the primary-key field, if the schema has one.
func (s *Schema) Primary() (Field, bool) {
	if s.primary < 0 {
		return Field{}, false
	}
	return s.fields[s.primary], true
}

// Equal reports whether two schemas have the same fields in the same order
// (what segment files depend on; UnknownFields and StoredCompression are
// not compared).
func (s *Schema) Equal(o *Schema) bool {
	if len(s.fields) != len(o.fields) {
		return false
	}
	for i := range s.fields {
		if s.fields[i] != o.fields[i] {
			return false
		}
	}
	return true
}

// Extends reports whether s is old grown by adding fields: every field of
// old is in s, the same and in the same order, and both have the same
// primary key. A segment built with old opens with s (see Open), its
// documents lacking the added fields; this is how an index's schema may
// change (bleve's dynamic mapping), since a field's type never can.
func (s *Schema) Extends(old *Schema) bool {
	_, ok := old.embedIn(s)
	return ok
}

// embedIn returns, when s extends into to (see Extends), the ordinal in to
// of each field of s.
func (s *Schema) embedIn(to *Schema) ([]int, bool) {
	ords := make([]int, len(s.fields))
	j := 0
	for i, f := range to.fields {
		if j < len(s.fields) && s.fields[j].Name == f.Name {
			if s.fields[j] != f {
				return nil, false
			}
			ords[j] = i
			j++
		}
	}
	if j != len(s.fields) {
		return nil, false
	}
	if s.primary < 0 {
		return ords, to.primary < 0
	}
	return ords, ords[s.primary] == to.primary
}
