package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// peakRSS returns the process's peak resident set size in bytes: VmHWM from
// /proc/self/status, or getrusage's maxrss (KiB on Linux) as a fallback.
func peakRSS() int64 {
	if n := residentKiB("VmHWM"); n > 0 {
		return n
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10
}

// residentKiB returns a field of /proc/self/status in bytes ("VmHWM",
// "RssAnon", "RssFile"), 0 if it cannot be read.
func residentKiB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// anonRSS and fileRSS split the resident set: the process's own memory
// (heap, stacks) and pages of mapped files, which are the page cache's.
func anonRSS() int64 { return residentKiB("RssAnon") }
func fileRSS() int64 { return residentKiB("RssFile") }

// threadCPU returns the CPU time (user + system) the calling OS thread has
// used; callers lock the goroutine to its thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
