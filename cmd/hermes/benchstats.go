package main

import (
	"runtime/metrics"
	"time"
)

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

// rssSampler samples the process's resident set (all of it, and its own
// memory: heap and stacks, RssAnon) and its CPU time every 50 ms during a
// bench run, so the summary can tell the indexing from the merges at the
// end: their peaks (merges map their sources: file pages count in the
// resident set too), and the CPU time indexing took.
type rssSampler struct {
	start   time.Time
	stopped chan struct{}
	done    chan []rssSample
}

type rssSample struct {
	at         time.Duration // since start
	total, own int64
	cpuSeconds float64 // the process's, since start
}

// rssPeaks are the sampled peaks of a run's two phases; zero where the
// system does not report them.
type rssPeaks struct {
	indexing, indexingAnon int64
	merging, mergingAnon   int64
	indexingCPU            float64 // CPU seconds until the last sample while indexing
}

func sampleRSS() *rssSampler {
	s := &rssSampler{start: time.Now(), stopped: make(chan struct{}), done: make(chan []rssSample, 1)}
	cpu0 := processCPUSeconds()
	go func() {
		var samples []rssSample
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			own, file := residentSplit()
			samples = append(samples, rssSample{at: time.Since(s.start), total: own + file, own: own, cpuSeconds: processCPUSeconds() - cpu0})
			select {
			case <-s.stopped:
				s.done <- samples
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and splits the samples at the end of res's
// indexing (res nil: a failed run, no peaks).
func (s *rssSampler) stop(res *indexResult) rssPeaks {
	close(s.stopped)
	samples := <-s.done
	var p rssPeaks
	if res == nil {
		return p
	}
	for _, x := range samples {
		if x.at <= res.elapsed {
			p.indexing, p.indexingAnon = max(p.indexing, x.total), max(p.indexingAnon, x.own)
			p.indexingCPU = x.cpuSeconds
		} else {
			p.merging, p.mergingAnon = max(p.merging, x.total), max(p.mergingAnon, x.own)
		}
	}
	return p
}
