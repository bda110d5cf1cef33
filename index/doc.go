// Package index holds the state of one index that is not any single actor's:
// the writer's operation state and primary keys (Keys: sequence numbers, the
// delete log, pending keys and the committed keys' filter), beside the
// segment manager (package actors), which owns metadata.json, the committed
// state.
package index
