// Package messages is part of Hermes for Go.
package messages
