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
//     accepted into memory. Nothing is durable yet. It belongs to the first
//     commit whose PrepareCommit starts after AddDocument returned: intake
//     stays open during a commit (AddDocument never returns
//     ErrCommitInProgress), and what is added while one is prepared goes to
//     the next.
//   - PrepareCommit returning nil means every document accepted before it was
//     called is in segment files that are fsynced on disk, but not yet
//     visible: a crash now loses them (they are orphans, deleted on Open).
//   - Commit (of a PreparedCommit, or Writer.Commit) returning nil means those
//     documents are committed: metadata.json naming their segments was written
//     to a temporary file, fsynced, renamed, and the directory fsynced. They
//     survive any crash from then on and are what Open and OpenReader see.
//   - Abort discards the prepared documents, and the deletes made before
//     PrepareCommit; the previous commit stands. What was added or deleted
//     after PrepareCommit began goes to the next commit (an add that relied
//     on a discarded delete of its key replaces the committed document).
//   - DeleteByKey, and an add that replaces a document under
//     Config.OnDuplicate = ReplaceDuplicates, take effect with the commit
//     their call belongs to (as an add's), in the same metadata write as
//     the documents of that commit; they delete only documents added
//     before them. Abort discards those of the aborted commit.
//   - A document that crashed workers repeatedly is isolated and reported in
//     CommitResult.Rejected, never silently dropped. (In upsert mode the
//     document it was to replace is still deleted.)
//   - An error from Commit's metadata write is fatal for the writer
//     (ErrWriterFailed afterwards): reopen the index, which then holds the
//     last successful commit, or this one if its metadata.json reached the
//     disk before the failure (Reader.Generation tells which).
//   - An error from PrepareCommit loses nothing: the
//     next PrepareCommit covers the same documents.
//
// # Merges and snapshots
//
// Background merges (Config.MergePolicy, at most MaxConcurrentMerges at
// once) never block AddDocument or commits. A merged segment replaces its
// sources in one metadata write. A Reader is a snapshot: the files of a
// segment merged away are deleted only when no Reader uses them.
package hermes
