package hermes

import "github.com/hermes-search/hermes-go/actors"

// remoteWorkers places workers on Config.Nodes: NodeWorkers on each, after
// the local ones, started when the writer opens. A node that cannot be
// reached then (or is lost later) is logged and its workers are not used
// again by this writer: its batches go to the other workers. Work pulling,
// the ledger and the flush are those of local workers; a remote worker's
// segment counts only once it is fetched into the index directory and
// verified (package shipping).
func (c Config) remoteWorkers() *actors.RemoteConfig {
	if len(c.Nodes) == 0 {
		return nil
	}
	return &actors.RemoteConfig{Nodes: c.Nodes, WorkersPerNode: c.NodeWorkers}
}
