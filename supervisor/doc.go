// Package supervisor is part of Hermes for Go.
package supervisor
