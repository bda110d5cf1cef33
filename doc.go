// Package hermes is an embeddable, actor-model, concurrent document-indexing
// runtime for Go services: a writer that never blocks the service, never
// hangs a commit and never loses an acknowledged document, and a reader that
// searches what was committed with BM25.
//
// # Writing
//
// Create (or Open) returns a *Writer over a storage.Directory. Its actors
// (protoactor-go) are a coordinator that hands batches of documents to N
// workers, each owning a segment builder within MaxIndexingMemory/N, and a
// commit actor that runs the two-phase commit as flush rounds. See package
// actors for the protocol.
//
// # Durability contract
//
//   - AddDocument returning nil means the document was validated and
//     accepted into memory. Nothing is durable yet.
//   - PrepareCommit returning nil means every document accepted before it was
//     called is in segment files that are fsynced on disk, but not yet
//     visible: a crash now loses them (they are orphans, deleted on Open).
//   - Commit (of a PreparedCommit, or Writer.Commit) returning nil means those
//     documents are committed: metadata.json naming their segments was written
//     to a temporary file, fsynced, renamed, and the directory fsynced. They
//     survive any crash from then on and are what Open and OpenReader see.
//   - Abort discards the prepared documents; the previous commit stands.
//   - A document that crashed workers repeatedly is isolated and reported in
//     CommitResult.Rejected, never silently dropped.
//   - An error from Commit's metadata write is fatal for the writer
//     (ErrWriterFailed afterwards): reopen the index, which holds the last
//     successful commit.
package hermes
