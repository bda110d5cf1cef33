package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// implementations are the Directories every conformance test runs against.
var implementations = []struct {
	name string
	open func(t *testing.T) Directory
}{
	{"FS", func(t *testing.T) Directory {
		d, err := NewFS(filepath.Join(t.TempDir(), "index"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"Mem", func(t *testing.T) Directory { return NewMem() }},
	{"Faulty", func(t *testing.T) Directory { return NewFaulty(1) }},
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// writeFile creates name with data, written in uneven chunks, synced.
func writeFile(t *testing.T, d Directory, name string, data []byte) {
	t.Helper()
	w, err := d.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1+len(rest)/3)
		if k, err := w.Write(rest[:n]); err != nil || k != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, k, err)
		}
		rest = rest[n:]
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func mustList(t *testing.T, d Directory) []string {
	t.Helper()
	names, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// wantErr checks that err matches target and names the file.
func wantErr(t *testing.T, what string, err, target error, name string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one matching %v", what, err, target)
		return
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("%s: error %q does not name %q", what, err, name)
	}
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		fn   func(t *testing.T, d Directory)
	}{
		{"WriteRead", testWriteRead},
		{"Errors", testErrors},
		{"InvalidNames", testInvalidNames},
		{"ListRemove", testListRemove},
		{"WriteAtomic", testWriteAtomic},
		{"Lock", testLock},
		{"Closed", testClosed},
		{"Concurrent", testConcurrent},
		{"Contents", testContents},
	}
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, impl.open(t)) })
			}
		})
	}
}

func testWriteRead(t *testing.T, d Directory) {
	data := randomBytes(1, 10_000)
	writeFile(t, d, "seg_1.dat", data)
	if size, err := d.FileSize("seg_1.dat"); err != nil || size != int64(len(data)) {
		t.Fatalf("FileSize = %d, %v; want %d", size, err, len(data))
	}
	r, err := d.Open("seg_1.dat")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Name() != "seg_1.dat" || r.Size() != int64(len(data)) {
		t.Fatalf("Name, Size = %q, %d; want seg_1.dat, %d", r.Name(), r.Size(), len(data))
	}
	for _, c := range []struct{ off, n int }{{0, 10}, {5000, 100}, {9990, 10}, {0, 10_000}, {1234, 0}} {
		p := make([]byte, c.n)
		if n, err := r.ReadAt(p, int64(c.off)); n != c.n || err != nil && err != io.EOF {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", c.n, c.off, n, err)
		}
		if !bytes.Equal(p, data[c.off:c.off+c.n]) {
			t.Fatalf("ReadAt(%d bytes at %d) returned wrong bytes", c.n, c.off)
		}
	}
	// Past the end: a short read with io.EOF, as io.ReaderAt requires.
	p := make([]byte, 20)
	if n, err := r.ReadAt(p, 9990); n != 10 || err != io.EOF || !bytes.Equal(p[:10], data[9990:]) {
		t.Fatalf("ReadAt across the end = %d, %v; want 10, EOF", n, err)
	}
	if n, err := r.ReadAt(p, 20_000); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt beyond the end = %d, %v; want 0, EOF", n, err)
	}
	if _, err := r.ReadAt(p, -1); err == nil {
		t.Fatal("ReadAt at a negative offset succeeded")
	}
	got, err := ReadAll(d, "seg_1.dat")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll = %d bytes, %v; want the %d written", len(got), err, len(data))
	}
	// An empty file is a file.
	writeFile(t, d, "empty", nil)
	if got, err := ReadAll(d, "empty"); err != nil || len(got) != 0 {
		t.Fatalf("ReadAll(empty) = %q, %v", got, err)
	}
	if err := d.SyncDir(); err != nil {
		t.Fatal(err)
	}
}

func testErrors(t *testing.T, d Directory) {
	writeFile(t, d, "taken", []byte("x"))
	_, err := d.Create("taken")
	wantErr(t, "Create of an existing file", err, fs.ErrExist, "taken")
	_, err = d.Open("missing.bin")
	wantErr(t, "Open of a missing file", err, fs.ErrNotExist, "missing.bin")
	_, err = d.FileSize("missing.bin")
	wantErr(t, "FileSize of a missing file", err, fs.ErrNotExist, "missing.bin")
	err = d.Remove("missing.bin")
	wantErr(t, "Remove of a missing file", err, fs.ErrNotExist, "missing.bin")
	_, err = ReadAll(d, "missing.bin")
	wantErr(t, "ReadAll of a missing file", err, fs.ErrNotExist, "missing.bin")
	// The failed Create left the existing file alone.
	if got, err := ReadAll(d, "taken"); err != nil || string(got) != "x" {
		t.Fatalf("existing file after failed Create = %q, %v", got, err)
	}
}

func testInvalidNames(t *testing.T, d Directory) {
	for _, name := range []string{"", ".", "..", ".hidden", ".lock", "a/b", "../x", `a\b`, "nul\x00"} {
		if _, err := d.Create(name); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Create(%q) = %v, want fs.ErrInvalid", name, err)
		}
		if _, err := d.Open(name); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want fs.ErrInvalid", name, err)
		}
		if err := d.Remove(name); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Remove(%q) = %v, want fs.ErrInvalid", name, err)
		}
		if err := d.WriteAtomic(name, nil); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("WriteAtomic(%q) = %v, want fs.ErrInvalid", name, err)
		}
		if _, err := d.FileSize(name); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("FileSize(%q) = %v, want fs.ErrInvalid", name, err)
		}
	}
	if names := mustList(t, d); len(names) != 0 {
		t.Fatalf("List after rejected names = %q, want none", names)
	}
}

