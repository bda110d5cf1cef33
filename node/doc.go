// Package node runs Hermes workers for writers on other machines, over
// protoactor-go remote (gRPC): `hermes node --listen HOST:PORT --scratch
// DIR`, or ServeWorkers inside a service's own actor system.
//
// The conversation, writer on the left:
//
//	Connect:  SpawnNamed(addr, name, HostKind) -> host (one per writer)
//	          Hello{ProtocolVersion, MessageSetHash, writer} -> HelloAck{files} | HelloAck{error}
//	          (before an accepted Hello the host refuses everything with Refused)
//	shipping: FetchSegment -> the writer's fetcher -> ReadChunk / Chunk with the host's file server
//	          (package shipping), then ReleaseSegment
//
// Anything a node cannot decode (a type it does not link, an unknown
// serializer) reaches the addressed actor as UnknownMessage and is answered
// with Refused: protoactor itself would crash the process on it (guard.go).
//
// Failure model. Both ends watch each other: the writer watches its host
// (and the file server, during a transfer); the host watches the writer.
//   - A process that dies is noticed at once: its kernel closes the
//     connection, and every watcher receives Terminated (measured: under
//     1 ms for kill -9 on one machine).
//   - A silent partition (packets dropped, no FIN or RST) is noticed by gRPC
//     keepalives within DetectionBound (12 s): a connection that carried
//     nothing for KeepaliveTime (10 s, gRPC's floor) is pinged and given up
//     KeepaliveTimeout (2 s) later. A connection with data awaiting
//     acknowledgement (a transfer, a request) is given up after
//     KeepaliveTimeout through TCP_USER_TIMEOUT, which gRPC sets from it.
//     Measured in network namespaces (TestPartition): 2.3 s in the middle of
//     a transfer, 10 s after 2 s of silence.
//   - A host that loses its writer stops: its workers and file server stop
//     and its scratch directory is deleted. A partition may be noticed by
//     one side only (no data in flight on the other side's connection and
//     healed before its keepalive fires); a writer that then reconnects
//     greets a new host, and the node stops the writer's old one.
//   - Delivery between processes is at most once (a failed gRPC stream
//     loses its frame): correctness rests on the watches, the writer's
//     ledger and flush rounds, not on delivery.
//
// Security: by default there is no TLS and no authentication. Anyone who can
// reach a node's port can spawn hosts and read scratch files; anyone who can
// reach a writer's port can send it messages. Run nodes on a private
// network, or turn TLS on at both ends: Config.TLS for a node, the tls
// argument of RemoteConfig for a writer (server and client credentials, as
// from credentials.NewTLS with certificates both sides trust; require and
// verify client certificates for mutual authentication).
package node
