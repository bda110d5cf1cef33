package main

import "runtime/metrics"

// benchStats are process-wide counters for the bench summary: CPU time (user
// and system, from the OS), of which garbage collection (from
// runtime/metrics), and GC cycles.
type benchStats struct {
	cpuSeconds float64
	gcSeconds  float64
	gcCycles   uint64
}

func readBenchStats() benchStats {
	samples := []metrics.Sample{
		{Name: "/cpu/classes/gc/total:cpu-seconds"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/cpu/classes/user:cpu-seconds"},
	}
	metrics.Read(samples)
	s := benchStats{cpuSeconds: processCPUSeconds()}
	if v := samples[0].Value; v.Kind() == metrics.KindFloat64 {
		s.gcSeconds = v.Float64()
	}
	if v := samples[1].Value; v.Kind() == metrics.KindUint64 {
		s.gcCycles = v.Uint64()
	}
	if v := samples[2].Value; s.cpuSeconds == 0 && v.Kind() == metrics.KindFloat64 {
		s.cpuSeconds = v.Float64() + s.gcSeconds // no OS figure: Go code and GC
	}
	return s
}

// since returns the counters accumulated after earlier.
func (s benchStats) since(earlier benchStats) benchStats {
	return benchStats{s.cpuSeconds - earlier.cpuSeconds, s.gcSeconds - earlier.gcSeconds, s.gcCycles - earlier.gcCycles}
}
