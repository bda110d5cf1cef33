package storage

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

var pageSize = os.Getpagesize()

// releasePages drops the whole pages inside b, a part of a shared
// read-only file mapping, from the resident set: MADV_DONTNEED unmaps them
// from the process, and the next access faults them in again from the page
// cache with the file's bytes. (On a private or anonymous mapping it would
// zero them instead; Map makes only shared read-only ones.)
func releasePages(b []byte) error {
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := int((uintptr(pageSize) - addr%uintptr(pageSize)) % uintptr(pageSize))
	if len(b)-start < pageSize {
		return nil // no whole page inside
	}
	end := start + (len(b)-start)/pageSize*pageSize
	return unix.Madvise(b[start:end], unix.MADV_DONTNEED)
}
