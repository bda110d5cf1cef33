package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// nonZero returns n bytes, none of them zero, so zeroing is visible.
func nonZero(seed uint64, n int) []byte {
	b := randomBytes(seed, n)
	for i := range b {
		b[i] |= 1
	}
	return b
}

func TestFaultySyncedDataSurvivesCrash(t *testing.T) {
	synced, unsynced := nonZero(1, 500), nonZero(2, 300)
	kinds := map[string]int{}
	for seed := range int64(200) {
		d := NewFaulty(seed)
		writeFile(t, d, "durable", synced) // synced, name synced below
		w, err := d.Create("partial")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(synced)
		w.Sync()
		if err := d.SyncDir(); err != nil {
			t.Fatal(err)
		}
		w.Write(unsynced) // never synced

		after := d.Crash()
		if got, err := ReadAll(after, "durable"); err != nil || !bytes.Equal(got, synced) {
			t.Fatalf("seed %d: synced file after crash: %d bytes, %v", seed, len(got), err)
		}
		got, err := ReadAll(after, "partial")
		if err != nil {
			t.Fatalf("seed %d: file with a synced name is gone: %v", seed, err)
		}
		if len(got) < len(synced) || !bytes.Equal(got[:len(synced)], synced) {
			t.Fatalf("seed %d: synced prefix damaged", seed)
		}
		full := append(bytes.Clone(synced), unsynced...)
		tail := got[len(synced):]
		switch {
		case bytes.Equal(got, full):
			t.Fatalf("seed %d: unsynced bytes survived undamaged", seed)
		case len(tail) == 0:
			kinds["dropped"]++
		case len(got) < len(full) && bytes.Equal(tail, unsynced[:len(tail)]):
			kinds["cut"]++
		case len(got) == len(full) && bytes.IndexByte(tail, 0) >= 0:
			kinds["zeroed"]++
			i := bytes.IndexByte(tail, 0)
			if !bytes.Equal(tail[:i], unsynced[:i]) || bytes.ContainsFunc(tail[i:], func(r rune) bool { return r != 0 }) {
				t.Fatalf("seed %d: zeroed tail is not a prefix then zeros", seed)
			}
		case len(got) == len(full):
			kinds["flipped"]++
			diff := 0
			for i := range tail {
				diff += bitCount(tail[i] ^ unsynced[i])
			}
			if diff != 1 {
				t.Fatalf("seed %d: %d bits differ, want 1", seed, diff)
			}
		default:
			t.Fatalf("seed %d: unexpected damage: %d bytes", seed, len(got))
		}
	}
	for _, k := range []string{"dropped", "cut", "zeroed", "flipped"} {
		if kinds[k] == 0 {
			t.Errorf("damage %q never happened in 200 crashes: %v", k, kinds)
		}
	}
}

func bitCount(b byte) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// Name changes not made durable by SyncDir may or may not survive; those
// that were, always do.
func TestFaultyNameChangesNeedSyncDir(t *testing.T) {
	outcomes := map[string]int{}
	for seed := range int64(100) {
		d := NewFaulty(seed)
		writeFile(t, d, "old", []byte("old"))
		writeFile(t, d, "kept", []byte("kept"))
		if err := d.SyncDir(); err != nil {
			t.Fatal(err)
		}
		writeFile(t, d, "new", []byte("new")) // synced content, unsynced name
		if err := d.Remove("old"); err != nil {
			t.Fatal(err)
		}
		if got := d.Unsynced(); !slices.Equal(got, []string{"new", "old"}) {
			t.Fatalf("Unsynced = %q, want [new old]", got)
		}
		after := d.Crash()
		names := mustList(t, after)
		if !slices.Contains(names, "kept") {
			t.Fatalf("seed %d: durable file lost: %q", seed, names)
		}
		outcomes[fmt.Sprint(names)]++
		for _, name := range names {
			if got, _ := ReadAll(after, name); string(got) != name {
				t.Fatalf("seed %d: %s holds %q", seed, name, got)
			}
		}
		if got := after.Unsynced(); len(got) != 0 {
			t.Fatalf("seed %d: a crashed directory has unsynced names %q", seed, got)
		}
	}
	// Each name independently: created or not, removed or not.
	for _, want := range []string{"[kept new]", "[kept old]", "[kept new old]", "[kept]"} {
		if outcomes[want] == 0 {
			t.Errorf("outcome %s never seen: %v", want, outcomes)
		}
	}
}

