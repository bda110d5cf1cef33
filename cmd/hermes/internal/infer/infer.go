// Package infer guesses an index schema from the first lines of a JSON-lines
// input, for `hermes index` without --schema.
//
// The rules are few and predictable, so that a user can tell what they got
// and write a schema file when they need something else:
//
//   - "id" becomes the primary key: a stored keyword, or a stored i64 if
//     every sampled value is an integer;
//   - any other field holding strings becomes stored text, tokenized by the
//     "simple" tokenizer, with positions (so phrase queries work);
//   - a field holding numbers becomes a stored, fast f64;
//   - arrays give multi-valued fields of their elements' type; null is
//     ignored, and a field that is null in every sampled line becomes text.
//
// Values no schema type can hold (booleans, nested objects) and fields that
// mix strings and numbers are errors naming the field and the line, with the
// fix: a schema file.
package infer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	kindInteger
	kindFloat
)

func (k kind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindInteger, kindFloat:
		return "a number"
	}
	return "null"
}

type fieldSeen struct {
	name      string
	kind      kind
	firstLine int // line of the first non-null value
}

// Sampler accumulates the lines of a sample. The zero value is ready.
type Sampler struct {
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
	obs, err := observe(line, lineNo)
	if err != nil {
		return err
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
			return fmt.Errorf("line %d: field %q holds %v, but %v on line %d; make it one type, or pass --schema",
				lineNo, o.name, o.kind, cur, first)
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

// merge combines two kinds seen for one field: null gives way to anything,
// integers widen to floats, strings and numbers do not mix.
func merge(a, b kind) (kind, error) {
	switch {
	case a == kindNull:
		return b, nil
	case b == kindNull, a == b:
		return a, nil
	case a == kindString || b == kindString:
		return a, errors.New("mixed strings and numbers")
	}
	return kindFloat, nil
}

type observation struct {
	name string
	kind kind
}

// observe lists the (field, kind) pairs of one line, one per value.
func observe(line []byte, lineNo int) ([]observation, error) {
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
		obs, err = observeValue(dec, obs, name, lineNo, false)
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
func observeValue(dec *json.Decoder, obs []observation, name string, lineNo int, inArray bool) ([]observation, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("line %d: invalid JSON in field %q: %v", lineNo, name, trimJSONErr(err))
	}
	switch t := tok.(type) {
	case nil:
		return append(obs, observation{name, kindNull}), nil
	case string:
		return append(obs, observation{name, kindString}), nil
	case json.Number:
		if strings.ContainsAny(string(t), ".eE") {
			return append(obs, observation{name, kindFloat}), nil
		}
		return append(obs, observation{name, kindInteger}), nil
	case bool:
		return nil, fmt.Errorf("line %d: field %q holds a boolean, which no schema type can hold: use a string (\"true\") or 0/1, or pass --schema", lineNo, name)
	case json.Delim:
		if t == '[' && !inArray {
			for dec.More() {
				if obs, err = observeValue(dec, obs, name, lineNo, true); err != nil {
					return nil, err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, fmt.Errorf("line %d: invalid JSON in field %q: %v", lineNo, name, trimJSONErr(err))
			}
			return obs, nil
		}
		what := "a nested object"
		if t == '[' {
			what = "a nested array"
		}
		return nil, fmt.Errorf("line %d: field %q holds %s, which is not supported: flatten it into top-level fields, or pass --schema", lineNo, name, what)
	}
	return nil, fmt.Errorf("line %d: field %q: unexpected JSON token %v", lineNo, name, tok)
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
		case kindInteger:
			pk.Type = segment.TypeI64
		case kindFloat:
			return nil, fmt.Errorf("line %d: field %q, the primary key, holds a fractional number; use strings or integers, or pass --schema", f.firstLine, f.name)
		}
		fields = append(fields, pk)
	}
	for _, f := range s.fields {
		if f.name == PrimaryField {
			continue
		}
		switch f.kind {
		case kindString, kindNull:
			fields = append(fields, segment.Field{Name: f.name, Type: segment.TypeText, Indexed: true, Stored: true,
				Positions: true, Tokenizer: "simple"})
		case kindInteger, kindFloat:
			fields = append(fields, segment.Field{Name: f.name, Type: segment.TypeF64, Stored: true, Fast: true})
		}
	}
	schema, err := segment.NewSchema(fields...)
	if err != nil {
		return nil, fmt.Errorf("the schema inferred from the first %d lines is not valid: %w; pass --schema", s.lines, err)
	}
	return schema, nil
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
