package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// ErrInjected is the error a FaultyDirectory injects (wrapped in an
// *fs.PathError naming the operation and file).
var ErrInjected = errors.New("storage: injected fault")

// Op names an operation on a FaultyDirectory, for hooks and fault counting.
type Op uint8

// Operations of a FaultyDirectory. Create, Write, Sync, Rename, Remove and
// SyncDir are mutating: they count in Ops and FailAfter.
const (
	OpCreate  Op = iota + 1 // Directory.Create, or WriteAtomic's temporary file
	OpWrite                 // WriteFile.Write
	OpSync                  // WriteFile.Sync
	OpRename                // WriteAtomic's rename; the name is the target
	OpRemove                // Directory.Remove
	OpSyncDir               // Directory.SyncDir; the name is ""
	OpOpen                  // Directory.Open
	OpRead                  // ReadFile.ReadAt
	OpClose                 // WriteFile.Close (the file is closed even if it fails)
	OpList                  // Directory.List; the name is ""
	OpStat                  // Directory.FileSize
	OpLock                  // Directory.Lock; the name is ""
)

var opNames = [...]string{"?", "create", "write", "sync", "rename", "remove", "syncdir", "open", "read", "close", "list", "stat", "lock"}

// String returns the operation's name, as used in error messages.
func (op Op) String() string {
	if int(op) < len(opNames) {
		return opNames[op]
	}
	return "op" + strconv.Itoa(int(op))
}

// Mutating reports whether op changes the directory.
func (op Op) Mutating() bool { return op >= OpCreate && op <= OpSyncDir }

// FaultyDirectory is an in-memory Directory for crash tests, after Lucene's
// MockDirectoryWrapper and pebble's strict in-memory file system and
// errorfs. It tracks what is durable: a file's bytes up to its last
// WriteFile.Sync, and the set of names as of the last SyncDir. Crash returns
// the directory a reboot after a power loss would find.
//
// Faults, all off by default: a disk limit (SetDiskLimit), seeded random
// errors (InjectErrors), failing every operation from the n-th on
// (FailAfter), and a hook that can fail or observe any operation (OnOp).
// Injected errors wrap ErrInjected; the disk limit gives ErrDiskFull.
// WriteAtomic is made of the primitive operations (create, write, sync,
// close, rename, syncdir), each of which can fail or be crashed at.
type FaultyDirectory struct {
	mu      sync.Mutex
	rng     *rand.Rand
	files   map[string]*inode // the names now
	durable map[string]*inode // the names as of the last SyncDir
	locked  bool
	crashed bool
	tempSeq int

	ops       int     // mutating operations attempted
	failAt    int     // ops index from which all mutating ops fail; -1: never
	errProb   float64 // probability of a random error per write, sync, read...
	diskLimit int64   // bytes; 0: unlimited
	hook      func(Op, string) error
}

var _ Directory = (*FaultyDirectory)(nil)

// inode is one file's content; bytes [0, synced) are durable. Bytes below
// len(data) are never changed, so readers keep sub-slices.
type inode struct {
	data     []byte
	synced   int
	syncFail bool // a Sync failed: the content on disk is unknown for good
}

var errCrashed = fmt.Errorf("%w: directory has crashed (use the one Crash returned)", ErrInjected)

// NewFaulty returns an empty FaultyDirectory whose random choices (errors,
// crash damage) derive from seed.
func NewFaulty(seed int64) *FaultyDirectory {
	return &FaultyDirectory{
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x68726d73)),
		files:   make(map[string]*inode),
		durable: make(map[string]*inode),
		failAt:  -1,
	}
}

// SetDiskLimit makes writes fail with an error wrapping ErrDiskFull and
// syscall.ENOSPC once the files' total size would pass limit bytes; the
// bytes that fit are written, as a real short write does. A limit <= 0
// removes it.
func (d *FaultyDirectory) SetDiskLimit(limit int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.diskLimit = max(limit, 0)
}

