package segment

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// TestUnknownStoredCompression: a schema given a codec that does not
// exist (StoredCompression(7)) cannot be written down (MarshalJSON fails
// naming it, so no index records a schema ParseSchema refuses), and Build
// fails naming it and leaves no file, instead of writing a store that Open
// then calls corrupt.
func TestUnknownStoredCompression(t *testing.T) {
	s := corpusSchema(t).WithStoredCompression(7)
	if out, err := s.MarshalJSON(); err == nil || !strings.Contains(err.Error(), "StoredCompression(7)") {
		t.Fatalf("MarshalJSON of codec 7 = %s, %v; want an error naming it", out, err)
	}
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(s, toks)
	for i, d := range generatedDocs(50, 3) {
		if err := b.Add(d); err != nil && !strings.Contains(err.Error(), "StoredCompression(7)") {
			t.Fatalf("Add doc %d: %v", i, err)
		}
	}
	dir := storage.NewMem()
	if _, err := b.Build(dir, NewID()); err == nil || !strings.Contains(err.Error(), "StoredCompression(7)") {
		t.Fatalf("Build with codec 7: %v, want an error naming it", err)
	}
	if names, err := dir.List(); err != nil || len(names) != 0 {
		t.Fatalf("Build with codec 7 left %v (%v)", names, err)
	}
	// A merge into codec 7 of a segment of a valid one.
	src := storage.NewMem()
	id, _ := buildSegment(t, corpusSchema(t), generatedDocs(50, 3), src)
	r, err := Open(src, id, corpusSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before, _ := src.List()
	if _, err := Merge(context.Background(), src, s, NewID(), []*Reader{r}); err == nil || !strings.Contains(err.Error(), "StoredCompression(7)") {
		t.Fatalf("Merge into codec 7: %v, want an error naming it", err)
	}
	if after, _ := src.List(); len(after) != len(before) {
		t.Fatalf("Merge into codec 7 left files: %v, had %v", after, before)
	}
}

// TestMergeFaultsAndCrash merges a segment of each codec into S2 (so that
// the S2 source's blocks are copied still compressed and the zstd one's
// recompressed) in a directory that fails every mutating operation from
// the n-th on, for every n: Merge returns the injected error, never
// panics, and the next Merge into the same directory succeeds; once one
// has returned nil, a crash keeps the whole segment, whose documents read
// back.
func TestMergeFaultsAndCrash(t *testing.T) {
	var fields []Field
	for _, f := range corpusSchema(t).Fields() {
		if f.Name != "raw" { // stored only: a merge would rewrite every record
			fields = append(fields, f)
		}
	}
	base, err := NewSchema(fields...)
	if err != nil {
		t.Fatal(err)
	}
	docs := generatedDocs(40, 83) // no raw values
	src := storage.NewMem()
	var rs []*Reader
	for i, c := range storedCodecs {
		s := base.WithStoredCompression(c)
		id, _ := buildSegment(t, s, docs[i*20:(i+1)*20], src)
		r, err := Open(src, id, s)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		rs = append(rs, r)
	}
	s := base.WithStoredCompression(StoredS2)
	for n := 0; ; n++ {
		dir := storage.NewFaulty(int64(n))
		dir.FailAfter(n)
		meta, err := Merge(context.Background(), dir, s, NewID(), rs)
		if err == nil {
			if n < len(allKinds)*2 {
				t.Fatalf("Merge succeeded with only %d I/O operations", n)
			}
			checkSegmentDocs(t, dir.Crash(), s, meta.ID, docs)
			break
		}
		if !errors.Is(err, storage.ErrInjected) {
			t.Fatalf("fail after %d: %v does not wrap the injected error", n, err)
		}
		dir.FailAfter(-1)
		if _, err := Merge(context.Background(), dir, s, NewID(), rs); err != nil {
			t.Fatalf("fail after %d: the next Merge failed: %v", n, err)
		}
	}
}

// checkSegmentDocs opens segment id in dir (after a crash, say): it must
// be whole and hold docs.
func checkSegmentDocs(t *testing.T, dir storage.Directory, s *Schema, id ID, docs []*Document) {
	t.Helper()
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatalf("%v: the segment does not open: %v", s.StoredCompression(), err)
	}
	defer r.Close()
	if err := r.CheckIntegrity(); err != nil {
		t.Fatal(err)
	}
	for i, d := range docs {
		got, err := r.Document(uint32(i))
		if err != nil || !docsEqual(got, storedOnly(s, d)) {
			t.Fatalf("%v: Document(%d) = %v, %v", s.StoredCompression(), i, got, err)
		}
	}
}

