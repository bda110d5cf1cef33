// Package infer guesses schema fields from values: from the lines of a
// JSON-lines input (Sampler: `hermes index` without --schema, and dynamic
// mapping of JSON in a running writer, hermes.Writer.DecodeJSON), and from
// the typed values of a Go document (ValueField: dynamic mapping in
// hermes.Writer.AddDocument).
//
// The rules are few and predictable, so that a user can tell what they got
// and write a schema file when they need something else:
//
//   - "id" becomes the primary key: a stored keyword, or a stored i64 (u64
//     if a value is past the i64 range) if every sampled value is an
//     integer;
//   - a field whose every string is an RFC 3339 timestamp or a day
//     ("2024-05-01") becomes a stored, indexed, fast date;
//   - any other field holding strings becomes stored text, tokenized by the
//     "simple" tokenizer, with positions (so phrase queries work);
//   - a field holding integers becomes a stored, indexed, fast i64 (u64 if
//     a value is past the i64 range and none is negative), one holding any
//     number written with a fraction or exponent a stored, indexed, fast
//     f64;
//   - a field holding true/false becomes a stored, indexed, fast bool;
//   - nested objects are flattened to dotted names ("author.name"), as
//     DecodeJSON does, arrays of objects too;
//   - arrays give multi-valued fields of their elements' type; null is
//     ignored, and a field that is null in every sampled line becomes text.
//
// Numbers, dates and booleans are indexed as well as fast because a fast
// column keeps one value per document, the first of an array, while the
// term index keeps every value: term and range queries find a document by
// any value of its array; sorts and aggregations read the fast column.
//
// Fields that mix strings, numbers and booleans, and arrays of arrays, are
// errors naming the field and the line, with the fix: a schema file.
package infer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/hermes-search/hermes-go/segment"
)

// PrimaryField is the name of the field that becomes the primary key.
const PrimaryField = "id"

// kind is what the sample showed for one field.
type kind uint8

const (
	kindNull kind = iota
	kindString
	kindDate     // strings, all RFC 3339 timestamps or days
	kindInteger  // integers in [0, MaxInt64]
	kindNegative // integers with a negative one, all in the i64 range
	kindBig      // non-negative integers, one past MaxInt64
	kindFloat
	kindBool
)

func (k kind) String() string {
	switch k {
	case kindString, kindDate:
		return "a string"
	case kindInteger, kindNegative, kindBig, kindFloat:
		return "a number"
	case kindBool:
		return "a boolean"
	}
	return "null"
}

func (k kind) number() bool { return k >= kindInteger && k <= kindFloat }

type fieldSeen struct {
	name      string
	kind      kind
	firstLine int // line of the first non-null value
}

// Sampler accumulates the lines of a sample. The zero value is ready.
type Sampler struct {
	// Known, if set, names the fields a schema already has: their values
	// are not sampled (for dynamic mapping, which infers only the others).
	Known func(name string) bool
	// Fix is the way out Add's errors suggest to the user; "" is
	// "pass --schema", the CLI's.
	Fix string

	fields []*fieldSeen
	byName map[string]*fieldSeen
	lines  int
}

// Lines returns how many lines were added.
func (s *Sampler) Lines() int { return s.lines }

// Add records the fields of one JSON object, read from line number lineNo.
// An error names the line and the field; a line that fails leaves the
// sampler unchanged, so a caller may skip it and go on.
func (s *Sampler) Add(line []byte, lineNo int) error {
	obs, err := observe(line, lineNo, s.fix())
	if err != nil {
		return err
	}
	if s.Known != nil {
		unknown := obs[:0]
		for _, o := range obs {
			if !s.Known(o.name) {
				unknown = append(unknown, o)
			}
		}
		obs = unknown
	}
	// Check every observation before recording any.
	pending := map[string]kind{}
	for _, o := range obs {
		cur, first := kindNull, lineNo
		if f := s.byName[o.name]; f != nil {
			cur, first = f.kind, f.firstLine
		}
		if k, ok := pending[o.name]; ok && k != kindNull {
			cur, first = k, lineNo
		}
		k, err := merge(cur, o.kind)
		if err != nil {
			return fmt.Errorf("line %d: field %q holds %v, but %v on line %d; make it one type, or %s",
				lineNo, o.name, o.kind, cur, first, s.fix())
		}
		pending[o.name] = k
	}
	if s.byName == nil {
		s.byName = map[string]*fieldSeen{}
	}
	for _, o := range obs {
		f := s.byName[o.name]
		if f == nil {
			f = &fieldSeen{name: o.name}
			s.byName[o.name] = f
			s.fields = append(s.fields, f)
		}
		if f.kind == kindNull && o.kind != kindNull {
			f.firstLine = lineNo
		}
		f.kind, _ = merge(f.kind, o.kind)
	}
	s.lines++
	return nil
}

