//go:build !linux

package storage

// releasePages does nothing where MADV_DONTNEED's semantics (the pages of a
// shared file mapping leave the resident set at once) are not assured.
func releasePages(m []byte, off, end int) error { return nil }
