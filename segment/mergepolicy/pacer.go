package mergepolicy

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hermes-search/hermes-go/supervisor"
)

// Pacer is the CPU budget of background merges, so that merges running
// while the writer indexes leave it the cores (in the manner of Lucene's
// merge rate limiter, counted in time rather than bytes). A merge reports
// each stretch of its work to Pace, which lets it go on at once while the
// merges together have worked at most Share of one core's time (with a
// burst of PacerBurst), and otherwise makes it sleep until they are back
// within it. The policy decides which merges run; the Pacer how fast.
//
// At full speed (SetFullSpeed) Pace never sleeps: the writer sets it while
// someone waits for the merges (WaitForMerges, ForceMerge), as the merges
// then are the work. Unlike a Policy, a Pacer keeps state; it is safe for
// concurrent use, and a nil *Pacer never sleeps.
type Pacer struct {
	clock   supervisor.Clock
	limiter *rate.Limiter // tokens: nanoseconds of merge work

	mu   sync.Mutex
	full bool
	wake chan struct{} // closed when full speed starts: sleepers go on
}

// Pacer settings.
const (
	// DefaultMergeShare is the share of one core merges take by default
	// while nobody waits for them.
	DefaultMergeShare = 0.5
	// PacerBurst is how much work merges may do at once before the share
	// applies: a merge shorter than that never sleeps.
	PacerBurst = 100 * time.Millisecond
)

// NewPacer returns a Pacer that lets merges work share of one core's time
// (0 means DefaultMergeShare), measured and slept on clock (nil: the wall
// clock). A negative share returns nil: no pacing.
func NewPacer(share float64, clock supervisor.Clock) *Pacer {
	if share < 0 {
		return nil
	}
	if !(share > 0) { // also catches NaN
		share = DefaultMergeShare
	}
	if clock == nil {
		clock = supervisor.RealClock()
	}
	return &Pacer{
		clock:   clock,
		limiter: rate.NewLimiter(rate.Limit(share*float64(time.Second)), int(PacerBurst)),
		wake:    make(chan struct{}),
	}
}

// Pace accounts for worked, a stretch of a merge's work, and returns when
// the merge may go on: at once within the budget or at full speed, else
// after a sleep (cut short by full speed), or with ctx's error when ctx
// ends first.
func (p *Pacer) Pace(ctx context.Context, worked time.Duration) error {
	if p == nil || worked <= 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	full, wake := p.full, p.wake
	p.mu.Unlock()
	if full {
		return ctx.Err()
	}
	now := p.clock.Now()
	// One stretch longer than the burst (a slow machine) is taken as the
	// burst: the limiter refuses more, and the merge still sleeps its
	// share of it.
	r := p.limiter.ReserveN(now, int(min(worked, PacerBurst)))
	delay := r.DelayFrom(now)
	if delay <= 0 {
		return ctx.Err()
	}
	done := make(chan struct{})
	t := p.clock.AfterFunc(delay, func() { close(done) })
	defer t.Stop()
	select {
	case <-done:
		return ctx.Err() // a cancel that came with the wake-up wins
	case <-wake:
		return ctx.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetFullSpeed turns pacing off (true) or back on (false). Merges asleep
// in Pace when it turns off go on at once.
func (p *Pacer) SetFullSpeed(full bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if full == p.full {
		return
	}
	p.full = full
	if full {
		close(p.wake)
	} else {
		p.wake = make(chan struct{})
	}
}
