// Package segment holds the storage engine's core: the schema and document
// model, the in-memory segment builder, the on-disk segment format
// (documented in FORMAT.md), the segment reader with its postings
// iterators, field norms, stored fields and fast-field columns, Merge,
// which streams the live documents of several segments into one, and the
// per-generation deletes files (WriteDeletes, ReadDeletes).
//
// A segment is immutable once built. Builders are not safe for concurrent
// use; Readers are (every method may be called from many goroutines),
// except that a Postings iterator belongs to one goroutine.
package segment
