package supervisor

import (
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff with jitter: the n-th consecutive failure
// waits Initial * Multiplier^(n-1), capped at Max, then scaled by a random
// factor in [1-Jitter, 1]. A failure more than ResetAfter after the previous
// one starts the count again.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     float64 // in [0, 1]
	ResetAfter time.Duration
}

// DefaultBackoff is what workers use unless configured otherwise: 10 ms,
// doubling up to 5 s, with up to 50% jitter, reset after a quiet minute.
func DefaultBackoff() Backoff {
	return Backoff{
		Initial:    10 * time.Millisecond,
		Max:        5 * time.Second,
		Multiplier: 2,
		Jitter:     0.5,
		ResetAfter: time.Minute,
	}
}

// Delay returns the wait before the restart that follows the failures-th
// consecutive failure (failures >= 1). rnd supplies the jitter.
func (b Backoff) Delay(failures int, rnd *rand.Rand) time.Duration {
	if failures < 1 {
		failures = 1
	}
	d := float64(b.Initial)
	for i := 1; i < failures && d < float64(b.Max); i++ {
		d *= b.Multiplier
	}
	if b.Max > 0 && d > float64(b.Max) {
		d = float64(b.Max)
	}
	if b.Jitter > 0 {
		d *= 1 - b.Jitter*rnd.Float64()
	}
	return time.Duration(d)
}
