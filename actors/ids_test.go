package actors

import (
	"testing"
	"time"
)

// A writer's segment ids are never dated before its start, even when the
// wall clock is behind it (a clock step back): orphan cleanup, which only
// takes segments older than the start, must never take the writer's own.
func TestSegmentIDsNeverPredateTheWritersStart(t *testing.T) {
	for _, ahead := range []time.Duration{0, time.Millisecond, time.Hour} {
		started := time.Now().Add(ahead).Truncate(time.Millisecond)
		cfg := &Config{Started: started}
		if id := cfg.newSegmentID(); id.Time().Before(started) {
			t.Fatalf("start %v ahead of the clock: id dated %v, before the start %v", ahead, id.Time(), started)
		}
	}
}
