package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hermes-search/hermes-go/cmd/hermes/internal/jsonl"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/infer"
	"github.com/hermes-search/hermes-go/storage"
)

const dynamicAbout = `

A schema with "unknown_fields": "dynamic" (bleve's dynamic mapping) gets the
fields the input has and it lacks added when the index is created: the whole
input is read once first (standard input is kept in a temporary file), every
unknown field is typed as inference types it (--infer-lines all does the
same without --schema), and the index is created with them, so its
committed schema lists them. A field's values widen as inference widens them
(integers and fractions to f64, dates and other strings to text); a value of
another kind than the field's first (a string where numbers came first) is
an error of that line. Into an existing index whose schema (or the --schema
given) is dynamic, the run does the same: it reads the whole input first and
adds the new fields to the index's schema (hermes.ExtendSchema) before
indexing. A --schema that extends the index's schema (its fields, unchanged
and in order, with more) adds its new fields to the index too.`

// inferLinesFlag is --infer-lines N or --infer-lines all.
type inferLinesFlag struct {
	n   *int
	all *bool
}

func (f inferLinesFlag) String() string {
	if f.all != nil && *f.all {
		return "all"
	}
	if f.n == nil {
		return ""
	}
	return strconv.Itoa(*f.n)
}

func (f inferLinesFlag) Set(s string) error {
	if s == "all" {
		*f.all = true
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return fmt.Errorf("want a positive number of lines, or all")
	}
	*f.n, *f.all = n, false
	return nil
}

// wholeInputBase reports whether a run must read its input once before
// indexing, and the schema that reading grows (nil: infer one): to add a
// dynamic schema's unknown fields, to the new index in dir or to the
// existing one, or to infer from every line when it creates the index.
func wholeInputBase(schema *segment.Schema, inferAll bool, dir string) (*segment.Schema, bool) {
	if existing := indexSchema(dir); existing != nil {
		base := dynamicBase(schema, existing)
		return base, base != nil
	}
	if schema == nil && !inferAll || schema != nil && schema.UnknownFields() != segment.DynamicUnknown {
		return nil, false
	}
	_, err := os.Stat(filepath.Join(dir, storage.MetadataFile))
	return schema, errors.Is(err, os.ErrNotExist)
}

// indexSchema returns the schema of the index in dir; nil if there is
// none, or if it cannot be read (the run then reports why).
func indexSchema(dir string) *segment.Schema {
	if _, err := os.Stat(filepath.Join(dir, storage.MetadataFile)); err != nil {
		return nil
	}
	fsys, err := storage.NewFS(dir)
	if err != nil {
		return nil
	}
	meta, err := storage.ReadMetadata(fsys)
	if err != nil {
		return nil
	}
	schema, err := segment.ParseSchema(meta.Schema)
	if err != nil {
		return nil
	}
	return schema
}

// dynamicBase returns the schema that dynamic mapping grows in a run into
// an index whose schema is existing, given the --schema (nil if none): the
// given one if it extends existing, else existing if the run may use it;
// nil if that schema is not dynamic, or the given one does not fit the
// index (the run reports it).
func dynamicBase(given, existing *segment.Schema) *segment.Schema {
	var base *segment.Schema
	switch {
	case given != nil && given.Extends(existing):
		base = given
	case given == nil:
		base = existing
	case grownFrom(given, existing):
		// The index given made: its grown fields, with given's codec.
		base = existing.WithStoredCompression(given.StoredCompression())
	default:
		return nil
	}
	if base.UnknownFields() != segment.DynamicUnknown {
		return nil
	}
	return base
}

// addedFields describes the fields of grown that old lacks.
func addedFields(grown, old *segment.Schema) string {
	var added []segment.Field
	for _, f := range grown.Fields() {
		if _, ok := old.Field(f.Name); !ok {
			added = append(added, f)
		}
	}
	if len(added) == 0 {
		return "no fields"
	}
	s, err := segment.NewSchema(added...)
	if err != nil {
		return fmt.Sprintf("%d fields", len(added))
	}
	return infer.Describe(s)
}

