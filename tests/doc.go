// Package tests is part of Hermes for Go.
package tests
