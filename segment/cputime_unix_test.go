//go:build unix

package segment

import (
	"syscall"
	"time"
)

// processCPU is the process's user+system time so far: on a shared machine
// it measures a single-goroutine benchmark's work better than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
