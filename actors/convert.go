package actors

import (
	"bytes"
	"math"
	"slices"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
)

// ToMessage converts a validated document for the trip to a worker, with
// its sequence number in index.SeqField, last: the wire form of a
// messages.Document (messages.AppendDocument), in one allocation without
// pointers. Every add makes one, and the coordinator keeps it until its
// segment is durable, so the collector marks one object a document instead
// of scanning the structs of each value (which made most of its work).
func ToMessage(d *segment.Document, seq uint64) []byte {
	sv := segment.FieldValue{Field: index.SeqField, Kind: segment.KindU64, U64: seq}
	b := make([]byte, 0, messages.DocumentSize(d)+messages.ValueSize(&sv))
	b = messages.AppendDocument(b, d)
	return messages.AppendValue(b, &sv)
}

// EncodeDocument is ToMessage in two steps, for the writer's intake: the
// document's values in wire form, with room for the sequence number that
// AppendSeq adds once the document is accepted. d must have passed
// Schema.ValidateFields, which returned primary (the index of its primary
// key's value, or -1); EncodeDocument makes the check that leaves out,
// that string values are valid UTF-8, as it copies them (ok is false if
// one is not). key is a keyword primary key's term, which the wire form
// holds (nil for another key: see Schema.PrimaryKey).
//
// The wire form is carved from the free capacity of *slab if it has
// WireSize(d) bytes free, else allocated alone (slab may be nil): the
// writer sizes slabs for a few documents of an AddDocuments call at a
// time, one allocation rather than one a document. A carved wire form's
// capacity is its own, so cap still tells what it holds; the slab is freed
// once all of its documents are, which may be in different workers'
// segments (see the writer's maxWireSlab).
func EncodeDocument(d *segment.Document, primary int, slab *[]byte) (wire, key []byte, ok bool) {
	size := WireSize(d)
	var b []byte
	if slab != nil && cap(*slab)-len(*slab) >= size {
		n := len(*slab)
		b = (*slab)[n : n : n+size]
		*slab = (*slab)[:n+size]
	} else {
		b = make([]byte, 0, size)
	}
	keyEnd := -1
	for i := range d.Values {
		v := &d.Values[i]
		if b, ok = messages.AppendValueChecked(b, v); !ok {
			return nil, nil, false
		}
		if i == primary && v.Kind == segment.KindString {
			keyEnd = len(b) // a string value's bytes end its encoding
		}
	}
	if keyEnd >= 0 {
		n := len(d.Values[primary].Str)
		key = b[keyEnd-n : keyEnd : keyEnd]
	}
	return b, key, true
}

// WireSize is the capacity of d's wire form from EncodeDocument: its
// values and room for a sequence number.
func WireSize(d *segment.Document) int {
	return messages.DocumentSize(d) + maxSeqSize
}

// maxSeqSize is the most AppendSeq adds.
var maxSeqSize = messages.ValueSize(&segment.FieldValue{Field: index.SeqField, Kind: segment.KindU64, U64: math.MaxUint64})

// AppendSeq completes EncodeDocument's wire form with the document's
// sequence number, as ToMessage does, in the room left for it.
func AppendSeq(wire []byte, seq uint64) []byte {
	return messages.AppendValue(wire, &segment.FieldValue{Field: index.SeqField, Kind: segment.KindU64, U64: seq})
}

// removeFiles deletes a discarded segment's files. Failure only leaves an
// orphan for the next cleanup, so it is logged, not returned.
func removeFiles(cfg *Config, files []string) {
	for _, f := range files {
		if err := cfg.Dir.Remove(f); err != nil {
			cfg.logger().Warn("could not remove a discarded file", "file", f, "error", err)
		}
	}
}

// UserDocument decodes m without index.SeqField: the document as the user
// added it, in memory of its own.
func UserDocument(m []byte) (*segment.Document, error) {
	d := new(segment.Document)
	if err := messages.DecodeDocument(bytes.Clone(m), d); err != nil {
		return nil, err
	}
	d.Values = slices.DeleteFunc(d.Values, func(v segment.FieldValue) bool { return v.Field == index.SeqField })
	return d, nil
}

// DocSeq is a document's sequence number, which ToMessage puts last; 0 if
// it has none (or is malformed).
func DocSeq(m []byte) uint64 {
	if v, ok, err := messages.LastValue(m); ok && err == nil && v.Field == index.SeqField {
		return v.U64
	}
	return 0
}
