package hermes

import (
	"errors"

	"github.com/hermes-search/hermes-go/actors"
)

// remoteWorkers places workers on Config.Nodes: NodeWorkers on each, after
// the local ones, started once the node answers (the writer does not wait
// for it). A node that cannot be reached, or is lost later, is logged and
// greeted again with backoff (1 s doubling to 30 s); meanwhile its batches
// go to the other workers, and once it answers its workers take work
// again. Work pulling, the ledger and the flush are those of local workers;
// a remote worker's segment counts only once it is fetched into the index
// directory and verified (package shipping).
func (c Config) remoteWorkers() *actors.RemoteConfig {
	if len(c.Nodes) == 0 {
		return nil
	}
	return &actors.RemoteConfig{Nodes: c.Nodes, WorkersPerNode: c.NodeWorkers}
}

// ErrRemoteTokenizer is returned by SetTokenizer on a writer with workers on
// other nodes.
var ErrRemoteTokenizer = errors.New("hermes: SetTokenizer: not supported with workers on other nodes (Config.Nodes): " +
	"a node resolves the schema's tokenizers by name from its own registry when it starts a worker, " +
	"so a change would reach the local workers only and index the field two ways")

// refuseTokenizerChange refuses SetTokenizer when workers run on nodes.
func (c Config) refuseTokenizerChange() error {
	if len(c.Nodes) > 0 {
		return ErrRemoteTokenizer
	}
	return nil
}
