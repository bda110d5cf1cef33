//go:build unix && !linux

package main

import (
	"runtime"
	"syscall"
	"time"
)

// peakRSS returns the process's peak resident set size in bytes, from
// getrusage: maxrss is in bytes on macOS, KiB elsewhere.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
}

func residentSplit() (anon, file int64) { return 0, 0 }

// threadCPU is measured on Linux only.
func threadCPU() time.Duration { return 0 }
