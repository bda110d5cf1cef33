package mergepolicy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/supervisor"
)

// fakeClock stands still until the test moves it; each AfterFunc is handed
// to the test, which fires it.
type fakeClock struct {
	now    time.Time
	timers chan *fakeTimer
}

type fakeTimer struct {
	d time.Duration
	f func()
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) supervisor.Timer {
	t := &fakeTimer{d: d, f: f}
	c.timers <- t
	return t
}

func (t *fakeTimer) Stop() bool { return true }

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_000_000, 0), timers: make(chan *fakeTimer, 1)}
}

// pace reports worked to p at the clock's time (moving the clock past the
// work first) and returns how long Pace slept, firing its timer at once.
func pace(t *testing.T, p *Pacer, c *fakeClock, worked time.Duration) time.Duration {
	t.Helper()
	c.now = c.now.Add(worked)
	done := make(chan error, 1)
	go func() { done <- p.Pace(context.Background(), worked) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case tm := <-c.timers:
		c.now = c.now.Add(tm.d)
		tm.f()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return tm.d
	}
}

// Merges go on at once within the burst, then work share of the time: at
// a share of 0.25, 10 ms of work earns 2.5 ms of budget, so the merge
// sleeps 30 ms; over a long run they sleep three times as long as they
// work.
func TestPacerKeepsMergesToTheirShare(t *testing.T) {
	c := newFakeClock()
	p := NewPacer(0.25, c)
	if slept := pace(t, p, c, PacerBurst); slept != 0 {
		t.Fatalf("within the burst a merge slept %v", slept)
	}
	if slept := pace(t, p, c, 10*time.Millisecond); slept != 30*time.Millisecond {
		t.Fatalf("past the burst, 10 ms of work at a share of 0.25 slept %v, want 30 ms", slept)
	}
	var worked, slept time.Duration
	for range 1000 {
		worked += 10 * time.Millisecond
		slept += pace(t, p, c, 10*time.Millisecond)
	}
	if share := float64(worked) / float64(worked+slept); share > 0.26 || share < 0.24 {
		t.Fatalf("merges worked %v and slept %v: a share of %.3f, want 0.25", worked, slept, share)
	}
}

// Two merges draw on one budget: together they get the share one would.
// At a share of 0.5, past the burst, two merges that each worked 10 ms on
// their own core, earning 5 ms of budget, owe 15 ms between them: the
// first to report sleeps 10 ms, the second 30.
func TestPacerSharesOneBudgetAmongMerges(t *testing.T) {
	c := newFakeClock()
	p := NewPacer(0.5, c)
	pace(t, p, c, PacerBurst)
	c.now = c.now.Add(10 * time.Millisecond)
	done := make(chan error, 2)
	var timers []*fakeTimer
	for range 2 {
		go func() { done <- p.Pace(context.Background(), 10*time.Millisecond) }()
		timers = append(timers, <-c.timers)
	}
	if timers[0].d != 10*time.Millisecond || timers[1].d != 30*time.Millisecond {
		t.Fatalf("the merges slept %v and %v, want 10 ms and 30 ms", timers[0].d, timers[1].d)
	}
	for _, tm := range timers {
		tm.f()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// At full speed nothing sleeps, and a merge asleep goes on at once; pacing
// resumes when full speed ends. A merge asleep when its context ends
// returns the context's error.
func TestPacerFullSpeedAndCancel(t *testing.T) {
	c := newFakeClock()
	p := NewPacer(0.5, c)
	pace(t, p, c, PacerBurst)
	done := make(chan error, 1)
	go func() { done <- p.Pace(context.Background(), 50*time.Millisecond) }()
	<-c.timers // asleep
	p.SetFullSpeed(true)
	if err := <-done; err != nil {
		t.Fatalf("woken by full speed: %v", err)
	}
	if err := p.Pace(context.Background(), time.Second); err != nil { // a sleep would block here
		t.Fatalf("at full speed: %v", err)
	}
	p.SetFullSpeed(false)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- p.Pace(ctx, 50*time.Millisecond) }()
	<-c.timers // asleep again
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while asleep: %v", err)
	}
	var none *Pacer // pacing off (NewPacer with a negative share)
	if NewPacer(-1, c) != nil || none.Pace(context.Background(), time.Hour) != nil {
		t.Fatal("a nil Pacer paced")
	}
	none.SetFullSpeed(true)
}
