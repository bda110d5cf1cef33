package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

var pageSize = os.Getpagesize()

// releasePages drops the pages of m[off:end] from the resident set, m being
// a whole shared read-only file mapping (page-aligned): the whole pages
// inside the range, and the last, partial page of the file when the range
// reaches the end. MADV_DONTNEED unmaps them from the process, and the next
// access faults them in again from the page cache with the file's bytes.
// (On a private or anonymous mapping it would zero them instead; Map makes
// only shared read-only ones.)
func releasePages(m []byte, off, end int) error {
	start := (off + pageSize - 1) / pageSize * pageSize
	if end < len(m) {
		end = end / pageSize * pageSize
	}
	if start >= end {
		return nil
	}
	return unix.Madvise(m[start:end], unix.MADV_DONTNEED)
}