func (s *Sampler) fix() string {
	if s.Fix == "" {
		return "pass --schema"
	}
	return s.Fix
}

// merge combines two kinds seen for one field: null gives way to anything,
// dates widen to strings, integers to i64 with negatives, u64 past the i64
// range, or f64; strings, numbers and booleans do not mix.
func merge(a, b kind) (kind, error) {
	if a > b {
		a, b = b, a
	}
	switch {
	case a == kindNull:
		return b, nil
	case a == b:
		return a, nil
	case a == kindString && b == kindDate:
		return kindString, nil
	case a.number() && b.number():
		if a == kindNegative && b == kindBig {
			return kindFloat, nil
		}
		return b, nil
	}
	return a, errors.New("mixed types")
}

type observation struct {
	name string
	kind kind
}

// observe lists the (field, kind) pairs of one line, one per value.
func observe(line []byte, lineNo int, fix string) ([]observation, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("line %d: not a JSON object; each line must be one object like {\"id\":\"1\",\"text\":\"...\"}", lineNo)
	}
	var obs []observation
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("line %d: invalid JSON: %v", lineNo, trimJSONErr(err))
		}
		name, _ := tok.(string)
		obs, err = observeValue(dec, obs, name, lineNo, false, fix)
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("line %d: invalid JSON: %v", lineNo, trimJSONErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("line %d: invalid JSON: more than one value on the line", lineNo)
	}
	return obs, nil
}

// observeValue reads the value of field name and appends what it holds.
func observeValue(dec *json.Decoder, obs []observation, name string, lineNo int, inArray bool, fix string) ([]observation, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("line %d: invalid JSON in field %q: %v", lineNo, name, trimJSONErr(err))
	}
	switch t := tok.(type) {
	case nil:
		return append(obs, observation{name, kindNull}), nil
	case string:
		if looksLikeDate(t) {
			return append(obs, observation{name, kindDate}), nil
		}
		return append(obs, observation{name, kindString}), nil
	case json.Number:
		return append(obs, observation{name, numberKind(string(t))}), nil
	case bool:
		return append(obs, observation{name, kindBool}), nil
	case json.Delim:
		switch {
		case t == '{': // flattened to dotted names, as DecodeJSON does
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("line %d: invalid JSON in field %q: %v", lineNo, name, trimJSONErr(err))
				}
				key, _ := tok.(string)
				if obs, err = observeValue(dec, obs, name+"."+key, lineNo, false, fix); err != nil {
					return nil, err
				}
			}
		case t == '[' && !inArray:
			for dec.More() {
				if obs, err = observeValue(dec, obs, name, lineNo, true, fix); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("line %d: field %q holds a nested array, which is not supported: flatten it, or %s", lineNo, name, fix)
		}
		if _, err := dec.Token(); err != nil { // ']' or '}'
			return nil, fmt.Errorf("line %d: invalid JSON in field %q: %v", lineNo, name, trimJSONErr(err))
		}
		return obs, nil
	}
	return nil, fmt.Errorf("line %d: field %q: unexpected JSON token %v", lineNo, name, tok)
}

// looksLikeDate reports whether s is a date a date field takes.
func looksLikeDate(s string) bool {
	if len(s) < len("2006-01-02") || s[4] != '-' {
		return false
	}
	_, err := segment.ParseDate(s)
	return err == nil
}

// numberKind classifies one JSON number.
func numberKind(s string) kind {
	if strings.ContainsAny(s, ".eE") {
		return kindFloat
	}
	if strings.HasPrefix(s, "-") {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return kindFloat
		}
		return kindNegative
	}
	u, err := strconv.ParseUint(s, 10, 64)
	switch {
	case err != nil:
		return kindFloat
	case u > math.MaxInt64:
		return kindBig
	}
	return kindInteger
}

