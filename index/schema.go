package index

import (
	"fmt"

	"github.com/hermes-search/hermes-go/segment"
)

// SeqField is the hidden fast field that numbers every document in the
// order it was added, so that a delete (or an upsert) issued after an add in
// the same commit deletes that document and not one added after it, as
// Lucene's sequence numbers do. It is part of every segment's schema and
// never stored or searchable.
const SeqField = "_hermes_seq"

// InternalSchema is the user's schema plus SeqField: what segments are
// built and opened with.
func InternalSchema(user *segment.Schema) (*segment.Schema, error) {
	if _, taken := user.Field(SeqField); taken {
		return nil, fmt.Errorf("field name %q is reserved", SeqField)
	}
	fields := append(user.Fields(), segment.Field{Name: SeqField, Type: segment.TypeU64, Fast: true})
	s, err := segment.NewSchema(fields...)
	if err != nil {
		return nil, err
	}
	return s.WithStoredCompression(user.StoredCompression()), nil
}
