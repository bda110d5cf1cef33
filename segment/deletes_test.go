package segment

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/hermes-search/hermes-go/storage"
)

func TestDeletesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sparse := roaring.New()
	for i := 0; i < 500; i++ {
		sparse.Add(rng.Uint32N(1 << 20))
	}
	runs := roaring.New()
	runs.AddRange(1000, 70000)
	runs.AddRange(200000, 200001)
	runs.RunOptimize()
	dense := roaring.New()
	for i := uint32(0); i < 100000; i++ {
		if rng.IntN(3) != 0 {
			dense.Add(i)
		}
	}
	for _, tc := range []struct {
		name   string
		bm     *roaring.Bitmap
		maxDoc uint32
	}{
		{"nil", nil, 10},
		{"empty", roaring.New(), 0},
		{"first doc", roaring.BitmapOf(0), 1},
		{"last possible doc", roaring.BitmapOf(maxDocs - 1), maxDocs},
		{"sparse", sparse, 1 << 20},
		{"runs", runs, 200001},
		{"dense", dense, 100000},
	} {
		dir := storage.NewFaulty(1)
		id := NewID()
		gen := rng.Uint64N(1000)
		name, err := WriteDeletes(dir, id, gen, tc.bm)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if name != DeletesFileName(id, gen) || name != fmt.Sprintf("%s_%d.del", id, gen) {
			t.Fatalf("%s: WriteDeletes named the file %q", tc.name, name)
		}
		if u := dir.Unsynced(); len(u) != 0 {
			t.Fatalf("%s: not durable after WriteDeletes: %v", tc.name, u)
		}
		got, err := ReadDeletes(dir, id, gen, tc.maxDoc)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := tc.bm
		if want == nil {
			want = roaring.New()
		}
		if !got.Equals(want) {
			t.Fatalf("%s: read %d deletes, wrote %d", tc.name, got.GetCardinality(), want.GetCardinality())
		}
		// A generation is written once.
		if _, err := WriteDeletes(dir, id, gen, roaring.BitmapOf(1)); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), name) {
			t.Fatalf("%s: rewriting generation %d: %v", tc.name, gen, err)
		}
		if again, err := ReadDeletes(dir, id, gen, tc.maxDoc); err != nil || !again.Equals(want) {
			t.Fatalf("%s: a refused rewrite changed the file: %v", tc.name, err)
		}
	}
}

func TestReadDeletesRejectsOutOfRangeDocs(t *testing.T) {
	dir := storage.NewMem()
	id := NewID()
	if _, err := WriteDeletes(dir, id, 3, roaring.BitmapOf(4, 99, 100)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDeletes(dir, id, 3, 101); err != nil {
		t.Fatalf("docs below maxDoc rejected: %v", err)
	}
	for _, maxDoc := range []uint32{100, 5, 0} {
		_, err := ReadDeletes(dir, id, 3, maxDoc)
		if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), DeletesFileName(id, 3)) || !strings.Contains(err.Error(), "doc 100") {
			t.Errorf("maxDoc %d: error %v, want ErrCorrupt naming the file and doc 100", maxDoc, err)
		}
	}
	if _, err := ReadDeletes(dir, id, 4, 1000); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing generation: %v", err)
	}
}

// copyFile writes data under name in dir.
func copyFile(t *testing.T, dir storage.Directory, name string, data []byte) {
	t.Helper()
	f, err := dir.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReadDeletesDetectsCorruption flips, truncates and misplaces a
// deletes file: every case is storage.ErrCorrupt naming the file.
func TestReadDeletesDetectsCorruption(t *testing.T) {
	src := storage.NewMem()
	id := NewID()
	bm := roaring.New()
	bm.AddRange(10, 3000)
	bm.Add(50000)
	if _, err := WriteDeletes(src, id, 7, bm); err != nil {
		t.Fatal(err)
	}
	good, err := storage.ReadAll(src, DeletesFileName(id, 7))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, data []byte, readID ID, gen uint64) {
		t.Helper()
		dir := storage.NewMem()
		name := DeletesFileName(readID, gen)
		copyFile(t, dir, name, data)
		got, err := ReadDeletes(dir, readID, gen, 60000)
		if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: ReadDeletes = %v, %v; want ErrCorrupt naming %s", what, got, err, name)
		}
	}
	size := len(good)
	for _, at := range []int{0, 5, 16, 23, 24, size / 2, size - storage.FooterSize - 1, size - storage.FooterSize, size - 10, size - 1} {
		b := bytes.Clone(good)
		b[at] ^= 0x10
		check(fmt.Sprintf("flip byte %d", at), b, id, 7)
	}
	for _, n := range []int{0, 1, 20, size / 2, size - storage.FooterSize, size - 1} {
		check(fmt.Sprintf("truncate to %d", n), good[:n], id, 7)
	}
	check("append a byte", append(bytes.Clone(good), 0), id, 7)
	// A valid file under another segment's or generation's name.
	check("another segment's file", good, NewID(), 7)
	check("another generation's file", good, id, 8)
}

