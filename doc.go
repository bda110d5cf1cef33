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
// actors for the protocol. Workers run in this process (Config.Workers)
// and, with Config.Nodes, on other machines running 'hermes node' (package
// node); the protocol, the ledger and the durability contract below are the
// same for both, and a remote worker's segment counts only once it is
// fetched, verified and installed in the index directory.
//
// # Reading
//
// Writer.Reader and OpenReader return a *Reader: a snapshot of one commit.
// Search and SearchRequest (sorting, paging, total hits, aggregations) take
// the query language of package segment/query; each Hit carries its primary
// key, and Hit.Document reads stored fields only when asked. Reader.Document
// looks a document up by key, Reader.Explain breaks a score down, and
// Reader.Highlight marks the matched words of a hit's stored text.
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
//     Their segment ids were recorded in the index's segment-id journal
//     before any of their files existed: orphan cleanup deletes only files
//     of segments that journal or a kept generation names, never files that
//     merely look like segment files.
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
//   - With a dynamic schema (UnknownFields DynamicUnknown), the fields an
//     AddDocument or Writer.DecodeJSON adds to the schema are in memory
//     only, as the documents are: the next Commit writes the grown schema
//     in the same metadata write as the segments that hold them, so no
//     committed segment ever has fields the committed schema lacks. A crash
//     or Close before it loses them; an Abort discards the documents but
//     the writer keeps the fields, and its next Commit writes them.
//   - A document that crashed workers repeatedly is isolated and reported in
//     CommitResult.Rejected, never silently dropped. (In upsert mode the
//     document it was to replace is still deleted.)
//   - An error from Commit's metadata write is fatal for the writer
//     (ErrWriterFailed afterwards): reopen the index, which then holds the
//     last successful commit, or this one if its metadata.json reached the
//     disk before the failure (Reader.Generation tells which).
//   - An error from PrepareCommit loses nothing: the
//     next PrepareCommit covers the same documents.
//   - Each commit (and each registered merge) is a generation. Besides
//     metadata.json, its metadata is written first as metadata_<gen>.json;
//     the newest Config.KeepGenerations of these (default 2: the current
//     commit and the one before) are kept, with every file they name. If
//     metadata.json is lost or damaged, Open and OpenReader fail with an
//     error naming it and the newest readable kept generation, and
//     'hermes check --fall-back' (storage.FallBack) restores the newest
//     intact one; the commits after it are lost, and check says how many
//     documents that is when it can tell.
//   - Create never writes over an index: in a directory without
//     metadata.json that holds segment, deletes or kept generation files it
//     fails with ErrIndexFilesFound and changes nothing.
//
// # Integrity checks
//
// Every file of an index ends with a footer holding an xxhash64 checksum
// (see segment/FORMAT.md). Which checks happen when:
//
//   - metadata.json, each segment's small meta file and deletes files are
//     read whole and their checksums verified every time they are opened.
//   - A segment's other files are used in place (memory-mapped on a file
//     system) so that opening costs the same for any index size: opening
//     checks their sizes against the segment's meta file, their footers
//     (magic, kind, version, length) and their directories and headers,
//     not their checksums. A truncated file is caught there, before it is
//     mapped, so it never faults. Damage that keeps the structure intact
//     may surface later as a search error naming the file (never a panic),
//     or go unnoticed by a search that does not read it.
//   - A merge verifies every checksum of its source segments before it
//     reads them, so damage is never copied into a new segment under a
//     fresh checksum.
//   - hermes check verifies every checksum of every file.
//
// Segment files must not be modified while open: a file shortened under a
// running reader would fault the process when its lost pages are read.
//
// # Merges and snapshots
//
// Background merges (Config.MergePolicy, at most MaxConcurrentMerges at
// once) never block AddDocument or commits. A merged segment replaces its
// sources in one metadata write. A Reader is a snapshot: the files of a
// segment merged away are deleted only when no Reader of this writer uses
// them, no kept generation names them, and Config.RetiredFileGrace has
// passed since then (for readers in other processes; OpenReader also
// re-reads metadata.json and retries when a file it needs is gone).
package hermes
