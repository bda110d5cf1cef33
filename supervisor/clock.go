// Package supervisor holds the pieces that keep the writer's promise that no
// acknowledged document is lost and no commit hangs when workers fail:
//
//   - Backoff and Failures: how long a failed worker waits before its
//     restart: at once while its failures are explained by one document,
//     a growing backoff with jitter when it keeps failing on different input.
//   - Ledger: every batch handed to a worker stays here until a durable
//     segment holding it is acknowledged; a lost worker's batches are
//     re-delivered at once, and a document whose add keeps crashing
//     workers is rejected alone.
//   - Clock: the injectable source of time.
//
// Everything here is a plain data structure driven by the actors; none of it
// starts goroutines of its own except through the Clock.
package supervisor

import "time"

// Clock is the source of time for backoff, injectable so tests drive it.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, unless stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call; it reports whether it was still pending.
	Stop() bool
}

// RealClock is the wall clock.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