func testListRemove(t *testing.T, d Directory) {
	if names := mustList(t, d); len(names) != 0 {
		t.Fatalf("List of a new directory = %q", names)
	}
	for _, name := range []string{"c", "a", "b.2", "b.10"} {
		writeFile(t, d, name, []byte(name))
	}
	if err := d.WriteAtomic("m", []byte("meta")); err != nil {
		t.Fatal(err)
	}
	l, err := d.Lock() // the lock file, if any, is not listed
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, want := mustList(t, d), []string{"a", "b.10", "b.2", "c", "m"}; !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	// A reader keeps reading a removed file.
	r, err := d.Open("b.2")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := d.Remove("b.2"); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 3)
	if n, err := r.ReadAt(p, 0); n != 3 || string(p) != "b.2" {
		t.Fatalf("read of removed file = %q, %v", p[:n], err)
	}
	if got, want := mustList(t, d), []string{"a", "b.10", "c", "m"}; !slices.Equal(got, want) {
		t.Fatalf("List after Remove = %q, want %q", got, want)
	}
	// The name is free again.
	writeFile(t, d, "b.2", []byte("new"))
	if got, _ := ReadAll(d, "b.2"); string(got) != "new" {
		t.Fatalf("recreated file holds %q", got)
	}
	if err := d.SyncDir(); err != nil {
		t.Fatal(err)
	}
}

func testWriteAtomic(t *testing.T, d Directory) {
	if err := d.WriteAtomic("metadata.json", []byte("version one, long")); err != nil {
		t.Fatal(err)
	}
	r, err := d.Open("metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := d.WriteAtomic("metadata.json", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadAll(d, "metadata.json"); err != nil || string(got) != "v2" {
		t.Fatalf("after replace: %q, %v; want v2", got, err)
	}
	// A reader opened before the replace still sees the old version whole.
	p := make([]byte, r.Size())
	if _, err := r.ReadAt(p, 0); err != nil && err != io.EOF || string(p) != "version one, long" {
		t.Fatalf("old reader sees %q, %v", p, err)
	}
	if got := mustList(t, d); !slices.Equal(got, []string{"metadata.json"}) {
		t.Fatalf("List = %q, want only metadata.json (no temporary files)", got)
	}
	// WriteAtomic replaces; Create still refuses the name.
	_, err = d.Create("metadata.json")
	wantErr(t, "Create over an atomic file", err, fs.ErrExist, "metadata.json")
	// Big content goes through whole.
	big := randomBytes(2, 300_000)
	if err := d.WriteAtomic("metadata.json", big); err != nil {
		t.Fatal(err)
	}
	if got, _ := ReadAll(d, "metadata.json"); !bytes.Equal(got, big) {
		t.Fatalf("after big replace: %d bytes, want %d", len(got), len(big))
	}
}

func testLock(t *testing.T, d Directory) {
	l1, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Lock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock = %v, want ErrLocked", err)
	}
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l1.Close(); err != nil {
		t.Fatalf("second Close of a lock = %v, want nil", err)
	}
	l2, err := d.Lock()
	if err != nil {
		t.Fatalf("Lock after release = %v", err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
}

func testClosed(t *testing.T, d Directory) {
	w, err := d.Create("f")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = w.Write([]byte("late"))
	wantErr(t, "Write after Close", err, fs.ErrClosed, "f")
	r, err := d.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = r.ReadAt(make([]byte, 1), 0)
	wantErr(t, "ReadAt after Close", err, fs.ErrClosed, "f")
}

// testConcurrent writes and reads many files at once; run under -race.
func testConcurrent(t *testing.T, d Directory) {
	shared := randomBytes(3, 4096)
	writeFile(t, d, "shared", shared)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("file_%d", g)
			data := randomBytes(uint64(10+g), 2000+g)
			w, err := d.Create(name)
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < len(data); i += 100 {
				if _, err := w.Write(data[i:min(i+100, len(data))]); err != nil {
					errs <- err
					return
				}
			}
			if err := w.Close(); err != nil {
				errs <- err
				return
			}
			got, err := ReadAll(d, name)
			if err != nil || !bytes.Equal(got, data) {
				errs <- fmt.Errorf("%s: read back %d bytes, %v", name, len(got), err)
			}
			if got, err := ReadAll(d, "shared"); err != nil || !bytes.Equal(got, shared) {
				errs <- fmt.Errorf("shared: read back %d bytes, %v", len(got), err)
			}
			if err := d.WriteAtomic("atomic", data); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := mustList(t, d); len(got) != 10 {
		t.Fatalf("List = %q, want 8 files plus shared and atomic", got)
	}
}

// testContents checks that Contents gives a file's exact bytes (in place
// for a Mapper, through ReadAt otherwise), the same again on a second
// call, and an empty slice for an empty file.
func testContents(t *testing.T, d Directory) {
	data := randomBytes(7, 70_000)
	writeFile(t, d, "big.dat", data)
	writeFile(t, d, "empty.dat", nil)
	r, err := d.Open("big.dat")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := Contents(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Contents = %d bytes, %v; want the %d bytes written", len(got), err, len(data))
		}
		// Released pages read again with the same bytes.
		if err := ReleasePages(r, 0, r.Size()); err != nil {
			t.Fatalf("ReleasePages: %v", err)
		}
		if !bytes.Equal(got, data) {
			t.Fatal("Contents changed after ReleasePages")
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	e, err := d.Open("empty.dat")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got, err := Contents(e); err != nil || len(got) != 0 {
		t.Fatalf("Contents of an empty file = %d bytes, %v", len(got), err)
	}
}
