// Package actors holds a writer's actors, each in its own file with its
// state and its protocol:
//
//   - writerActor (writer.go): the parent of the others; a failure of one of
//     them is fatal for the writer (Env.Fatal), never restarted.
//   - coordinator (coordinator.go; its decisions in coordinator_core.go, and
//     coordinator_remote.go for workers on other nodes): owns intake, the
//     ledger, the worker positions (their generations, restarts and
//     replacements) and the flush.
//   - workers (package worker, the same code beside the writer and on
//     nodes): each owns a segment builder within a memory budget. The
//     coordinator supervises the local ones as a host does on a node;
//     positions on other nodes are reached through remoteWorkers
//     (remote_slots.go).
//   - committer (committer.go): the two-phase commit.
//   - segmentManager (segment_manager.go, deletes.go): the one writer of
//     metadata.json: commits with their deletes, merges, orphan cleanup.
//
// The coordinator's and the committer's decisions are pure state machines in
// the manner of etcd raft's Step: step(event) returns effects (send, spawn,
// restart, a timer), and the actor only performs them, with time from the
// injected clock. The scripts in testdata/ run them event by event and print
// every message sent.
//
// What the actors share with the writer and its Readers is package index's:
// the open segments (index.Segments) and the internal schema. The writer
// numbers every add and delete (index.Keys) before a message leaves it, and
// the actors reach the writer only through Env.
//
// # Protocol
//
// messages/messages.proto has 37 message types: 30 sent between actors
// (below) and 7 carried inside them (Document, FieldValue, SegmentInfo, Rejected,
// DeleteOp, WorkerRef, SegmentStats; documents travel as Document's wire
// form, in bytes fields: see ToMessage), plus the ErrorCode enum that carries
// typed errors across actors. A flush takes 5 of them (PrepareRequest,
// Batch, FlushRequest, FlushAck, DurableResponse); before the coordinator
// owned it, it took 7 and the file had 39.
//
//	writer ─Intake.Put, IntakeReady─► coordinator ◄─RequestWork──── worker
//	       (many adds, one wake-up;
//	        AddDocuments on a flush)
//	                              (queue,     ──Batch─────────►
//	                               ledger)    ◄─SegmentShipped─ (80% of budget;
//	                                           installed in place, or fetched
//	                                           from a node, then durable)
//	       ◄─Env.ReleaseCredits── (documents left the queue for a batch)
//
//	writer ─PrepareRequest(up to n)─► coordinator   (sent under the intake
//	        lock, after Intake.Flush: it follows documents 1..n in the
//	        mailbox; later ones wait)
//	       coordinator ─PrepareRequest(prepare p)─► committer (forwarded; the
//	                                                writer is the requester)
//	       coordinator ─Batch, FlushRequest─► live workers ─SegmentShipped | FlushAck─►
//	                    coordinator (until every batch up to n is durable)
//	       coordinator ─DurableResponse(p: segments, rejected | code)─► committer
//	writer ◄─PrepareResponse── committer
//
//	writer ─CommitRequest(deletes)─► committer ─RegisterSegments─►
//	       segmentManager (one metadata.json write) ─Env.Committed(meta)─► writer
//	       segmentManager ─RegisterSegmentsResponse─► committer
//	writer ◄─CommitResponse(generation | code)── committer
//
//	writer ─AbortRequest─► committer (prepared segment files deleted)
//	writer ─AbortRequest(keep)─► coordinator ─► committer  (a prepare the
//	        writer gave up on: the flush stops, and durable work goes back,
//	        committer ─ReturnDurable─► coordinator, for the next prepare)
//	committer ─CancelPrepare─► coordinator  (the flush stops: an abort while
//	        preparing, or a prepare while another commit is pending)
//
//	writer ─ForceMerge, WaitForMerges, AbortMerges, CleanupOrphans, Stats─►
//	       segmentManager ─► merge goroutines ─MergeDone─► segmentManager
//	writer ─WorkersRequest─► coordinator
//	       (each writer call is a ...Request answered by its ...Response)
//
// Workers on other nodes add messages/hermes_remote.proto: 18 message types,
// 16 sent (the handshake Hello/HelloAck; Refused and UnknownMessage for what
// a node does not take; StartWorker/WorkerStarted and WorkerFailed between
// the coordinator and a node's host; SegmentIDRequest/SegmentIDResponse,
// as the writer allocates every segment id; SegmentShipped, which stands for
// a worker's SegmentBuilt or FlushAck; FetchSegment/SegmentInstalled
// between the coordinator and the writer's fetcher, which pulls the files
// with ReadChunk/Chunk and frees the node's copy with
// ReleaseSegment/SegmentReleased) and 2 carried (ShippedSegment,
// FileDigest). To the core a remote worker is a worker position like a
// local one; its segment counts once SegmentInstalled says it is in the
// index directory.
//
// # Faults
//
// All decided by the coordinator's core. A worker that panics while adding
// a document names it (the worker records it before each add); that
// document is rejected once it has crashed workers MaxCrashes times, and
// everything the worker held is re-delivered at once. The worker restarts
// with a new generation at once, or after a growing backoff if it keeps
// failing on different input. Batches queued for an old generation are
// dropped; a late segment of one is kept only if none of its batches went to
// another worker meanwhile, or it would index them twice. A worker that stops, or whose segment
// transfer fails, is replaced at once; a position whose node is lost takes
// no more work. During a flush, what a lost worker held goes to the live
// workers, one batch and a FlushRequest at a time, so the flush completes
// with the workers that are alive. A failed segment write during a flush
// fails it at once with its error code (a full disk); its deadline fails it
// with what it still waited for. Documents numbered after the prepare's cut
// stay queued for the next commit.
package actors