// InjectErrors makes each mutating operation and each read fail with
// probability prob (seeded), with an error wrapping ErrInjected. 0 stops it.
func (d *FaultyDirectory) InjectErrors(prob float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errProb = prob
}

// FailAfter lets n more mutating operations succeed, then fails that one
// and every later one with an error wrapping ErrInjected; n < 0 stops it.
// Running a workload with n = 0, 1, 2, ... until it succeeds tests every
// point of failure (pebble's error-injection loop); Ops tells how many
// there are.
func (d *FaultyDirectory) FailAfter(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n < 0 {
		d.failAt = -1
	} else {
		d.failAt = d.ops + n
	}
}

// OnOp installs a hook called before every operation (after the other
// faults let it through) with the operation and the file's name. A non-nil
// result fails the operation with that error. The hook runs without the
// directory's lock, so it may call Crash to cut power just before an
// operation; it may be called concurrently. nil removes it.
func (d *FaultyDirectory) OnOp(hook func(op Op, name string) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hook = hook
}

// Ops returns the number of mutating operations attempted so far.
func (d *FaultyDirectory) Ops() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ops
}

// Unsynced returns, sorted, the names whose state would not surely survive
// a crash: files with bytes written since their last Sync, and names
// created, replaced or removed since the last SyncDir. After a commit, a
// committed file must not be among them.
func (d *FaultyDirectory) Unsynced() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var names []string
	for name, ino := range d.files {
		if d.durable[name] != ino || ino.synced < len(ino.data) {
			names = append(names, name)
		}
	}
	for name := range d.durable {
		if _, ok := d.files[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Crash simulates a power loss and reboot. It returns a new directory
// holding what would survive: each file's synced bytes exactly; of the
// unsynced bytes after them, a damaged remainder (dropped, cut at a random
// point, zeroed from a random point, or with a flipped bit); and for each
// name created, replaced or removed since the last SyncDir, at random the
// new state or the old one (so an unsynced new file may vanish, a removed
// one return). The new directory is unlocked, fully durable and without
// faults. d itself fails every later operation with ErrInjected, as the
// crashed process is gone.
func (d *FaultyDirectory) Crash() *FaultyDirectory {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.crashed = true
	after := NewFaulty(d.rng.Int64())
	names := slices.Collect(maps.Keys(d.files))
	for name := range d.durable {
		if _, ok := d.files[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names) // a fixed order: same seed, same damage
	for _, name := range names {
		ino := d.files[name]
		if old := d.durable[name]; old != ino && d.rng.IntN(2) == 0 {
			ino = old // the name change did not reach the disk
		}
		if ino == nil {
			continue
		}
		survivor := &inode{data: d.damage(ino)}
		survivor.synced = len(survivor.data)
		after.files[name] = survivor
	}
	after.durable = maps.Clone(after.files)
	return after
}

// damage returns what survives of ino's content: its synced prefix intact,
// and its unsynced tail always damaged somehow.
func (d *FaultyDirectory) damage(ino *inode) []byte {
	data := slices.Clone(ino.data)
	tail := len(data) - ino.synced
	if tail == 0 {
		return data
	}
	cut := ino.synced + d.rng.IntN(tail) // a point inside the unsynced tail
	switch d.rng.IntN(4) {
	case 0: // only the synced bytes made it
		return data[:ino.synced]
	case 1: // part of the tail made it
		return data[:cut]
	case 2: // the tail's blocks were allocated but not written
		clear(data[cut:])
		return data
	default: // the tail made it with a flipped bit
		data[cut] ^= 1 << d.rng.IntN(8)
		return data
	}
}

// inject decides whether op on name fails: the directory crashed, FailAfter,
// random errors, then the hook (called without the lock).
func (d *FaultyDirectory) inject(op Op, name string) error {
	d.mu.Lock()
	var err error
	switch {
	case d.crashed:
		err = errCrashed
	case op.Mutating() && d.failAt >= 0 && d.ops >= d.failAt:
		err = fmt.Errorf("%w (FailAfter) at operation %d", ErrInjected, d.ops)
	case d.errProb > 0 && (op.Mutating() || op == OpRead) && d.rng.Float64() < d.errProb:
		err = fmt.Errorf("%w (InjectErrors)", ErrInjected)
	}
	if op.Mutating() {
		d.ops++
	}
	hook := d.hook
	d.mu.Unlock()
	if err == nil && hook != nil {
		err = hook(op, name)
	}
	if err != nil {
		if name == "" {
			name = "." // the directory itself
		}
		return &fs.PathError{Op: op.String(), Path: name, Err: err}
	}
	return nil
}

// begin runs inject and, if op may proceed, returns with d.mu held.
func (d *FaultyDirectory) begin(op Op, name string) error {
	if err := d.inject(op, name); err != nil {
		return err
	}
	d.mu.Lock()
	if d.crashed { // crashed by the hook or another goroutine meanwhile
		d.mu.Unlock()
		return &fs.PathError{Op: op.String(), Path: name, Err: errCrashed}
	}
	return nil
}

// Create implements Directory.
func (d *FaultyDirectory) Create(name string) (WriteFile, error) {
	if err := checkName("create", name); err != nil {
		return nil, err
	}
	return d.create(name)
}

func (d *FaultyDirectory) create(name string) (*faultyWriteFile, error) {
	if err := d.begin(OpCreate, name); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	if _, ok := d.files[name]; ok {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	}
	ino := &inode{}
	d.files[name] = ino
	return &faultyWriteFile{d: d, ino: ino, name: name}, nil
}

// Open implements Directory.
func (d *FaultyDirectory) Open(name string) (ReadFile, error) {
	if err := checkName("open", name); err != nil {
		return nil, err
	}
	if err := d.begin(OpOpen, name); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	ino, ok := d.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &faultyReadFile{d: d, name: name, data: ino.data[:len(ino.data):len(ino.data)]}, nil
}

// List implements Directory.
func (d *FaultyDirectory) List() ([]string, error) {
	if err := d.begin(OpList, ""); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	var names []string
	for name := range d.files {
		if !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// Remove implements Directory.
func (d *FaultyDirectory) Remove(name string) error {
	if err := checkName("remove", name); err != nil {
		return err
	}
	return d.remove(name)
}

func (d *FaultyDirectory) remove(name string) error {
	if err := d.begin(OpRemove, name); err != nil {
		return err
	}
	defer d.mu.Unlock()
	if _, ok := d.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(d.files, name)
	return nil
}

// FileSize implements Directory.
func (d *FaultyDirectory) FileSize(name string) (int64, error) {
	if err := checkName("stat", name); err != nil {
		return 0, err
	}
	if err := d.begin(OpStat, name); err != nil {
		return 0, err
	}
	defer d.mu.Unlock()
	ino, ok := d.files[name]
	if !ok {
		return 0, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return int64(len(ino.data)), nil
}

// WriteAtomic implements Directory from primitive operations, as the file
// system does: create a temporary file, write, sync, close, rename over
// name, sync the directory.
func (d *FaultyDirectory) WriteAtomic(name string, data []byte) error {
	if err := checkName("write atomic", name); err != nil {
		return err
	}
	d.mu.Lock()
	d.tempSeq++
	tmp := tempPrefix + name + "." + strconv.Itoa(d.tempSeq)
	d.mu.Unlock()
	w, err := d.create(tmp)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.rename(tmp, name)
	}
	if err != nil {
		d.remove(tmp) // best effort; Lock removes leftovers
		return err
	}
	return d.SyncDir()
}

func (d *FaultyDirectory) rename(from, to string) error {
	if err := d.begin(OpRename, to); err != nil {
		return err
	}
	defer d.mu.Unlock()
	ino, ok := d.files[from]
	if !ok {
		return &fs.PathError{Op: "rename", Path: from, Err: fs.ErrNotExist}
	}
	delete(d.files, from)
	d.files[to] = ino
	return nil
}

// SyncDir implements Directory: the current names become durable.
func (d *FaultyDirectory) SyncDir() error {
	if err := d.begin(OpSyncDir, ""); err != nil {
		return err
	}
	defer d.mu.Unlock()
	d.durable = maps.Clone(d.files)
	return nil
}

// Lock implements Directory; the lock excludes other holders of this
// directory and is gone after Crash.
func (d *FaultyDirectory) Lock() (io.Closer, error) {
	if err := d.begin(OpLock, ""); err != nil {
		return nil, err
	}
	defer d.mu.Unlock()
	if d.locked {
		return nil, &fs.PathError{Op: "lock", Path: lockFileName, Err: ErrLocked}
	}
	d.locked = true
	for name := range d.files {
		if strings.HasPrefix(name, tempPrefix) {
			delete(d.files, name)
		}
	}
	return &memLock{release: func() {
		d.mu.Lock()
		d.locked = false
		d.mu.Unlock()
	}}, nil
}

// usage returns the bytes held by the current files; d.mu is held.
func (d *FaultyDirectory) usage() int64 {
	var n int64
	for _, ino := range d.files {
		n += int64(len(ino.data))
	}
	return n
}

type faultyWriteFile struct {
	d      *FaultyDirectory
	ino    *inode
	name   string
	closed bool // guarded by d.mu
}

func (w *faultyWriteFile) Write(p []byte) (int, error) {
	if err := w.d.begin(OpWrite, w.name); err != nil {
		return 0, err
	}
	defer w.d.mu.Unlock()
	if w.closed {
		return 0, &fs.PathError{Op: "write", Path: w.name, Err: fs.ErrClosed}
	}
	n := len(p)
	if lim := w.d.diskLimit; lim > 0 {
		n = int(max(0, min(int64(n), lim-w.d.usage())))
	}
	w.ino.data = append(w.ino.data, p[:n]...)
	if n < len(p) {
		return n, &fs.PathError{Op: "write", Path: w.name, Err: diskFullError{cause: syscall.ENOSPC}}
	}
	return n, nil
}

func (w *faultyWriteFile) Sync() error {
	if err := w.d.begin(OpSync, w.name); err != nil {
		w.d.mu.Lock()
		w.ino.syncFail = true
		w.d.mu.Unlock()
		return err
	}
	defer w.d.mu.Unlock()
	switch {
	case w.closed:
		return &fs.PathError{Op: "sync", Path: w.name, Err: fs.ErrClosed}
	case w.ino.syncFail:
		return &fs.PathError{Op: "sync", Path: w.name, Err: errors.New("an earlier sync failed; the file must be discarded")}
	}
	w.ino.synced = len(w.ino.data)
	return nil
}

func (w *faultyWriteFile) Close() error {
	err := w.d.inject(OpClose, w.name)
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	if w.closed {
		return &fs.PathError{Op: "close", Path: w.name, Err: fs.ErrClosed}
	}
	w.closed = true
	return err
}

func (w *faultyWriteFile) Name() string { return w.name }

type faultyReadFile struct {
	d      *FaultyDirectory
	name   string
	data   []byte
	closed atomic.Bool
}

func (r *faultyReadFile) ReadAt(p []byte, off int64) (int, error) {
	if r.closed.Load() {
		return 0, &fs.PathError{Op: "read", Path: r.name, Err: fs.ErrClosed}
	}
	if err := r.d.inject(OpRead, r.name); err != nil {
		return 0, err
	}
	return readAtBytes(r.name, r.data, p, off)
}

func (r *faultyReadFile) Size() int64 { return int64(len(r.data)) }

func (r *faultyReadFile) Close() error {
	if r.closed.Swap(true) {
		return &fs.PathError{Op: "close", Path: r.name, Err: fs.ErrClosed}
	}
	return nil
}

func (r *faultyReadFile) Name() string { return r.name }
