package node

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/hermes-search/hermes-go/shipping"
)

// Transport settings shared by writers and nodes. Both ends of a connection
// must use them: the server's keepalive enforcement must allow the client's
// pings, and both must accept the largest frame the other sends.
const (
	// KeepaliveTime is how long a connection may be silent before the
	// client pings. 10 s is gRPC's floor for client pings (it raises
	// anything lower).
	KeepaliveTime = 10 * time.Second
	// KeepaliveTimeout is how long a ping (or unacknowledged data, through
	// TCP_USER_TIMEOUT, which gRPC sets from it) may go unanswered before the
	// connection is declared dead.
	KeepaliveTimeout = 2 * time.Second
	// DetectionBound is the longest a silent network partition stays
	// unnoticed: a connection that carried nothing for KeepaliveTime is
	// pinged and given up KeepaliveTimeout later, and then every actor
	// watched across it receives Terminated. (Only the dialing side of a
	// protoactor connection reports its loss; each process dials the other,
	// so each notices on its own.) A connection with data awaiting an
	// acknowledgement is given up after KeepaliveTimeout, and a process that
	// dies (its kernel closes the sockets) is noticed at once.
	DetectionBound = KeepaliveTime + KeepaliveTimeout

	// MaxFrameBytes is the largest gRPC message either end accepts. gRPC's
	// default (4 MiB) is too small: a larger frame drops the stream with
	// every message in it and reports live actors as terminated.
	MaxFrameBytes = 64 << 20
	// EnvelopesPerFrame bounds how many messages protoactor packs into one
	// gRPC frame (its default is 1,000). With chunks and batches at most
	// MaxMessageBytes each, a frame stays under MaxFrameBytes.
	EnvelopesPerFrame = 48
	// MaxMessageBytes is the largest message a writer or node should send
	// to the other: a chunk of a segment file or a batch of documents, with
	// room for its envelope.
	MaxMessageBytes = shipping.ChunkBytes + 64<<10

	// DialRetries is how often a connection is attempted before the
	// address is declared terminated (protoactor waits 2 s between tries).
	DialRetries = 2
)

// TLS holds the credentials of a writer or node that speaks TLS: Server for
// the connections it accepts, Client for those it makes (protoactor opens
// one in each direction between two processes, so both are needed).
type TLS struct {
	Server credentials.TransportCredentials
	Client credentials.TransportCredentials
}

// StartRemote starts protoactor remote on system, listening on host:port
// (port 0 picks a free port; system.Address() tells which), with the
// settings writers and nodes share: keepalives on both sides, frames up to
// MaxFrameBytes, few dial retries, and the guard that turns a message of an
// unknown type into UnknownMessage instead of a crash. tls nil means plain,
// unauthenticated gRPC (see the package documentation). extra options come
// last; WithServerOptions or WithDialOptions among them would replace
// these settings. A port it cannot listen on is an error (protoactor
// itself panics).
func StartRemote(system *actor.ActorSystem, host string, port int, tls *TLS, extra ...remote.ConfigOption) (r *remote.Remote, err error) {
	if port != 0 {
		// protoactor panics when it cannot listen: try first, for an error.
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		ln.Close()
	}
	r = remote.NewRemote(system, remoteConfig(host, port, tls, extra...))
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("start remote: %v", p)
		}
	}()
	r.Start()
	return r, nil
}

func remoteConfig(host string, port int, tls *TLS, extra ...remote.ConfigOption) *remote.Config {
	clientCreds := insecure.NewCredentials()
	serverOpts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxFrameBytes),
		grpc.MaxSendMsgSize(MaxFrameBytes),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: KeepaliveTime, Timeout: KeepaliveTimeout}),
		// Without this the server answers the client's pings with GOAWAY.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: KeepaliveTime / 2, PermitWithoutStream: true}),
		grpc.StreamInterceptor(guardStream),
	}
	if tls != nil {
		clientCreds = tls.Client
		serverOpts = append(serverOpts, grpc.Creds(tls.Server))
	}
	opts := []remote.ConfigOption{
		// WithDialOptions replaces protoactor's defaults, the credentials
		// included, so they are given here.
		remote.WithDialOptions(
			grpc.WithTransportCredentials(clientCreds),
			grpc.WithKeepaliveParams(keepalive.ClientParameters{
				Time: KeepaliveTime, Timeout: KeepaliveTimeout, PermitWithoutStream: true,
			}),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxFrameBytes), grpc.MaxCallSendMsgSize(MaxFrameBytes)),
		),
		remote.WithServerOptions(serverOpts...),
		remote.WithEndpointWriterBatchSize(EnvelopesPerFrame),
	}
	cfg := remote.Configure(host, port, append(opts, extra...)...)
	cfg.MaxRetryCount = DialRetries
	return cfg
}
