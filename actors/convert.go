package actors

import (
	"bytes"
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
