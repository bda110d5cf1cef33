package storage

import (
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/blevesearch/mmap-go"
	"github.com/cespare/xxhash/v2"
)

// Mapper is implemented by a ReadFile whose whole content can be used in
// place, without copying it into the Go heap: a file system's files are
// memory-mapped, an in-memory directory's are shared.
type Mapper interface {
	// Map returns the file's Size bytes, read-only: writing to them may
	// crash the process. They stay valid until Close, and must not be
	// used after it. Calling Map again returns the same bytes.
	Map() ([]byte, error)
}

// Contents returns the whole content of f: in place when f is a Mapper,
// otherwise read into memory through ReadAt (so a directory that is not
// backed by files, such as the fault-injecting one, still works). The
// bytes must not be modified and are valid until f is closed. A file
// shorter than its Size is reported as corrupt, naming it.
func Contents(f ReadFile) ([]byte, error) {
	if m, ok := f.(Mapper); ok {
		return m.Map()
	}
	return readFull(f)
}

// fsMapping is the memory map of an fsReadFile, made on first use.
type fsMapping struct {
	once sync.Once
	// mu orders ReleasePages before the unmapping: an madvise after it
	// could reach memory mapped anew at the same address.
	mu  sync.RWMutex
	m   mmap.MMap
	err error
}

// Map implements Mapper by memory-mapping the file. A mapped file that
// is shortened afterwards would fault (SIGBUS) when its lost pages are
// touched, so Map first checks that the file still has the size it had
// when opened: segment files are immutable, and one that shrank is
// reported as corrupt before a byte of it is mapped.
func (r *fsReadFile) Map() ([]byte, error) {
	r.mapping.once.Do(func() {
		st, err := r.f.Stat()
		if err != nil {
			r.mapping.err = err
			return
		}
		if st.Size() != r.size {
			r.mapping.err = corruptf(r.name, "size changed from %d to %d bytes while open: truncated or replaced", r.size, st.Size())
			return
		}
		if r.size == 0 {
			return // nothing to map; an empty slice serves
		}
		if int64(int(r.size)) != r.size {
			r.mapping.err = &os.PathError{Op: "mmap", Path: r.name, Err: fmt.Errorf("%d bytes do not fit the address space", r.size)}
			return
		}
		m, err := mmap.MapRegion(r.f, int(r.size), mmap.RDONLY, 0, 0)
		if err != nil {
			r.mapping.err = &os.PathError{Op: "mmap", Path: r.name, Err: err}
			return
		}
		r.mapping.mu.Lock()
		r.mapping.m = m
		r.mapping.mu.Unlock()
	})
	if r.mapping.err != nil {
		return nil, r.mapping.err
	}
	if r.mapping.m == nil {
		return []byte{}, nil
	}
	return r.mapping.m[:r.size:r.size], nil
}

// unmap releases the mapping, if any.
func (r *fsReadFile) unmap() error {
	r.mapping.once.Do(func() {}) // no Map may start after Close
	if r.mapping.m == nil {
		return nil
	}
	r.mapping.mu.Lock()
	m := r.mapping.m
	r.mapping.m = nil
	r.mapping.mu.Unlock()
	if err := m.Unmap(); err != nil {
		return &os.PathError{Op: "munmap", Path: r.name, Err: err}
	}
	return nil
}

// Map implements Mapper: the file's bytes are immutable and shared.
func (r *memReadFile) Map() ([]byte, error) {
	if r.closed.Load() {
		return nil, fmt.Errorf("map %s: %w", r.name, os.ErrClosed)
	}
	return r.data, nil
}

// VerifyContents checks the footer and checksum of a checksummed file
// whose whole content (payload and footer, as from Contents) is data.
func VerifyContents(name string, data []byte, kind [4]byte) (Footer, error) {
	size := int64(len(data))
	if size < FooterSize {
		return Footer{}, corruptf(name, "%d bytes is too short for a %d-byte footer: truncated", size, FooterSize)
	}
	ft, err := parseFooter(name, data[size-FooterSize:], size, kind)
	if err != nil {
		return ft, err
	}
	if sum := xxhash.Sum64(data[:size-FooterSize+16]); sum != ft.Checksum {
		return ft, checksumMismatch(name, ft.Checksum, sum)
	}
	return ft, nil
}

// PageReleaser is implemented by a ReadFile whose Contents are mapped
// pages that count in the process's resident set (a file system's files).
type PageReleaser interface {
	// ReleasePages drops the pages of bytes [off, off+n) of the mapping
	// from the process's resident set; see ReleasePages.
	ReleasePages(off, n int64) error
}

// ReleasePages tells the system that bytes [off, off+n) of f's Contents
// will not be needed soon. When f is memory-mapped, the whole pages inside
// the range (and the file's last, partial page, if the range ends the
// file) leave the process's resident set: the page cache keeps them
// (it is the system's, reclaimed under memory pressure), and the next read
// of those bytes, from any goroutine, maps them again from the cache (or
// the disk): they stay valid and keep their values. Elsewhere it does
// nothing. A merge reads its sources once, front to back, and calls it
// behind itself, so that reading a large segment does not make the process
// look as large as the file.
func ReleasePages(f ReadFile, off, n int64) error {
	if r, ok := f.(PageReleaser); ok {
		return r.ReleasePages(off, n)
	}
	return nil
}

// ReleasePages implements PageReleaser; it does nothing before Map or
// after Close.
func (r *fsReadFile) ReleasePages(off, n int64) error {
	if off < 0 || n < 0 || off > r.size-n {
		return &os.PathError{Op: "release pages", Path: r.name, Err: fmt.Errorf("%w: range [%d, %d) outside the file's %d bytes", fs.ErrInvalid, off, off+n, r.size)}
	}
	r.mapping.mu.RLock()
	defer r.mapping.mu.RUnlock()
	if r.mapping.m == nil {
		return nil
	}
	if err := releasePages(r.mapping.m, int(off), int(off+n)); err != nil {
		return &os.PathError{Op: "madvise", Path: r.name, Err: err}
	}
	return nil
}
