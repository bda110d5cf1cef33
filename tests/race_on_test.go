//go:build race

package tests

// raceSlowdown widens the liveness tests' time bounds under the race
// detector, which makes segment builds about ten times slower.
const raceSlowdown = 3
