// Package pages prepares fresh memory for the way hash tables use it.
package pages

import "unsafe"

// stride is at most the size of a page on every platform Go runs on, so
// that touching every stride bytes touches every page.
const stride = 4096

// minBytes is the smallest table worth touching: a small one is likely
// carved from pages already in use.
const minBytes = 64 << 10

// TouchForWrite writes a zero into every page of s, whose elements must
// be zero and hold no pointers; it changes nothing in s. A large slice
// just made may be memory the process never used, which the kernel maps
// on first access, one page at a time: a read first maps a shared zero
// page, and the write after it faults again to get a page of its own. A
// hash table probes (reads) its slots before it fills them, so growing
// one faults twice on every page of the new table; touching it for
// writing first makes that once.
func TouchForWrite[T any](s []T) {
	n := uintptr(len(s)) * unsafe.Sizeof(*new(T))
	if n < minBytes {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), n)
	for i := uintptr(0); i < n; i += stride {
		b[i] = 0
	}
	b[n-1] = 0 // the last page, when s begins inside a page
}
