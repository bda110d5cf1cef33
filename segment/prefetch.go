//go:build amd64 || arm64

package segment

// prefetch asks the CPU to bring the cache line of each address in addrs
// into its caches, and returns without waiting for any. Go has no prefetch
// of its own; a loop of loads does the same but holds up the CPU's
// retirement of everything after the oldest load still missing, so that
// only a few tens of misses are under way at once, while prefetches
// retire at once and leave the CPU going on to the next loop. An address
// needs not be valid: a prefetch never faults.
//
//go:noescape
func prefetch(addrs []uintptr)
