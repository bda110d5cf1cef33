package segment

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DecodeJSON decodes one JSON object into a document. Strings go to text,
// keyword and (base64) bytes fields; numbers to u64, i64 and f64 fields,
// integers only for u64/i64 (1e3 and 2.0 are integers, 1.5 is not) and in
// range; true and false (or 0 and 1) to bool fields; RFC 3339 strings (see ParseDate) and
// integer epoch milliseconds to date fields; an array gives repeated
// values; null is no value. A nested object is flattened: its members are
// the fields named by their dotted path ({"author":{"name":"x"}} sets the
// field "author.name"), and in an array of objects every object adds its
// values, as Elasticsearch's object (not nested) mapping does. A member
// naming no field is an error, or skipped if the schema says IgnoreUnknown. Keys keep their
// order; a repeated key adds values.
//
// Every problem is a *DocumentError: unknown field, wrong type, bad number
// or base64, invalid UTF-8 (naming the field whose text holds it), or
// malformed JSON (Field "", with the byte offset). DecodeJSON checks types
// only; call Validate for the primary key and the size limit. It is safe
// for concurrent use.
func (s *Schema) DecodeJSON(line []byte) (*Document, error) {
	var sl docSlab
	if doc, ok := s.decodeJSONFast(line, &sl); ok {
		return doc, nil
	}
	return s.decodeJSONSlow(line)
}

// decodeJSONSlow is DecodeJSON on encoding/json's decoder. It runs when the
// fast path gives up, and says exactly what is wrong.
func (s *Schema) decodeJSONSlow(line []byte) (*Document, error) {
	badUTF8 := -1
	if !utf8.Valid(line) {
		badUTF8 = invalidUTF8At(string(line))
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonSyntaxErr(err, dec, line)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, docErr("", "not a JSON object (starts with %s)", describeToken(tok))
	}
	js := &jsonSlow{s: s, dec: dec, line: line, badUTF8: badUTF8, doc: &Document{}}
	if err := js.object(""); err != nil {
		return nil, err
	}
	doc := js.doc
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, jsonSyntaxErr(err, dec, line)
		}
		return nil, docErr("", "invalid JSON: unexpected %s after the object, at byte %d", describeToken(tok), dec.InputOffset())
	}
	if badUTF8 >= 0 {
		return nil, docErr("", "invalid UTF-8 at byte %d", badUTF8)
	}
	return doc, nil
}

// jsonSlow is the state of decodeJSONSlow.
type jsonSlow struct {
	s       *Schema
	dec     *json.Decoder
	line    []byte
	badUTF8 int // offset of the first invalid UTF-8 byte, or -1
	doc     *Document
}

func (js *jsonSlow) token() (json.Token, error) {
	tok, err := js.dec.Token()
	if err != nil {
		return nil, jsonSyntaxErr(err, js.dec, js.line)
	}
	return tok, nil
}

// object decodes the members of an object whose '{' was read, and its '}'.
// A member's field name is prefix + key: nested objects are flattened to
// dotted paths ("author.name").
func (js *jsonSlow) object(prefix string) error {
	for js.dec.More() {
		start := int(js.dec.InputOffset())
		tok, err := js.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string) // Token guarantees a string key inside an object
		key = prefix + key
		if js.badUTF8 >= start && js.badUTF8 < int(js.dec.InputOffset()) {
			return docErr(key, "invalid UTF-8 in the field name at byte %d", js.badUTF8)
		}
		if tok, err = js.token(); err != nil {
			return err
		}
		if err := js.member(key, tok); err != nil {
			return err
		}
		if js.badUTF8 >= start && js.badUTF8 < int(js.dec.InputOffset()) {
			return docErr(key, "invalid UTF-8 at byte %d of the line", js.badUTF8)
		}
	}
	_, err := js.token() // the closing '}'
	return err
}

// member decodes the value of field name, whose first token is tok.
func (js *jsonSlow) member(name string, tok json.Token) error {
	delim, _ := tok.(json.Delim)
	fi, known := js.s.byName[name]
	if !known {
		ignore := js.s.unknown == IgnoreUnknown
		switch delim {
		case '{':
			return js.object(name + ".")
		case '[': // an array of objects flattens each; anything else is unknown
			for js.dec.More() {
				tok, err := js.token()
				if err != nil {
					return err
				}
				d, _ := tok.(json.Delim)
				switch {
				case d == '{':
					err = js.object(name + ".")
				case !ignore:
					return docErr(name, "unknown field (not in the schema)")
				case d == '[':
					err = js.skip()
				}
				if err != nil {
					return err
				}
			}
			_, err := js.token() // the closing ']'
			return err
		}
		if ignore {
			return nil // a scalar: its one token is read
		}
		return docErr(name, "unknown field (not in the schema)")
	}
	f := &js.s.fields[fi]
	if delim != '[' {
		return appendJSONToken(js.doc, f, tok, false)
	}
	for js.dec.More() {
		tok, err := js.token()
		if err != nil {
			return err
		}
		if err := appendJSONToken(js.doc, f, tok, true); err != nil {
			return err
		}
	}
	_, err := js.token() // the closing ']'
	return err
}

