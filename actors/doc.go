// Package actors is part of Hermes for Go.
package actors