// Schema returns the schema the sample suggests, "id" first, then the other
// fields in the order they first appeared.
func (s *Sampler) Schema() (*segment.Schema, error) {
	if s.lines == 0 {
		return nil, errors.New("the input is empty: there is nothing to infer a schema from")
	}
	var fields []segment.Field
	if f := s.byName[PrimaryField]; f != nil {
		pk := segment.Field{Name: f.name, Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true}
		switch f.kind {
		case kindInteger, kindNegative:
			pk.Type = segment.TypeI64
		case kindBig:
			pk.Type = segment.TypeU64
		case kindFloat:
			return nil, fmt.Errorf("line %d: field %q, the primary key, holds a fractional number (or one past the 64-bit range); use strings or integers, or pass --schema", f.firstLine, f.name)
		case kindBool:
			return nil, fmt.Errorf("line %d: field %q, the primary key, holds a boolean; use strings or integers, or pass --schema", f.firstLine, f.name)
		}
		fields = append(fields, pk)
	}
	for _, f := range s.fields {
		if f.name != PrimaryField {
			fields = append(fields, f.field())
		}
	}
	schema, err := segment.NewSchema(fields...)
	if err != nil {
		return nil, fmt.Errorf("the schema inferred from the first %d lines is not valid: %w; pass --schema", s.lines, err)
	}
	return schema, nil
}

// Fields returns a field for every sampled name, in the order they first
// appeared, typed as Schema types them, none primary: the fields dynamic
// mapping adds to a schema (with Known set to that schema's fields).
func (s *Sampler) Fields() []segment.Field {
	fields := make([]segment.Field, len(s.fields))
	for i, f := range s.fields {
		fields[i] = f.field()
	}
	return fields
}

// TypedFields is Fields without the fields that held only null: what
// dynamic mapping adds for one document, whose null says nothing of a
// field's type (a later value types it).
func (s *Sampler) TypedFields() []segment.Field {
	var fields []segment.Field
	for _, f := range s.fields {
		if f.kind != kindNull {
			fields = append(fields, f.field())
		}
	}
	return fields
}

// field is the schema field of what was seen.
func (f *fieldSeen) field() segment.Field {
	switch f.kind {
	case kindDate:
		return segment.Field{Name: f.name, Type: segment.TypeDate, Indexed: true, Stored: true, Fast: true}
	case kindInteger, kindNegative:
		return segment.Field{Name: f.name, Type: segment.TypeI64, Indexed: true, Stored: true, Fast: true}
	case kindBig:
		return segment.Field{Name: f.name, Type: segment.TypeU64, Indexed: true, Stored: true, Fast: true}
	case kindFloat:
		return segment.Field{Name: f.name, Type: segment.TypeF64, Indexed: true, Stored: true, Fast: true}
	case kindBool:
		return segment.Field{Name: f.name, Type: segment.TypeBool, Indexed: true, Stored: true, Fast: true}
	}
	return segment.Field{Name: f.name, Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "simple"}
}

// Describe lists a schema's fields in one line, e.g.
// `id (keyword, primary), title (text), year (f64, fast)`.
func Describe(s *segment.Schema) string {
	var parts []string
	for _, f := range s.Fields() {
		attrs := []string{f.Type.String()}
		if f.Primary {
			attrs = append(attrs, "primary")
		}
		if f.Type == segment.TypeText && f.TokenizerName() != segment.DefaultTokenizer {
			attrs = append(attrs, "tokenizer "+f.TokenizerName())
		}
		if f.Positions {
			attrs = append(attrs, "positions")
		}
		if f.Fast {
			attrs = append(attrs, "fast")
		}
		if !f.Stored {
			attrs = append(attrs, "not stored")
		}
		if !f.Indexed && f.Type != segment.TypeBytes {
			attrs = append(attrs, "not indexed")
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", f.Name, strings.Join(attrs, ", ")))
	}
	return strings.Join(parts, ", ")
}

func trimJSONErr(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

// ValueField returns the field dynamic mapping adds for a Go document's
// value v of an unknown field, typed by the value's kind, with the options
// Sampler gives: a string gives text (a Go value says nothing of dates:
// AddDate and AddBool give i64 and u64 values, which give i64 and u64
// fields; declare date and bool fields in the schema), an i64 an indexed,
// fast i64, a u64 an indexed, fast u64, an f64 an indexed, fast f64, and
// bytes a stored bytes field.
func ValueField(v segment.FieldValue) segment.Field {
	switch v.Kind {
	case segment.KindU64:
		return (&fieldSeen{name: v.Field, kind: kindBig}).field()
	case segment.KindI64:
		return (&fieldSeen{name: v.Field, kind: kindInteger}).field()
	case segment.KindF64:
		return (&fieldSeen{name: v.Field, kind: kindFloat}).field()
	case segment.KindBytes:
		return segment.Field{Name: v.Field, Type: segment.TypeBytes, Stored: true}
	}
	return (&fieldSeen{name: v.Field, kind: kindString}).field()
}
