//go:build !amd64 && !arm64

package segment

// prefetch does nothing here: see prefetch.go.
func prefetch(addrs []uintptr) {}
