// Package shipping moves segments that remote workers built on a node into
// the writer's index directory: a file server on the node serves a scratch
// directory in chunks, and a fetcher on the writer's node pulls, writes,
// fsyncs and verifies them before it reports a segment installed.
//
// The protocol (messages in messages/hermes_remote.proto):
//
//	coordinator --FetchSegment{segment, source}--> fetcher
//	fetcher --ReadChunk{file, offset, length<=1 MiB, tag}--> file server   (at most Window in flight)
//	fetcher <--Chunk{tag, data | error}-- file server
//	fetcher --ReleaseSegment{id, files}--> file server   (after the fetch, installed or not)
//	coordinator <--SegmentInstalled{id, code, error}-- fetcher
//
// Pulling keeps the writer in charge of its memory and disk: it asks for the
// next chunk only when a window slot is free, and a dead node shows as
// Terminated of the file server, which fails the fetch at once.
package shipping

// ChunkBytes is the most file data one Chunk carries.
const ChunkBytes = 1 << 20