// A crash at any point of WriteMetadata (after each of its operations, or
// with any one of them failing) leaves metadata.json whole: the previous
// commit or the new one, and the new one whenever WriteMetadata succeeded.
func TestFaultyWriteAtomicNeverTorn(t *testing.T) {
	v1, v2 := sampleMetadata(), sampleMetadata()
	v2.Generation = 43
	v2.Segments = append(v2.Segments, SegmentInfo{ID: "seg_c", NumDocs: 7, Files: []string{"seg_c.terms"}})

	// Count the operations of one undisturbed commit.
	probe := NewFaulty(0)
	withFiles(t, probe, v2)
	if err := WriteMetadata(probe, v1); err != nil {
		t.Fatal(err)
	}
	before := probe.Ops()
	if err := WriteMetadata(probe, v2); err != nil {
		t.Fatal(err)
	}
	steps := probe.Ops() - before
	// The kept generation: create, write, sync; syncdir; then WriteAtomic:
	// create, write, sync, rename, syncdir.
	if steps != 9 {
		t.Fatalf("WriteMetadata took %d mutating operations, want 9", steps)
	}

	seen := map[uint64]int{}
	for seed := range int64(40) {
		for failAt := 0; failAt <= steps; failAt++ {
			for _, mode := range []string{"fail", "crash"} {
				d := NewFaulty(seed)
				withFiles(t, d, v2)
				if err := WriteMetadata(d, v1); err != nil {
					t.Fatal(err)
				}
				var after *FaultyDirectory
				if mode == "fail" {
					d.FailAfter(failAt)
				} else {
					n := 0
					d.OnOp(func(op Op, name string) error {
						if op.Mutating() {
							if n == failAt {
								after = d.Crash() // power lost before this operation
							}
							n++
						}
						return nil
					})
				}
				err := WriteMetadata(d, v2)
				if (err == nil) != (failAt == steps) {
					t.Fatalf("seed %d, %s at %d: WriteMetadata = %v", seed, mode, failAt, err)
				}
				if err != nil && !errors.Is(err, ErrInjected) {
					t.Fatalf("seed %d, %s at %d: error %v does not wrap ErrInjected", seed, mode, failAt, err)
				}
				if after == nil {
					after = d.Crash()
				}
				m, rerr := ReadMetadata(after)
				if rerr != nil {
					t.Fatalf("seed %d, %s at %d: metadata after crash: %v", seed, mode, failAt, rerr)
				}
				if m.Generation != 42 && m.Generation != 43 {
					t.Fatalf("seed %d, %s at %d: generation %d", seed, mode, failAt, m.Generation)
				}
				if err == nil && m.Generation != 43 {
					t.Fatalf("seed %d: acknowledged commit lost", seed)
				}
				if failAt == steps-1 { // only the directory sync failed or was cut
					seen[m.Generation]++
				}
				for _, s := range m.Segments {
					if got, err := ReadAll(after, s.Files[0]); err != nil || string(got) != s.Files[0] {
						t.Fatalf("seed %d, %s at %d: file %s of a committed segment: %q, %v", seed, mode, failAt, s.Files[0], got, err)
					}
				}
			}
		}
	}
	if seen[42] == 0 || seen[43] == 0 {
		t.Errorf("a rename without directory sync should sometimes revert, sometimes not: %v", seen)
	}
}

func TestFaultyDiskFull(t *testing.T) {
	d := NewFaulty(1)
	d.SetDiskLimit(100)
	w, err := d.Create("seg")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write(make([]byte, 60)); n != 60 || err != nil {
		t.Fatalf("first write = %d, %v", n, err)
	}
	n, err := w.Write(make([]byte, 60))
	if n != 40 || !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write past the limit = %d, %v; want 40, disk full (ENOSPC)", n, err)
	}
	wantErr(t, "write past the limit", err, ErrDiskFull, "seg")
	if size, _ := d.FileSize("seg"); size != 100 {
		t.Fatalf("file size %d, want 100", size)
	}
	// A commit fails cleanly and leaves no file behind.
	err = WriteMetadata(d, &Metadata{Generation: 1})
	wantErr(t, "WriteMetadata on a full disk", err, ErrDiskFull, GenerationFile(1))
	if names := mustList(t, d); !slices.Equal(names, []string{"seg"}) {
		t.Fatalf("files after failed commit %q", names)
	}
	// Removing a file frees its space.
	w.Close()
	if err := d.Remove("seg"); err != nil {
		t.Fatal(err)
	}
	d.SetDiskLimit(4096)
	if err := WriteMetadata(d, &Metadata{Generation: 1}); err != nil {
		t.Fatalf("WriteMetadata after freeing space: %v", err)
	}
	d.SetDiskLimit(0)
	writeFile(t, d, "big", make([]byte, 10_000))
}

func TestFaultyFailAfter(t *testing.T) {
	d := NewFaulty(1)
	writeFile(t, d, "a", []byte("a")) // create, 3 writes... counted below
	start := d.Ops()
	d.FailAfter(2)
	w, err := d.Create("b") // 1st: succeeds
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("b")); err != nil { // 2nd: succeeds
		t.Fatal(err)
	}
	err = w.Sync() // 3rd: fails
	wantErr(t, "third operation", err, ErrInjected, "b")
	wantErr(t, "fourth operation", d.Remove("a"), ErrInjected, "a")
	wantErr(t, "fifth operation", d.SyncDir(), ErrInjected, "syncdir")
	if got := d.Ops() - start; got != 5 {
		t.Fatalf("Ops counted %d operations, want 5", got)
	}
	// Reads are not mutating and still work.
	if got, err := ReadAll(d, "a"); err != nil || string(got) != "a" {
		t.Fatalf("read while failing writes: %q, %v", got, err)
	}
	if _, err := d.List(); err != nil {
		t.Fatal(err)
	}
	d.FailAfter(-1)
	if err := d.Remove("a"); err != nil {
		t.Fatalf("after reset: %v", err)
	}
	// A file whose sync failed never syncs again: its content is unknown.
	if err := w.Sync(); err == nil {
		t.Fatal("Sync after a failed Sync succeeded")
	}
}

