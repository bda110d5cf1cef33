package main

import "runtime/metrics"

// benchStats are process-wide counters for the bench summary: CPU time
// (user and system, from the OS), GC cycles, and the share of the CPU the
// garbage collector took. The share comes from runtime/metrics, whose CPU
// classes are estimates from wall time per P: the GC time and the busy time
// are both inflated alike on a loaded machine, so their ratio holds.
type benchStats struct {
	cpuSeconds  float64
	gcSeconds   float64 // runtime estimate
	busySeconds float64 // runtime estimate: all classes but idle
	gcCycles    uint64
}

func readBenchStats() benchStats {
	samples := []metrics.Sample{
		{Name: "/cpu/classes/gc/total:cpu-seconds"},
		{Name: "/cpu/classes/total:cpu-seconds"},
		{Name: "/cpu/classes/idle:cpu-seconds"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	metrics.Read(samples)
	f := func(i int) float64 {
		if v := samples[i].Value; v.Kind() == metrics.KindFloat64 {
			return v.Float64()
		}
		return 0
	}
	s := benchStats{cpuSeconds: processCPUSeconds(), gcSeconds: f(0), busySeconds: f(1) - f(2)}
	if v := samples[3].Value; v.Kind() == metrics.KindUint64 {
		s.gcCycles = v.Uint64()
	}
	if s.cpuSeconds == 0 {
		s.cpuSeconds = s.busySeconds // no OS figure
	}
	return s
}

// since returns the counters accumulated after earlier.
func (s benchStats) since(earlier benchStats) benchStats {
	return benchStats{s.cpuSeconds - earlier.cpuSeconds, s.gcSeconds - earlier.gcSeconds,
		s.busySeconds - earlier.busySeconds, s.gcCycles - earlier.gcCycles}
}

// gcShare is the fraction of the busy CPU time that went to the collector.
func (s benchStats) gcShare() float64 { return s.gcSeconds / max(s.busySeconds, 1e-9) }
