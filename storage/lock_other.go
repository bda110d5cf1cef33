//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package storage

import (
	"os"
	"path/filepath"
	"sync"
)

// heldLocks holds the lock files locked by this process, on systems without
// flock(2). There the lock excludes other writers in this process only.
var heldLocks sync.Map

// lockFile records f's path as locked; the returned func releases it.
func lockFile(f *os.File) (unlock func(), err error) {
	path, err := filepath.Abs(f.Name())
	if err != nil {
		return nil, err
	}
	if _, loaded := heldLocks.LoadOrStore(path, struct{}{}); loaded {
		return nil, ErrLocked
	}
	return func() { heldLocks.Delete(path) }, nil
}
