//go:build !unix

package main

import "time"

// peakRSS is not measured on this system.
func peakRSS() int64 { return 0 }

func residentSplit() (anon, file int64) { return 0, 0 }

// threadCPU is measured on Linux only.
func threadCPU() time.Duration { return 0 }