// TestReadDeletesGarbageNeverPanics damages the payload under a valid
// footer, so the bitmap parser itself meets the garbage: ReadDeletes may
// succeed (within maxDoc) or fail with ErrCorrupt, never panic.
func TestReadDeletesGarbageNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	id := NewID()
	bm := roaring.New()
	bm.AddRange(0, 5000)
	for i := 0; i < 300; i++ {
		bm.Add(rng.Uint32N(200000))
	}
	bm.RunOptimize()
	var payload bytes.Buffer
	payload.Write(id[:])
	payload.Write([]byte{9, 0, 0, 0, 0, 0, 0, 0})
	if _, err := bm.WriteTo(&payload); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for round := 0; round < 300; round++ {
		p := bytes.Clone(payload.Bytes())
		switch rng.IntN(3) {
		case 0:
			for i := 0; i < 1+rng.IntN(4); i++ {
				at := deletesHeader + rng.IntN(len(p)-deletesHeader)
				p[at] ^= byte(1 + rng.IntN(255))
			}
		case 1:
			p = p[:deletesHeader+rng.IntN(len(p)-deletesHeader)]
		default:
			p = append(p, byte(rng.Uint32()))
		}
		dir := storage.NewMem()
		w, err := dir.Create(DeletesFileName(id, 9))
		if err != nil {
			t.Fatal(err)
		}
		cw := storage.NewChecksumWriter(w)
		if _, err := cw.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := cw.Finish(kindDeletes.kind, FormatVersion); err != nil {
			t.Fatal(err)
		}
		got, err := ReadDeletes(dir, id, 9, 200000)
		if err != nil {
			if !errors.Is(err, storage.ErrCorrupt) {
				t.Fatalf("round %d: error not wrapping ErrCorrupt: %v", round, err)
			}
			continue
		}
		ok++
		if !got.IsEmpty() && got.Maximum() >= 200000 {
			t.Fatalf("round %d: accepted doc %d past maxDoc", round, got.Maximum())
		}
	}
	t.Logf("%d of 300 damaged payloads still parsed", ok)
}

// TestWriteDeletesFailsCleanly fails each directory operation of
// WriteDeletes in turn: it must return the injected error naming the file
// and leave no file behind.
func TestWriteDeletesFailsCleanly(t *testing.T) {
	id := NewID()
	bm := roaring.BitmapOf(1, 2, 3, 1000)
	for i := 0; ; i++ {
		dir := storage.NewFaulty(int64(i))
		n := 0
		dir.OnOp(func(op storage.Op, name string) error {
			n++
			if n-1 == i {
				return fmt.Errorf("%w at %s", storage.ErrInjected, op)
			}
			return nil
		})
		name, err := WriteDeletes(dir, id, 2, bm)
		dir.OnOp(nil)
		if err == nil {
			if i < 4 {
				t.Fatalf("WriteDeletes succeeded after only %d operations", i)
			}
			if got, err := ReadDeletes(dir, id, 2, 1001); err != nil || !got.Equals(bm) {
				t.Fatalf("after the fault-free run: %v", err)
			}
			return
		}
		if name != "" || !errors.Is(err, storage.ErrInjected) || !strings.Contains(err.Error(), DeletesFileName(id, 2)) {
			t.Fatalf("fault at op %d: WriteDeletes = %q, %v", i, name, err)
		}
		if files, _ := dir.List(); len(files) != 0 {
			t.Fatalf("fault at op %d: files left behind: %v", i, files)
		}
	}
}

func TestParseFileName(t *testing.T) {
	id := NewID()
	for _, name := range SegmentFiles(id) {
		gotID, kind, gen, ok := ParseFileName(name)
		if !ok || gotID != id || gen != 0 || name != id.String()+"."+kind {
			t.Errorf("ParseFileName(%q) = %v %q %d %v", name, gotID, kind, gen, ok)
		}
	}
	for _, g := range []uint64{0, 1, 42, math.MaxUint64} {
		name := DeletesFileName(id, g)
		gotID, kind, gen, ok := ParseFileName(name)
		if !ok || gotID != id || kind != DeletesKind || gen != g {
			t.Errorf("ParseFileName(%q) = %v %q %d %v", name, gotID, kind, gen, ok)
		}
	}
	kinds := map[string]bool{}
	for _, name := range SegmentFiles(id) {
		_, kind, _, _ := ParseFileName(name)
		kinds[kind] = true
	}
	if len(kinds) != len(allKinds) || kinds[DeletesKind] {
		t.Errorf("segment file kinds %v", kinds)
	}
	s := id.String()
	for _, name := range []string{
		"", "metadata.json", "pk_bloom.bin", ".lock", s, s + ".", s + ".tmp", s + ".meta.tmp",
		strings.ToUpper(s) + ".meta", s[:31] + ".meta", s + "0.meta", "x" + s[1:] + ".post",
		s + "_.del", s + "_07.del", s + "_+7.del", s + "_-1.del", s + "_x.del", s + "_1.del.tmp",
		s + "_18446744073709551616.del", s + "_1_2.del", s + ".del", s + "_1.meta", "_1.del",
	} {
		if gotID, kind, gen, ok := ParseFileName(name); ok {
			t.Errorf("ParseFileName(%q) = %v %q %d, true; want not ok", name, gotID, kind, gen)
		}
	}
	// Every file a segment and its deletes leave in a directory is
	// recognised as that segment's.
	dir := storage.NewMem()
	sch := corpusSchema(t)
	sid, _ := buildSegment(t, sch, generatedDocs(5, 1), dir)
	if _, err := WriteDeletes(dir, sid, 1, roaring.BitmapOf(2)); err != nil {
		t.Fatal(err)
	}
	files, err := dir.List()
	if err != nil {
		t.Fatal(err)
	}
	var kindsSeen []string
	for _, name := range files {
		gotID, kind, _, ok := ParseFileName(name)
		if !ok || gotID != sid {
			t.Errorf("%s: not recognised as a file of segment %s", name, sid)
		}
		kindsSeen = append(kindsSeen, kind)
	}
	slices.Sort(kindsSeen)
	if want := []string{"del", "fast", "meta", "norm", "pos", "post", "store", "tdict"}; !slices.Equal(kindsSeen, want) {
		t.Errorf("kinds %v, want %v", kindsSeen, want)
	}
}