// wholeInput is an input that can be read twice: a file, or standard input
// kept in a temporary file.
type wholeInput struct {
	path  string // the file to read
	name  string // its name in messages
	temp  bool   // path is a temporary copy of stdin, removed by close
	files []*os.File
}

func newWholeInput(path string, stdin io.Reader) (*wholeInput, error) {
	if path != "-" {
		return &wholeInput{path: path, name: path}, nil
	}
	f, err := os.CreateTemp("", "hermes-stdin-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("keep standard input to read it twice: %w", err)
	}
	w := &wholeInput{path: f.Name(), name: "stdin", temp: true}
	_, err = io.Copy(f, stdin)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("keep standard input to read it twice: %w", err)
	}
	return w, nil
}

// open reads the input from its start.
func (w *wholeInput) open() (*jsonl.Reader, error) {
	if !w.temp {
		return jsonl.Open(w.path, nil)
	}
	f, err := os.Open(w.path)
	if err != nil {
		return nil, err
	}
	w.files = append(w.files, f)
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	return jsonl.NewReader(w.name, f, size)
}

func (w *wholeInput) close() {
	for _, f := range w.files {
		f.Close()
	}
	if w.temp {
		os.Remove(w.path)
	}
}

// inferWholeInput reads every line of in (up to limit, if not 0) and
// returns base with the fields it lacks added, as dynamic mapping adds
// them, or, with base nil, the schema inferred from every line. Lines that
// cannot be sampled (malformed, or a field of two kinds) are left to the
// indexing pass, which reports them as it reports any bad line.
func inferWholeInput(ctx context.Context, in *jsonl.Reader, base *segment.Schema, limit int, log io.Writer, quiet bool) (*segment.Schema, error) {
	var s infer.Sampler
	if base != nil {
		s.Known = func(name string) bool { _, ok := base.Field(name); return ok }
	}
	lines := 0
	for limit == 0 || lines < limit {
		if lines%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, no, err := in.Next()
		if err == io.EOF {
			break
		}
		var long *jsonl.LongLineError
		if errors.As(err, &long) {
			continue
		}
		if err != nil {
			return nil, err
		}
		lines++
		_ = s.Add(line, no) // a bad line is reported when it is indexed
	}
	if base == nil {
		schema, err := s.Schema()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", in.Name(), err)
		}
		if !quiet {
			fmt.Fprintf(log, "schema inferred from all %s: %s\n", plural(lines, "line", "lines"), infer.Describe(schema))
		}
		return schema, nil
	}
	fields := base.Fields()
	var added []segment.Field
	var invalid []string
	for _, f := range s.Fields() {
		if _, err := segment.NewSchema(f); err != nil {
			invalid = append(invalid, strconv.Quote(f.Name)) // left unknown: its lines fail
			continue
		}
		added = append(added, f)
	}
	if !quiet && len(invalid) > 0 {
		fmt.Fprintf(log, "unknown_fields dynamic: not added, the names are not valid field names: %s\n", strings.Join(invalid, ", "))
	}
	if len(added) == 0 {
		return base, nil
	}
	schema, err := segment.NewSchema(append(fields, added...)...)
	if err != nil {
		return nil, fmt.Errorf("unknown_fields dynamic: %s: adding %d fields: %w", in.Name(), len(added), err)
	}
	if !quiet {
		addedOnly, _ := segment.NewSchema(added...)
		fmt.Fprintf(log, "unknown_fields dynamic: %s read; added %s\n", plural(lines, "line", "lines"), infer.Describe(addedOnly))
	}
	return schema.WithUnknownFields(segment.DynamicUnknown).WithStoredCompression(base.StoredCompression()), nil
}

// grownFrom reports whether existing is schema with dynamic fields added:
// the index a dynamic run with schema created.
func grownFrom(schema, existing *segment.Schema) bool {
	if schema.UnknownFields() != segment.DynamicUnknown || existing.UnknownFields() != segment.DynamicUnknown {
		return false
	}
	a, b := schema.Fields(), existing.Fields()
	if len(b) < len(a) {
		return false
	}
	prefix, err := segment.NewSchema(b[:len(a)]...)
	return err == nil && prefix.Equal(schema)
}
