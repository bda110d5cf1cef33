// Package storage holds the files of one index: the Directory abstraction
// (a real file system, an in-memory directory, and a fault-injecting
// directory for crash tests), checksummed files, and metadata.json, the one
// record of what is committed.
//
// Durability follows the order Lucene uses: a file's bytes are durable after
// WriteFile.Sync; a new, renamed or removed name is durable after
// Directory.SyncDir. WriteAtomic does both for small files replaced whole
// (metadata.json), so a crash leaves either the old or the new version, never
// a torn one.
package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Directory is a flat namespace of files holding one index.
//
// Files are written once, front to back, and never modified afterwards;
// WriteAtomic is the only way to replace a file. Names are plain file names:
// not empty, no path separators, and not starting with '.', which is reserved
// for the directory's own files (lock and temporary files). Every error names
// the file it concerns, usually as an *fs.PathError, so errors.Is works with
// fs.ErrNotExist, fs.ErrExist, fs.ErrInvalid, ErrLocked and ErrDiskFull.
//
// All implementations are safe for concurrent use.
type Directory interface {
	// Create creates a new, empty file for writing. It fails with an error
	// wrapping fs.ErrExist if the name exists. The new name is durable only
	// after SyncDir.
	Create(name string) (WriteFile, error)
	// Open opens a file for random-access reads. Its Size is fixed when
	// opened. A missing file gives an error wrapping fs.ErrNotExist.
	Open(name string) (ReadFile, error)
	// List returns the names of all files, sorted, without the directory's
	// own lock and temporary files.
	List() ([]string, error)
	// Remove deletes a file. Readers that have it open may keep reading.
	// The removal is durable only after SyncDir.
	Remove(name string) error
	// FileSize returns the current size of a file in bytes.
	FileSize(name string) (int64, error)
	// WriteAtomic replaces (or creates) name with data: it writes a temporary
	// file, fsyncs it, renames it over name and fsyncs the directory. If it
	// returns nil, the new content is durable. If it fails, name holds either
	// the old or the new content, never a mix.
	WriteAtomic(name string, data []byte) error
	// SyncDir makes all name changes so far (create, remove, rename) durable.
	// Its error must be treated as fatal by a writer: the state of the
	// directory on disk is unknown.
	SyncDir() error
	// Lock takes the exclusive writer lock of the directory. It fails with
	// an error wrapping ErrLocked while another holder (in this or, for
	// file systems, another process) has it. Closing the returned Closer
	// releases it. Acquiring the lock also removes temporary files left by
	// WriteAtomic calls a crash interrupted, as only the holder writes.
	Lock() (io.Closer, error)
}

// WriteFile is a file being written, front to back.
type WriteFile interface {
	io.Writer
	// Sync makes everything written so far durable. After a failed Sync the
	// file's content on disk is unknown; it must be discarded.
	Sync() error
	// Close releases the file. It does not imply Sync.
	Close() error
	// Name returns the file's name within its directory.
	Name() string
}

// ReadFile is a file opened for random-access reads. It may also be a
// Mapper, whose content Contents then uses in place.
type ReadFile interface {
	io.ReaderAt
	// Size returns the size of the file when it was opened.
	Size() int64
	// Close releases the file.
	Close() error
	// Name returns the file's name within its directory.
	Name() string
}

var (
	// ErrLocked reports that another holder has a directory's writer lock.
	ErrLocked = errors.New("storage: directory is locked by another writer")
	// ErrCorrupt reports corrupt or truncated data; see CorruptError.
	ErrCorrupt = errors.New("storage: corrupt data")
	// ErrDiskFull reports a write that failed for lack of space. Errors
	// wrapping it from a file system also wrap syscall.ENOSPC.
	ErrDiskFull = errors.New("storage: disk full")
)

// CorruptError reports corruption of a named file. errors.Is(err, ErrCorrupt)
// is true for it.
type CorruptError struct {
	File   string // the file's name within its directory
	Reason string // what is wrong, e.g. "checksum mismatch"
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("storage: corrupt file %s: %s", e.File, e.Reason)
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func corruptf(file, format string, args ...any) *CorruptError {
	return &CorruptError{File: file, Reason: fmt.Sprintf(format, args...)}
}

// diskFullError is the cause of a write that ran out of space: it matches
// ErrDiskFull and unwraps to the system's error (syscall.ENOSPC).
type diskFullError struct{ cause error }

func (e diskFullError) Error() string        { return "disk full: " + e.cause.Error() }
func (e diskFullError) Is(target error) bool { return target == ErrDiskFull }
func (e diskFullError) Unwrap() error        { return e.cause }

// ReadAll returns the whole content of the named file.
func ReadAll(dir Directory, name string) ([]byte, error) {
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readFull(f)
}

// readFull reads all Size() bytes of f; a file shorter than its Size is
// reported as corrupt.
func readFull(f ReadFile) ([]byte, error) {
	size := f.Size()
	buf := make([]byte, size)
	n, err := f.ReadAt(buf, 0)
	if int64(n) == size {
		return buf, nil
	}
	if errors.Is(err, io.EOF) {
		return nil, corruptf(f.Name(), "truncated while reading: read %d of %d bytes", n, size)
	}
	return nil, err
}

// Reserved name prefixes: the lock file and WriteAtomic's temporary files
// start with '.', which user names may not.
const (
	lockFileName = ".lock"
	tempPrefix   = ".tmp."
)

// checkName rejects names that are not plain file names or that use the
// reserved '.' prefix.
func checkName(op, name string) error {
	if name == "" || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "/\\\x00") {
		return &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: not a plain file name (empty, leading '.', or path separator)", fs.ErrInvalid)}
	}
	return nil
}

// readAtBytes implements io.ReaderAt over an immutable byte slice.
func readAtBytes(name string, data, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: negative offset %d", fs.ErrInvalid, off)}
	}
	if off >= int64(len(data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