// asStoreVersion2 rewrites the zstd store of segment id in dir as a build
// before codecs wrote it: no codec byte, the index offset one less, footer
// version 2.
func asStoreVersion2(t *testing.T, dir storage.Directory, id ID) storage.Directory {
	t.Helper()
	out := withStorePayload(t, dir, id, func(p []byte) []byte {
		if p[0] != byte(StoredZstd) {
			t.Fatalf("store codec %d, want zstd", p[0])
		}
		p = p[storeHeaderLen:]
		off := len(p) - 16
		binary.LittleEndian.PutUint64(p[off:], binary.LittleEndian.Uint64(p[off:])-storeHeaderLen)
		return p
	})
	name := fileName(id, kindStore)
	payload, _ := readPayload(t, out, name, kindStore)
	rewriteFile(t, out, name, kindStore, FormatVersion, payload)
	return out
}

// TestMergeCopiesVersion2Blocks: a merge into zstd copies the zstd frames
// of a version 2 store (no stored-only field, no deletes) into a version 3
// store, and a merge into S2 recompresses them; every document reads back
// from both.
func TestMergeCopiesVersion2Blocks(t *testing.T) {
	var fields []Field
	for _, f := range corpusSchema(t).Fields() {
		if f.Name != "raw" { // stored only
			fields = append(fields, f)
		}
	}
	base, err := NewSchema(fields...)
	if err != nil {
		t.Fatal(err)
	}
	docs := generatedDocs(120, 91) // no raw values
	built := storage.NewMem()
	id, _ := buildSegment(t, base.WithStoredCompression(StoredZstd), docs, built)
	dir := asStoreVersion2(t, built, id)
	for _, target := range storedCodecs {
		s := base.WithStoredCompression(target)
		src, err := Open(dir, id, s)
		if err != nil {
			t.Fatal(err)
		}
		v2 := src.core.store
		if _, ver := readPayload(t, dir, fileName(id, kindStore), kindStore); ver != FormatVersion || v2.offs[0] != 0 || v2.codec != StoredZstd {
			t.Fatalf("the rewritten store: version %d, first block at %d, codec %v", ver, v2.offs[0], v2.codec)
		}
		meta, err := Merge(context.Background(), dir, s, NewID(), []*Reader{src})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, ver, st := storeLayout(t, dir, s, meta.ID)
		if ver != storeVersion || st.codec != target {
			t.Fatalf("merged into %v: store version %d codec %v", target, ver, st.codec)
		}
		if target == StoredZstd {
			if want := len(v2.first); len(st.first) != want {
				t.Fatalf("merged into zstd: %d blocks, want the source's %d copied", len(st.first), want)
			}
			for b := range st.first {
				if st.offs[b+1]-st.offs[b] != v2.offs[b+1]-v2.offs[b] {
					t.Fatalf("merged into zstd: block %d of %d bytes, the source's %d", b, st.offs[b+1]-st.offs[b], v2.offs[b+1]-v2.offs[b])
				}
			}
		}
		checkSegmentDocs(t, dir, s, meta.ID, docs)
	}
}

// TestStoredTrailerBlockCountBounded: a store whose trailer claims more
// blocks than its index has room for (a damaged count; Open does not
// verify the store's checksum) is corrupt before the reader sizes its
// block tables by that count: with a segment of 64 Mi documents, a flipped
// bit there cost 768 MiB of allocation before the index was found short.
func TestStoredTrailerBlockCountBounded(t *testing.T) {
	const numDocs = 1 << 26
	payload := []byte{byte(StoredS2)}
	payload = binary.AppendUvarint(payload, numDocs) // one block of every document
	payload = binary.AppendUvarint(payload, 0)
	payload = binary.LittleEndian.AppendUint64(payload, storeHeaderLen)
	payload = binary.LittleEndian.AppendUint32(payload, numDocs) // the damaged block count
	payload = binary.LittleEndian.AppendUint32(payload, numDocs)
	dir := storage.NewMem()
	copyFile(t, dir, "x.store", payload)
	f, err := dir.Open("x.store")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sr := &storedReader{f: f, name: "x.store", codec: StoredS2}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = sr.loadIndex(storeHeaderLen, int64(len(payload)), numDocs)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), "x.store") {
		t.Fatalf("loadIndex with %d blocks in a %d-byte index: %v, want ErrCorrupt naming the file", numDocs, len(payload)-storeHeaderLen-16, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("loadIndex allocated %d bytes for a damaged block count", n)
	}
}
