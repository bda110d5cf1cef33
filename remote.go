package hermes

import "github.com/hermes-search/hermes-go/actors"

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
