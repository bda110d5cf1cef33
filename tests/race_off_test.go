//go:build !race

package tests

const raceSlowdown = 1