// skip reads the rest of an array or object whose opening token was read.
func (js *jsonSlow) skip() error {
	for depth := 1; depth > 0; {
		tok, err := js.token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

func jsonSyntaxErr(err error, dec *json.Decoder, line []byte) *DocumentError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return docErr("", "invalid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return docErr("", "invalid JSON: unexpected end of input at byte %d", len(line))
	}
	return docErr("", "invalid JSON at byte %d: %v", dec.InputOffset(), err)
}

func describeToken(tok any) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{', '}':
			return "object"
		default:
			return "array"
		}
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// appendJSONToken converts one scalar token into a value of field f.
func appendJSONToken(doc *Document, f *Field, tok any, inArray bool) error {
	switch t := tok.(type) {
	case nil:
		return nil
	case json.Delim:
		what := describeToken(t)
		if inArray {
			return docErr(f.Name, "wrong type: got nested %s, schema says %v", what, f.Type)
		}
		return docErr(f.Name, "wrong type: got %s, schema says %v", what, f.Type)
	case bool:
		if f.Type == TypeBool {
			doc.AddBool(f.Name, t)
			return nil
		}
	case string:
		switch f.Type {
		case TypeText, TypeKeyword:
			doc.AddString(f.Name, t)
			return nil
		case TypeDate:
			ms, err := ParseDate(t)
			if err != nil {
				return docErr(f.Name, "%v", err)
			}
			doc.AddI64(f.Name, ms)
			return nil
		case TypeBytes:
			b, err := base64.StdEncoding.DecodeString(t)
			if err != nil {
				return docErr(f.Name, "invalid base64: %v", err)
			}
			doc.AddBytes(f.Name, b)
			return nil
		}
	case json.Number:
		if ok, err := appendJSONNumber(doc, f, string(t)); ok {
			return err
		}
	}
	return docErr(f.Name, "wrong type: got %s, schema says %v", describeToken(tok), f.Type)
}

// appendJSONNumber converts the JSON number s into a value of field f,
// which it reads and does not keep; ok is false if f takes no numbers.
func appendJSONNumber(doc *Document, f *Field, s string) (ok bool, err error) {
	switch f.Type {
	case TypeU64:
		neg, mag, err := parseIntegral(s)
		if err == nil && neg && mag != 0 {
			err = errIntRange
		}
		if err != nil {
			return true, docErr(f.Name, "%s for u64: %s", err.Error(), s)
		}
		doc.AddU64(f.Name, mag)
		return true, nil
	case TypeI64, TypeDate:
		neg, mag, err := parseIntegral(s)
		if err == nil && (!neg && mag > math.MaxInt64 || neg && mag > 1<<63) {
			err = errIntRange
		}
		if err != nil {
			if f.Type == TypeDate {
				return true, docErr(f.Name, "%s for a date in epoch milliseconds: %s", err.Error(), s)
			}
			return true, docErr(f.Name, "%s for i64: %s", err.Error(), s)
		}
		v := int64(mag)
		if neg {
			v = int64(-mag) // two's complement; exact for mag == 1<<63 too
		}
		doc.AddI64(f.Name, v)
		return true, nil
	case TypeBool:
		// 0 and 1 too, so that Document.MarshalJSON (which writes a bool
		// as the u64 it holds) round-trips.
		neg, mag, err := parseIntegral(s)
		if err != nil || mag > 1 || neg && mag != 0 {
			return true, docErr(f.Name, "wrong type: got number %s, schema says bool (true, false, 0 or 1)", s)
		}
		doc.AddBool(f.Name, mag == 1)
		return true, nil
	case TypeF64:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil && (math.IsInf(v, 0) || !errors.Is(err, strconv.ErrRange)) {
			return true, docErr(f.Name, "out of range for f64: %s", s)
		}
		doc.AddF64(f.Name, v)
		return true, nil
	}
	return false, nil
}

var (
	errNotInteger = errors.New("not an integer")
	errIntRange   = errors.New("out of range")
)

// parseIntegral parses a JSON number that must be an integer (in any
// notation) and returns its sign and magnitude. It never builds huge
// numbers, so inputs like 1e999999999 are rejected in constant time.
func parseIntegral(s string) (neg bool, mag uint64, err error) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := strings.TrimPrefix(s[i+1:], "+")
		n, perr := strconv.Atoi(e)
		if perr != nil || n > 1000 || n < -1000 {
			// A ludicrous exponent: only zero survives it.
			if strings.Trim(mant, "0.") == "" {
				return neg, 0, nil
			}
			if strings.HasPrefix(e, "-") {
				return neg, 0, errNotInteger
			}
			return neg, 0, errIntRange
		}
		exp = n
	}
	digits := mant
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		digits = mant[:i] + mant[i+1:]
		exp -= len(mant) - i - 1
	}
	digits = strings.TrimLeft(digits, "0")
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if digits == "" {
		return neg, 0, nil
	}
	if exp < 0 {
		return neg, 0, errNotInteger
	}
	if len(digits)+exp > 20 {
		return neg, 0, errIntRange
	}
	mag, perr := strconv.ParseUint(digits+strings.Repeat("0", exp), 10, 64)
	if perr != nil {
		return neg, 0, errIntRange
	}
	return neg, mag, nil
}

// ParseDate parses a date as a date field takes it from JSON and queries:
// an RFC 3339 timestamp ("2024-05-01T12:30:00Z", "2024-05-01T12:30:00.250+02:00")
// or a bare UTC day ("2024-05-01"), and returns its epoch milliseconds
// (finer precision is truncated).
func ParseDate(s string) (int64, error) {
	layout := time.RFC3339Nano
	if len(s) == len("2006-01-02") {
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return 0, fmt.Errorf("not a date: %q (want RFC 3339, as 2024-05-01T12:30:00Z, or a day, as 2024-05-01)", s)
	}
	return t.UnixMilli(), nil
}
