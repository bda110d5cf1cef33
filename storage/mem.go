package storage

import (
	"io"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
)

// MemDirectory is a Directory held in memory, for tests and throw-away
// indexes. Everything is "durable" at once; nothing survives the process.
type MemDirectory struct {
	mu     sync.Mutex
	files  map[string]*memFile
	locked bool
}

var _ Directory = (*MemDirectory)(nil)

// memFile is one file's content. Bytes up to len(data) are never changed
// once written (files are write-once; WriteAtomic installs a new memFile), so
// readers may keep a sub-slice without copying.
type memFile struct {
	data []byte
}

// NewMem returns an empty in-memory directory.
func NewMem() *MemDirectory {
	return &MemDirectory{files: make(map[string]*memFile)}
}

// Create implements Directory.
func (d *MemDirectory) Create(name string) (WriteFile, error) {
	if err := checkName("create", name); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.files[name]; ok {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	}
	f := &memFile{}
	d.files[name] = f
	return &memWriteFile{dir: d, f: f, name: name}, nil
}

// Open implements Directory.
func (d *MemDirectory) Open(name string) (ReadFile, error) {
	if err := checkName("open", name); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memReadFile{name: name, data: f.data[:len(f.data):len(f.data)]}, nil
}

// List implements Directory.
func (d *MemDirectory) List() ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(d.files))
	for name := range d.files {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// Remove implements Directory.
func (d *MemDirectory) Remove(name string) error {
	if err := checkName("remove", name); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(d.files, name)
	return nil
}

// FileSize implements Directory.
func (d *MemDirectory) FileSize(name string) (int64, error) {
	if err := checkName("stat", name); err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.files[name]
	if !ok {
		return 0, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return int64(len(f.data)), nil
}

// WriteAtomic implements Directory.
func (d *MemDirectory) WriteAtomic(name string, data []byte) error {
	if err := checkName("write atomic", name); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.files[name] = &memFile{data: slices.Clone(data)}
	return nil
}

// SyncDir implements Directory; it has nothing to do.
func (d *MemDirectory) SyncDir() error { return nil }

// Lock implements Directory; the lock excludes other holders of this
// MemDirectory.
func (d *MemDirectory) Lock() (io.Closer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.locked {
		return nil, &fs.PathError{Op: "lock", Path: lockFileName, Err: ErrLocked}
	}
	d.locked = true
	return &memLock{release: func() {
		d.mu.Lock()
		d.locked = false
		d.mu.Unlock()
	}}, nil
}

// memLock releases an in-memory lock once.
type memLock struct {
	once    sync.Once
	release func()
}

// Close releases the lock; closing twice is harmless.
func (l *memLock) Close() error {
	l.once.Do(l.release)
	return nil
}

type memWriteFile struct {
	dir    *MemDirectory
	f      *memFile
	name   string
	closed bool
}

func (w *memWriteFile) Write(p []byte) (int, error) {
	w.dir.mu.Lock()
	defer w.dir.mu.Unlock()
	if w.closed {
		return 0, &fs.PathError{Op: "write", Path: w.name, Err: fs.ErrClosed}
	}
	w.f.data = append(w.f.data, p...)
	return len(p), nil
}

func (w *memWriteFile) Sync() error {
	w.dir.mu.Lock()
	defer w.dir.mu.Unlock()
	if w.closed {
		return &fs.PathError{Op: "sync", Path: w.name, Err: fs.ErrClosed}
	}
	return nil
}

func (w *memWriteFile) Close() error {
	w.dir.mu.Lock()
	defer w.dir.mu.Unlock()
	if w.closed {
		return &fs.PathError{Op: "close", Path: w.name, Err: fs.ErrClosed}
	}
	w.closed = true
	return nil
}

func (w *memWriteFile) Name() string { return w.name }

// memReadFile reads an immutable snapshot of a file's bytes.
type memReadFile struct {
	name   string
	data   []byte
	closed atomic.Bool
}

func (r *memReadFile) ReadAt(p []byte, off int64) (int, error) {
	if r.closed.Load() {
		return 0, &fs.PathError{Op: "read", Path: r.name, Err: fs.ErrClosed}
	}
	return readAtBytes(r.name, r.data, p, off)
}

func (r *memReadFile) Size() int64 { return int64(len(r.data)) }

func (r *memReadFile) Close() error {
	if r.closed.Swap(true) {
		return &fs.PathError{Op: "close", Path: r.name, Err: fs.ErrClosed}
	}
	return nil
}

func (r *memReadFile) Name() string { return r.name }
