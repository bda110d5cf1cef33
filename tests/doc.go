// Package tests holds Hermes's end-to-end tests: chaos (panicking
// tokenizers, killed workers, many commits and aborts), the metamorphic
// test (1 worker vs 4 workers give the same index), and crash tests over a
// fault-injecting directory.
package tests
