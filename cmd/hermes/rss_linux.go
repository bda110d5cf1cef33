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
	var hwm int64
	readStatus(func(name string, bytes int64) {
		if name == "VmHWM" {
			hwm = bytes
		}
	})
	if hwm > 0 {
		return hwm
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10
}

// readStatus reads /proc/self/status once and calls found with the name
// and size in bytes of each of its "NAME: N kB" lines.
func readStatus(found func(name string, bytes int64)) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // "123456 kB"
		if len(f) == 2 && f[1] == "kB" {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				found(name, kb<<10)
			}
		}
	}
}

// residentSplit splits the resident set: the process's own memory (heap,
// stacks) and pages of mapped files, which are the page cache's. It reads
// /proc/self/status once for both, as the benchmark's sampler asks 20
// times a second.
func residentSplit() (anon, file int64) {
	readStatus(func(name string, bytes int64) {
		switch name {
		case "RssAnon":
			anon = bytes
		case "RssFile":
			file = bytes
		}
	})
	return anon, file
}

// threadCPU returns the CPU time (user + system) the calling OS thread has
// used; callers lock the goroutine to its thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
