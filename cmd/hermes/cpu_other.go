//go:build !unix

package main

// processCPUSeconds is not measured on this system; runtime/metrics stands in.
func processCPUSeconds() float64 { return 0 }
