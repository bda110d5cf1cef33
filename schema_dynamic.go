package hermes

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/infer"
	"github.com/hermes-search/hermes-go/storage"
)

// Dynamic mapping in a running writer (a schema with UnknownFields
// DynamicUnknown, bleve's dynamic mapping).
//
// A document with fields the schema lacks grows the writer's schema: the
// new fields are appended, typed by package infer (AddDocument: by the Go
// value's kind, see infer.ValueField; Writer.DecodeJSON: by the JSON
// value, see infer.Sampler), and the document is then validated against
// the grown schema. Each growth is a new schema version, taken under a
// lock. A field's type never changes: a later value of another type is a
// *segment.DocumentError, and nothing is added.
//
// Durability is the documents': a grown schema is written to metadata.json
// by the next Commit, in the same metadata write as the segments that hold
// the new fields, so a crash never leaves a committed segment with fields
// the committed schema lacks, and a crash before that Commit loses the
// grown fields with the documents. An Abort discards the documents; the
// fields stay in the writer's schema (documents added since may hold them)
// and are written by its next Commit.
//
// How the new schema reaches the workers: the writer sends it to the
// coordinator (AddDocuments with schema) before any document that needs it;
// every batch carries the newest version the coordinator has, and the
// schema itself the first time to each worker generation (locally or on a
// node); a worker whose builder holds documents of an older version writes
// them as a segment first. So every segment is built with one version, and
// the Commit writes the newest one, read after the flush: it extends them
// all (see dynamicSchema.mu).
type dynamicSchema struct {
	// mu orders growths, and a commit's read of the schema after them: a
	// growth holds it from its send to the coordinator until it publishes
	// cur, so a commit whose segments a version built reads that version
	// or a newer one.
	mu        sync.Mutex
	cur       atomic.Pointer[schemaVersion]
	committed atomic.Pointer[schemaVersion] // in the last commit
}

// schemaVersion is one version of a dynamic schema.
type schemaVersion struct {
	version  uint32
	user     *Schema
	internal *Schema
	json     []byte // user, as metadata.json holds it
}

// newDynamicSchema returns the dynamic state of a writer whose schema is
// user, as meta holds it; nil unless the schema is dynamic.
func newDynamicSchema(user, internal *Schema, meta *storage.Metadata) *dynamicSchema {
	if user.UnknownFields() != segment.DynamicUnknown {
		return nil
	}
	d := &dynamicSchema{}
	v := &schemaVersion{user: user, internal: internal, json: meta.Schema}
	d.cur.Store(v)
	d.committed.Store(v)
	return d
}

// validate checks doc against the schema the writer opened with and, only
// if that refuses it, against the dynamic schema (validateDynamic): a valid
// add pays nothing for dynamic mapping.
func (w *Writer) validate(doc *Document) error {
	err := w.schema.Validate(doc, w.cfg.MaxDocumentBytes)
	if err != nil {
		err = w.validateDynamic(doc, err)
	}
	return err
}

// validateDynamic is AddDocument's hook for a document the opened schema
// refused (err): with a dynamic schema, it validates doc against the
// grown schema, growing it for doc's unknown fields.
func (w *Writer) validateDynamic(doc *Document, err error) error {
	if w.dyn == nil {
		return err
	}
	cur := w.dyn.cur.Load()
	if err = cur.user.Validate(doc, w.cfg.MaxDocumentBytes); err == nil {
		return nil
	}
	var fields []Field
	for _, v := range doc.Values {
		if _, known := cur.user.Field(v.Field); known {
			continue
		}
		f := infer.ValueField(v)
		if i := fieldIndex(fields, f.Name); i >= 0 {
			if fields[i].Type != f.Type {
				return &segment.DocumentError{Field: f.Name, Problem: fmt.Sprintf(
					"unknown field with values of two types (%v and %v): dynamic mapping types a new field by its values, which must be of one type", fields[i].Type, f.Type)}
			}
			continue
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		return err // no unknown field: a genuine error
	}
	// Nothing grows for a document the grown schema would refuse too.
	grown, gerr := grownSchema(cur.user, fields)
	if gerr != nil {
		return gerr
	}
	if err := grown.Validate(doc, w.cfg.MaxDocumentBytes); err != nil {
		return err
	}
	next, err := w.growSchema(fields)
	if err != nil {
		return err
	}
	// Another add may have added the same names first, with other types.
	return next.user.Validate(doc, w.cfg.MaxDocumentBytes)
}

func fieldIndex(fields []Field, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// grownSchema is user with fields appended, dynamic.
func grownSchema(user *Schema, fields []Field) (*Schema, error) {
	grown, err := segment.NewSchema(append(user.Fields(), fields...)...)
	if err != nil {
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = fmt.Sprintf("%q (%v)", f.Name, f.Type)
		}
		return nil, fmt.Errorf("hermes: dynamic mapping cannot add %s: %w", strings.Join(names, ", "), err)
	}
	return grown.WithUnknownFields(segment.DynamicUnknown).WithStoredCompression(user.StoredCompression()), nil
}

// growSchema adds to the writer's schema those of fields it lacks (one
// new version), and returns the schema then in force. It sends the new
// schema to the coordinator before publishing it, so that every document
// that needs it follows it there.
func (w *Writer) growSchema(fields []Field) (*schemaVersion, error) {
	// mu for writing: the tokenizer overrides, and no growth past Close.
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.intakeErr(); err != nil {
		return nil, err
	}
	d := w.dyn
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := d.cur.Load()
	var add []Field
	for _, f := range fields {
		if _, known := cur.user.Field(f.Name); !known {
			// The name is the document's string, whose memory its caller
			// may reuse once the add returns (JSONDecoder.Reuse does):
			// the schema keeps a copy.
			f.Name = strings.Clone(f.Name)
			add = append(add, f)
		}
	}
	if len(add) == 0 {
		return cur, nil
	}
	user, err := grownSchema(cur.user, add)
	if err != nil {
		return nil, err
	}
	internal, err := index.InternalSchema(user)
	if err != nil {
		return nil, fmt.Errorf("hermes: dynamic mapping: %w", err)
	}
	tokenizers, err := segment.ResolveTokenizers(internal, w.cfg.Tokenizers, w.mu.tokenizerOverrides)
	if err != nil {
		return nil, fmt.Errorf("hermes: dynamic mapping: %w", err)
	}
	userJSON, err := user.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("hermes: dynamic mapping: %w", err)
	}
	internalJSON, err := internal.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("hermes: dynamic mapping: %w", err)
	}
	next := &schemaVersion{version: cur.version + 1, user: user, internal: internal, json: userJSON}
	w.tokenizers.Store(&tokenizers)
	w.flushIntake() // no document that needs the new schema overtakes it
	w.system.Root.Send(w.pids.Coordinator, &messages.AddDocuments{SchemaVersion: next.version, Schema: internalJSON})
	d.cur.Store(next)
	w.cfg.Logger.Info("schema grown", "version", next.version, "fields", user.NumFields(), "added", len(add))
	return next, nil
}

