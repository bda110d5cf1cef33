// Package index holds the state of one index that outlives any single
// actor, shared by its writer, its Readers and the segment manager (package
// actors, the one writer of metadata.json):
//
//   - Segments: the reference-counted set of open segments of the committed
//     state, whose retired files are deleted when their last user lets go.
//   - InternalSchema and SeqField: the schema segments are built and opened
//     with, the user's plus a hidden sequence-number column.
//   - Keys: the writer's sequence numbers, delete log and primary keys, with
//     the filter over the committed ones.
//
// Package actors imports this package, so it can never import actors: a
// Reader (hermes.OpenReader) opens an index with this package and the
// segment packages alone, and searching starts no actor.
package index
