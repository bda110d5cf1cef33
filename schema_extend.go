package hermes

import (
	"context"
	"errors"
	"fmt"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// ExtendSchema adds fields to the index in dir: schema must extend the
// index's schema (Schema.Extends: every field of it, the same and in the
// same order, with new fields between or after them, and the same primary
// key), since a field's type or options can never change once documents
// hold it. schema may also change UnknownFields and StoredCompression (the
// segments written from then on, merges included, use the new codec). The
// index's segments are kept as they are: their documents lack the new
// fields, so a search, sort or aggregation on a new field does not see
// them, and merges carry them into segments of the new schema.
//
// ExtendSchema takes the index's lock, so no Writer may be open on dir; a
// Reader may, and keeps the schema it opened with. cfg's Tokenizers must
// resolve every text field's tokenizer, as for Open. The change is one
// commit (a new generation naming the same segments): if ExtendSchema
// returns nil, it is durable; if it fails, the index holds its old schema
// or, after a crash during the write, either schema, each with every
// committed document. A schema equal to the index's is no change and
// writes nothing.
func ExtendSchema(ctx context.Context, dir storage.Directory, schema *Schema, cfg Config) error {
	if schema == nil {
		return errors.New("hermes: ExtendSchema needs a schema")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	internal, err := index.InternalSchema(schema)
	if err != nil {
		return fmt.Errorf("hermes: ExtendSchema: schema: %w", err)
	}
	cfg, err = cfg.withDefaults()
	if err != nil {
		return err
	}
	if _, err := segment.ResolveTokenizers(internal, cfg.Tokenizers, nil); err != nil {
		return fmt.Errorf("hermes: ExtendSchema: %w", err)
	}
	lock, err := dir.Lock()
	if err != nil {
		return fmt.Errorf("hermes: ExtendSchema: lock index (close its Writer first): %w", err)
	}
	defer lock.Close()
	meta, old, err := readIndexMetadata(dir)
	if err != nil {
		return err
	}
	if !schema.Extends(old) {
		return fmt.Errorf("hermes: ExtendSchema: the schema does not extend the index's %s: it must keep every field, unchanged and in order, and the primary key, and may only add fields",
			string(meta.Schema))
	}
	if schema.Equal(old) && schema.UnknownFields() == old.UnknownFields() && schema.StoredCompression() == old.StoredCompression() {
		return nil
	}
	schemaJSON, err := schema.MarshalJSON()
	if err != nil {
		return fmt.Errorf("hermes: ExtendSchema: schema: %w", err)
	}
	next := *meta
	next.Generation++
	next.Schema = schemaJSON
	if err := storage.WriteMetadata(dir, &next); err != nil {
		return fmt.Errorf("hermes: ExtendSchema: %w", err)
	}
	return nil
}