// DecodeJSON decodes one JSON object into a document of the writer's
// schema, as Schema.DecodeJSON does. With a dynamic schema
// (UnknownFields DynamicUnknown), the members it has and the schema lacks
// are first added to the writer's schema, typed by their values as
// package infer types them (integers i64, or u64 past the i64 range;
// fractions f64; true/false bool; RFC 3339 strings date; other strings
// text; nested objects as dotted names; arrays as repeated values; a member
// that is only null adds nothing). Pass the document to AddDocument. The
// fields are added even if the document is not added afterwards; they are
// durable with the next Commit (see the durability note of
// dynamicSchema). A member whose values mix types, or that holds a value
// of another type than its field, is an error and changes nothing.
func (w *Writer) DecodeJSON(line []byte) (*Document, error) {
	cur := w.Schema()
	doc, err := cur.DecodeJSON(line)
	if err == nil || w.dyn == nil {
		return doc, err
	}
	s := infer.Sampler{
		Known: func(name string) bool { _, ok := cur.Field(name); return ok },
		Fix:   "declare the field in the schema",
	}
	if serr := s.Add(line, 1); serr != nil {
		return nil, fmt.Errorf("hermes: dynamic mapping: %s", strings.TrimPrefix(serr.Error(), "line 1: "))
	}
	fields := s.TypedFields()
	if len(s.Fields()) == 0 {
		return nil, err // no unknown member: a genuine error
	}
	next := w.dyn.cur.Load()
	if len(fields) > 0 {
		grown, err := grownSchema(cur, fields)
		if err != nil {
			return nil, err
		}
		// Nothing grows for a line the grown schema would refuse too.
		if _, err := grown.WithUnknownFields(segment.IgnoreUnknown).DecodeJSON(line); err != nil {
			return nil, err
		}
		if next, err = w.growSchema(fields); err != nil {
			return nil, err
		}
	}
	// The unknown members left hold only null.
	return next.user.WithUnknownFields(segment.IgnoreUnknown).DecodeJSON(line)
}

// currentSchema returns the writer's schema now: with dynamic mapping, as
// grown so far (committed or not).
func (w *Writer) currentSchema() *Schema {
	if w.dyn == nil {
		return w.schema
	}
	return w.dyn.cur.Load().user
}

// currentInternal is currentSchema's internal schema (index.InternalSchema).
func (w *Writer) currentInternal() *Schema {
	if w.dyn == nil {
		return w.internal
	}
	return w.dyn.cur.Load().internal
}

// schemaToCommit returns the schema version a Commit writes, and its JSON
// for the CommitRequest; nil JSON when it is the committed one. Call it
// after the flush: it then extends the schema of every prepared segment.
func (w *Writer) schemaToCommit() (*schemaVersion, []byte) {
	if w.dyn == nil {
		return nil, nil
	}
	w.dyn.mu.Lock()
	cur := w.dyn.cur.Load()
	w.dyn.mu.Unlock()
	if cur == w.dyn.committed.Load() {
		return cur, nil
	}
	return cur, cur.json
}

// schemaCommitted records that v is the committed schema.
func (w *Writer) schemaCommitted(v *schemaVersion) {
	if v != nil {
		w.dyn.committed.Store(v)
	}
}

// schemasOf returns the user's and the internal schema of a committed
// state, for a Reader of it.
func (w *Writer) schemasOf(meta *storage.Metadata) (*Schema, *Schema, error) {
	if w.dyn == nil {
		return w.schema, w.internal, nil
	}
	if c := w.dyn.committed.Load(); bytes.Equal(c.json, meta.Schema) {
		return c.user, c.internal, nil
	}
	// A commit's view, opened before the commit returned.
	user, err := segment.ParseSchema(meta.Schema)
	if err != nil {
		return nil, nil, fmt.Errorf("hermes: schema of generation %d: %w", meta.Generation, err)
	}
	internal, err := index.InternalSchema(user)
	if err != nil {
		return nil, nil, fmt.Errorf("hermes: schema of generation %d: %w", meta.Generation, err)
	}
	return user, internal, nil
}
