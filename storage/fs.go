package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// FSDirectory is a Directory in a folder of the operating system's file
// system. It fsyncs for real, replaces files by atomic rename, fsyncs the
// folder for name changes, and locks with flock(2) (where available), so a
// second writer is excluded across processes too.
type FSDirectory struct {
	path string
}

var _ Directory = (*FSDirectory)(nil)

// NewFS returns the directory at path, creating the folder if it is missing
// (and fsyncing its parent so the new folder survives a crash).
func NewFS(path string) (*FSDirectory, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &fs.PathError{Op: "open directory", Path: path, Err: err}
	}
	st, err := os.Stat(abs)
	switch {
	case err == nil && !st.IsDir():
		return nil, &fs.PathError{Op: "open directory", Path: abs, Err: errors.New("not a directory")}
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, err
		}
		if err := syncDir(filepath.Dir(abs)); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	return &FSDirectory{path: abs}, nil
}

// Path returns the absolute path of the folder.
func (d *FSDirectory) Path() string { return d.path }

func (d *FSDirectory) full(name string) string { return filepath.Join(d.path, name) }

// Create implements Directory.
func (d *FSDirectory) Create(name string) (WriteFile, error) {
	if err := checkName("create", name); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(d.full(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	return &fsWriteFile{f: f, name: name}, nil
}

// Open implements Directory.
func (d *FSDirectory) Open(name string) (ReadFile, error) {
	if err := checkName("open", name); err != nil {
		return nil, err
	}
	f, err := os.Open(d.full(name))
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: d.full(name), Err: errors.New("not a regular file")}
	}
	return &fsReadFile{f: f, name: name, size: st.Size()}, nil
}

// List implements Directory.
func (d *FSDirectory) List() ([]string, error) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Remove implements Directory.
func (d *FSDirectory) Remove(name string) error {
	if err := checkName("remove", name); err != nil {
		return err
	}
	return os.Remove(d.full(name))
}

// FileSize implements Directory.
func (d *FSDirectory) FileSize(name string) (int64, error) {
	if err := checkName("stat", name); err != nil {
		return 0, err
	}
	st, err := os.Stat(d.full(name))
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// WriteAtomic implements Directory.
func (d *FSDirectory) WriteAtomic(name string, data []byte) (err error) {
	if err := checkName("write atomic", name); err != nil {
		return err
	}
	var f *os.File
	var tmp string
	for {
		tmp = d.full(tempPrefix + name + "." + strconv.FormatUint(rand.Uint64(), 36))
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(tmp) // best effort; Lock removes leftovers
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fsWriteErr(err, tmp)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, d.full(name)); err != nil {
		return err
	}
	renamed = true
	return d.SyncDir()
}

// SyncDir implements Directory.
func (d *FSDirectory) SyncDir() error { return syncDir(d.path) }

func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	// The *fs.PathError from Sync names the folder.
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Lock implements Directory with flock(2) on a ".lock" file in the folder.
// The lock file stays in place; the lock itself dies with its process.
func (d *FSDirectory) Lock() (io.Closer, error) {
	path := d.full(lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "lock", Path: path, Err: err}
	}
	// Remove temporary files of WriteAtomic calls cut short by a crash. Errors
	// are ignored: leftovers are invisible to List and retried next time.
	if entries, err := os.ReadDir(d.path); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tempPrefix) {
				os.Remove(d.full(e.Name()))
			}
		}
	}
	return &fsLock{f: f, unlock: unlock}, nil
}

type fsLock struct {
	once   sync.Once
	f      *os.File
	unlock func()
	err    error
}

// Close releases the lock; closing twice is harmless.
func (l *fsLock) Close() error {
	l.once.Do(func() {
		l.unlock()
		l.err = l.f.Close()
	})
	return l.err
}

// fsWriteErr turns "no space left on device" into an error that also
// matches ErrDiskFull.
func fsWriteErr(err error, path string) error {
	if errors.Is(err, syscall.ENOSPC) {
		return &fs.PathError{Op: "write", Path: path, Err: diskFullError{cause: syscall.ENOSPC}}
	}
	return err
}

type fsWriteFile struct {
	f       *os.File
	name    string
	syncErr error // sticky: after a failed fsync the file's state is unknown
}

func (w *fsWriteFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		return n, fsWriteErr(err, w.f.Name())
	}
	return n, nil
}

func (w *fsWriteFile) Sync() error {
	if w.syncErr != nil {
		return w.syncErr
	}
	if err := w.f.Sync(); err != nil {
		w.syncErr = fmt.Errorf("%w (an earlier fsync failed; the file must be discarded)", err)
		return err
	}
	return nil
}

func (w *fsWriteFile) Close() error { return w.f.Close() }
func (w *fsWriteFile) Name() string { return w.name }

type fsReadFile struct {
	f       *os.File
	name    string
	size    int64
	mapping fsMapping // see Map
}

func (r *fsReadFile) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r *fsReadFile) Size() int64                             { return r.size }
func (r *fsReadFile) Name() string                            { return r.name }

func (r *fsReadFile) Close() error {
	err := r.unmap()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}