func TestFaultyInjectErrors(t *testing.T) {
	run := func(seed int64) []bool {
		d := NewFaulty(seed)
		d.InjectErrors(0.3)
		var failed []bool
		for i := range 200 {
			err := d.WriteAtomic(fmt.Sprintf("f%d", i), []byte("x"))
			if err != nil && !errors.Is(err, ErrInjected) {
				t.Fatalf("error %v does not wrap ErrInjected", err)
			}
			failed = append(failed, err != nil)
		}
		d.InjectErrors(0)
		if err := d.WriteAtomic("last", []byte("x")); err != nil {
			t.Fatalf("after InjectErrors(0): %v", err)
		}
		return failed
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave different failures")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same failures")
	}
	fails := 0
	for _, f := range a {
		if f {
			fails++
		}
	}
	if fails == 0 || fails == len(a) {
		t.Fatalf("%d of %d WriteAtomic calls failed at probability 0.3", fails, len(a))
	}
}

func TestFaultyOnOp(t *testing.T) {
	d := NewFaulty(1)
	errBoom := errors.New("boom")
	var seen []string
	d.OnOp(func(op Op, name string) error {
		seen = append(seen, op.String()+" "+name)
		if op == OpSync && name == "x" {
			return errBoom
		}
		return nil
	})
	wx, _ := d.Create("x")
	wy, _ := d.Create("y")
	wantErr(t, "hooked sync", wx.Sync(), errBoom, "x")
	if err := wy.Sync(); err != nil {
		t.Fatalf("sync of another file: %v", err)
	}
	want := []string{"create x", "create y", "sync x", "sync y"}
	if !slices.Equal(seen, want) {
		t.Fatalf("hook saw %q, want %q", seen, want)
	}
	d.OnOp(nil)
	if err := wx.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFaultyCrashedDirectoryFails(t *testing.T) {
	d := NewFaulty(1)
	w, _ := d.Create("f")
	l, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	after := d.Crash()
	if _, err := w.Write([]byte("late")); !errors.Is(err, ErrInjected) || !strings.Contains(err.Error(), "crashed") {
		t.Fatalf("write to a crashed directory = %v", err)
	}
	if _, err := d.List(); !errors.Is(err, ErrInjected) {
		t.Fatalf("List of a crashed directory = %v", err)
	}
	// The rebooted directory is unlocked and usable.
	l2, err := after.Lock()
	if err != nil {
		t.Fatalf("Lock after crash: %v", err)
	}
	l2.Close()
	if _, err := after.Open("f"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

// The error-injection loop the writer's crash tests run, on a small commit:
// write a segment file, sync it, commit metadata naming it. Whatever
// operation fails, after a crash the index opens, and every segment the
// metadata names verifies; an acknowledged commit is always there.
func TestFaultyErrorInjectionLoop(t *testing.T) {
	commit := func(d Directory, gen uint64) error {
		name := fmt.Sprintf("seg_%d", gen)
		f, err := d.Create(name)
		if err != nil {
			return err
		}
		w := NewChecksumWriter(f)
		w.Write(nonZero(gen, 5000))
		if err := w.Finish(kindTest, 1); err != nil {
			return err
		}
		m, err := ReadMetadata(d)
		if errors.Is(err, fs.ErrNotExist) {
			m, err = &Metadata{}, nil
		}
		if err != nil {
			return err
		}
		m.Generation = gen
		m.Segments = append(m.Segments, SegmentInfo{ID: name, NumDocs: 1, Files: []string{name}})
		return WriteMetadata(d, m)
	}
	for seed := range int64(5) {
		for i := 0; ; i++ {
			d := NewFaulty(seed)
			if err := commit(d, 1); err != nil {
				t.Fatal(err)
			}
			d.FailAfter(i)
			err := commit(d, 2)
			after := d.Crash()
			m, rerr := ReadMetadata(after)
			if rerr != nil {
				t.Fatalf("seed %d, fail at %d: index does not reopen: %v", seed, i, rerr)
			}
			if m.Generation < 1 || err == nil && m.Generation != 2 {
				t.Fatalf("seed %d, fail at %d: generation %d after commit error %v", seed, i, m.Generation, err)
			}
			for _, s := range m.Segments {
				if _, _, verr := readVerified(t, after, s.Files[0], kindTest); verr != nil {
					t.Fatalf("seed %d, fail at %d: committed segment damaged: %v", seed, i, verr)
				}
			}
			if err == nil {
				break // no failure left to inject
			}
		}
	}
}
