package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/hermes-search/hermes-go/storage"
)

// mergeDocs is the merge tests' corpus: real text with every field kind,
// then synthetic documents whose frequent terms span many blocks.
func mergeDocs(t testing.TB) []*Document {
	return append(corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 80), 21), generatedDocs(220, 22)...)
}

// splitDocs cuts docs into n consecutive parts of random sizes (some may
// be empty).
func splitDocs(docs []*Document, n int, rng *rand.Rand) [][]*Document {
	cuts := []int{0, len(docs)}
	for i := 1; i < n; i++ {
		cuts = append(cuts, rng.IntN(len(docs)+1))
	}
	slices.Sort(cuts)
	parts := make([][]*Document, n)
	for i := range parts {
		parts[i] = docs[cuts[i]:cuts[i+1]]
	}
	return parts
}

// source is a segment opened for a merge, with the documents it holds
// and which of them the view deletes.
type source struct {
	r    *Reader
	docs []*Document
}

// live returns the documents a merge of srcs must keep, in merged order.
func live(srcs []source) []*Document {
	var out []*Document
	for _, s := range srcs {
		for i, d := range s.docs {
			if !s.r.IsDeleted(uint32(i)) {
				out = append(out, d)
			}
		}
	}
	return out
}

func readers(srcs []source) []*Reader {
	out := make([]*Reader, len(srcs))
	for i, s := range srcs {
		out[i] = s.r
	}
	return out
}

// openSource builds docs into dir and opens the segment with each
// document deleted with probability pDel.
func openSource(t testing.TB, s *Schema, dir storage.Directory, docs []*Document, pDel float64, rng *rand.Rand) source {
	t.Helper()
	id, _ := buildSegment(t, s, docs, dir)
	return openWithDeletes(t, s, dir, id, docs, pDel, rng)
}

func openWithDeletes(t testing.TB, s *Schema, dir storage.Directory, id ID, docs []*Document, pDel float64, rng *rand.Rand) source {
	t.Helper()
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	del := roaring.New()
	for i := range docs {
		if rng.Float64() < pDel {
			del.Add(uint32(i))
		}
	}
	v := r.WithDeletes(del)
	r.Close()
	t.Cleanup(func() { v.Close() })
	return source{r: v, docs: docs}
}

// checkMerged checks the merged segment against a segment built directly
// from the same documents: every file but meta must be identical, and the
// meta the same but for the id. With withModel, it then checks the merged
// segment against the brute-force model of the documents too (the builder
// is checked so in its own tests; this keeps the suite fast).
func checkMerged(t *testing.T, s *Schema, dir storage.Directory, meta *Meta, docs []*Document, withModel bool) {
	t.Helper()
	checkMergedStore(t, s, dir, meta, docs, withModel, false)
}

// checkMergedStore is checkMerged; with copiedBlocks, the store (and so
// the meta file's sizes) may differ from a direct build's, as blocks are
// copied whole, and the model check is what tells the documents are right.
func checkMergedStore(t *testing.T, s *Schema, dir storage.Directory, meta *Meta, docs []*Document, withModel, copiedBlocks bool) {
	t.Helper()
	direct := storage.NewMem()
	did, dmeta := buildSegment(t, s, docs, direct)
	if meta.NumDocs != dmeta.NumDocs || (!copiedBlocks && meta.Bytes != dmeta.Bytes) {
		t.Fatalf("merged: %d docs, %d bytes; direct build: %d docs, %d bytes", meta.NumDocs, meta.Bytes, dmeta.NumDocs, dmeta.Bytes)
	}
	for _, f := range s.Fields() {
		if got, want := meta.Fields[f.Name], dmeta.Fields[f.Name]; got != want {
			t.Fatalf("field %s: merged stats %+v, direct build %+v", f.Name, got, want)
		}
	}
	if len(meta.Fields) != len(dmeta.Fields) {
		t.Fatalf("merged meta has stats of %d fields, want %d", len(meta.Fields), len(dmeta.Fields))
	}
	for i, k := range allKinds {
		if copiedBlocks && (k == kindStore || k == kindMeta) {
			continue
		}
		got, err := storage.ReadAll(dir, fileName(meta.ID, k))
		if err != nil {
			t.Fatal(err)
		}
		want, err := storage.ReadAll(direct, fileName(did, k))
		if err != nil {
			t.Fatal(err)
		}
		if k == kindMeta {
			got = bytes.ReplaceAll(got[:len(got)-storage.FooterSize], []byte(meta.ID.String()), []byte(did.String()))
			want = want[:len(want)-storage.FooterSize]
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s file differs from a direct build (%d vs %d bytes)", allKinds[i].ext, len(got), len(want))
		}
	}
	r, err := Open(dir, meta.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if withModel {
		checkSegment(t, s, dir, r, meta, docs)
	}
}

// TestMergeMatchesDirectBuild merges the same documents split into 1, 3, 4
// or 6 segments with random deletes; the result must equal a segment built from
// the live documents.
func TestMergeMatchesDirectBuild(t *testing.T) {
	s := corpusSchema(t)
	all := mergeDocs(t)
	for i, tc := range []struct {
		parts     int
		pDel      float64
		withModel bool
	}{
		{1, 0.2, true},   // a rewrite that reclaims deletes
		{3, 0.1, true},   // the common case
		{6, 0.03, false}, // many small sources, some maybe empty
		{4, 0.6, false},  // mostly deleted
	} {
		t.Run(fmt.Sprintf("%dparts-%.0fpct", tc.parts, tc.pDel*100), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 77))
			dir := storage.NewMem()
			var srcs []source
			for _, part := range splitDocs(all, tc.parts, rng) {
				srcs = append(srcs, openSource(t, s, dir, part, tc.pDel, rng))
			}
			meta, err := Merge(context.Background(), dir, s, NewID(), readers(srcs))
			if err != nil {
				t.Fatal(err)
			}
			checkMerged(t, s, dir, meta, live(srcs), tc.withModel)
			// The sources are unchanged and still readable.
			for _, src := range srcs {
				if src.r.NumDocs() != uint32(len(src.docs)) {
					t.Fatalf("source changed: %d docs", src.r.NumDocs())
				}
				if len(src.docs) > 0 {
					d, err := src.r.Document(uint32(len(src.docs) - 1))
					if err != nil || !docsEqual(d, storedOnly(s, src.docs[len(src.docs)-1])) {
						t.Fatalf("source unreadable after the merge: %v", err)
					}
				}
			}
		})
	}
}

// TestMergeCopiesStoredBlocks: with no field that only the store holds, a
// merge copies the stored blocks whose documents are all live still
// compressed, and recompresses the records of the others; every live
// document reads back the same, in order, also after a merge of merges.
func TestMergeCopiesStoredBlocks(t *testing.T) {
	var fields []Field
	for _, f := range corpusSchema(t).Fields() {
		if f.Name != "raw" { // stored only
			fields = append(fields, f)
		}
	}
	s, err := NewSchema(fields...)
	if err != nil {
		t.Fatal(err)
	}
	var all []*Document
	for _, d := range mergeDocs(t) {
		nd := &Document{}
		for _, v := range d.Values {
			if v.Field != "raw" {
				nd.Values = append(nd.Values, v)
			}
		}
		all = append(all, nd)
	}
	rng := rand.New(rand.NewPCG(13, 13))
	dir := storage.NewMem()
	parts := splitDocs(all, 3, rng)
	// Untouched sources: every block is copied, byte for byte.
	var srcs []source
	for _, part := range parts {
		srcs = append(srcs, openSource(t, s, dir, part, 0, rng))
	}
	meta, err := Merge(context.Background(), dir, s, NewID(), readers(srcs))
	if err != nil {
		t.Fatal(err)
	}
	checkMergedStore(t, s, dir, meta, live(srcs), true, true)
	merged, err := Open(dir, meta.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	var want []int64
	for _, src := range srcs {
		st := src.r.core.store
		for b := range st.first {
			want = append(want, st.offs[b+1]-st.offs[b])
		}
	}
	st := merged.core.store
	var got []int64
	for b := range st.first {
		got = append(got, st.offs[b+1]-st.offs[b])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("merged store blocks of %v bytes, want the sources' %v", got, want)
	}
	// The merged segment with deletes, between two new ones: blocks with a
	// deleted document are recompressed, the others copied.
	again := []source{
		openSource(t, s, dir, parts[0], 0.02, rng),
		openWithDeletes(t, s, dir, meta.ID, live(srcs), 0.02, rng),
		openSource(t, s, dir, parts[2], 0, rng),
	}
	meta2, err := Merge(context.Background(), dir, s, NewID(), readers(again))
	if err != nil {
		t.Fatal(err)
	}
	checkMergedStore(t, s, dir, meta2, live(again), true, true)
}

func storedOnly(s *Schema, d *Document) *Document {
	out := &Document{Values: []FieldValue{}}
	for _, v := range d.Values {
		if f, _ := s.Field(v.Field); f.Stored {
			out.Values = append(out.Values, v)
		}
	}
	return out
}

// TestMergeOfMerges merges a merged segment (itself with new deletes)
// between two fresh ones.
func TestMergeOfMerges(t *testing.T) {
	s := corpusSchema(t)
	all := mergeDocs(t)
	rng := rand.New(rand.NewPCG(3, 3))
	dir := storage.NewMem()
	parts := splitDocs(all, 4, rng)
	a := openSource(t, s, dir, parts[0], 0.1, rng)
	b := openSource(t, s, dir, parts[1], 0.1, rng)
	m1, err := Merge(context.Background(), dir, s, NewID(), readers([]source{a, b}))
	if err != nil {
		t.Fatal(err)
	}
	mid := openWithDeletes(t, s, dir, m1.ID, live([]source{a, b}), 0.1, rng)
	c := openSource(t, s, dir, parts[2], 0.05, rng)
	d := openSource(t, s, dir, parts[3], 0, rng)
	srcs := []source{c, mid, d}
	m2, err := Merge(context.Background(), dir, s, NewID(), readers(srcs))
	if err != nil {
		t.Fatal(err)
	}
	checkMerged(t, s, dir, m2, live(srcs), true)
}

func TestMergeEmpty(t *testing.T) {
	s := corpusSchema(t)
	dir := storage.NewMem()
	rng := rand.New(rand.NewPCG(1, 1))
	docs := generatedDocs(50, 1)
	all := openSource(t, s, dir, docs, 1.1, rng) // every doc deleted
	empty := openSource(t, s, dir, nil, 0, rng)
	before, _ := dir.List()
	for name, srcs := range map[string][]*Reader{
		"no sources":        nil,
		"all deleted":       {all.r},
		"all deleted+empty": {empty.r, all.r},
	} {
		meta, err := Merge(context.Background(), dir, s, NewID(), srcs)
		if meta != nil || !errors.Is(err, ErrEmptyMerge) {
			t.Errorf("%s: Merge = %v, %v; want ErrEmptyMerge", name, meta, err)
		}
	}
	if after, _ := dir.List(); !slices.Equal(before, after) {
		t.Fatalf("an empty merge wrote files: %v", after)
	}
	// An empty segment next to live documents is merged normally.
	other := openSource(t, s, dir, docs[:10], 0, rng)
	meta, err := Merge(context.Background(), dir, s, NewID(), []*Reader{empty.r, other.r, all.r})
	if err != nil {
		t.Fatal(err)
	}
	checkMerged(t, s, dir, meta, docs[:10], true)
}

func TestMergeRejectsBadSources(t *testing.T) {
	s := corpusSchema(t)
	dir := storage.NewMem()
	rng := rand.New(rand.NewPCG(2, 2))
	a := openSource(t, s, dir, generatedDocs(20, 5), 0, rng)
	other, err := NewSchema(Field{Name: "id", Type: TypeKeyword, Indexed: true, Stored: true, Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	closedR, err := Open(dir, a.r.ID(), s)
	if err != nil {
		t.Fatal(err)
	}
	closedR.Close()
	for _, tc := range []struct {
		name   string
		schema *Schema
		id     ID
		srcs   []*Reader
		want   string
	}{
		{"schema", other, NewID(), []*Reader{a.r}, "different schema"},
		{"closed", s, NewID(), []*Reader{a.r, closedR}, "source 1 (segment " + a.r.ID().String() + ") is closed"},
		{"nil", s, NewID(), []*Reader{nil}, "source 0 is nil"},
		{"same id", s, a.r.ID(), []*Reader{a.r}, "the id of source 0"},
	} {
		before, _ := dir.List()
		if _, err := Merge(context.Background(), dir, tc.schema, tc.id, tc.srcs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Merge error %v, want one mentioning %q", tc.name, err, tc.want)
		}
		if after, _ := dir.List(); !slices.Equal(before, after) {
			t.Errorf("%s: a rejected merge wrote files", tc.name)
		}
	}
}

// faultFixture builds three sources with deletes in a FaultyDirectory.
func faultFixture(t *testing.T) (*Schema, *storage.FaultyDirectory, []source) {
	s := corpusSchema(t)
	dir := storage.NewFaulty(1)
	rng := rand.New(rand.NewPCG(4, 4))
	docs := append(corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 15), 2), generatedDocs(45, 6)...)
	var srcs []source
	for _, part := range splitDocs(docs, 3, rng) {
		srcs = append(srcs, openSource(t, s, dir, part, 0.1, rng))
	}
	return s, dir, srcs
}

// TestMergeFailsCleanlyAtEveryOp fails each directory operation of a merge
// in turn (writes, syncs, closes and the reads of the sources' stored
// fields): Merge must return the injected error naming the file, and leave
// no file behind.
func TestMergeFailsCleanlyAtEveryOp(t *testing.T) {
	s, dir, srcs := faultFixture(t)
	before, _ := dir.List()
	// A clean run, to count the operations.
	var ops []string
	dir.OnOp(func(op storage.Op, name string) error { ops = append(ops, op.String()+" "+name); return nil })
	meta, err := Merge(context.Background(), dir, s, NewID(), readers(srcs))
	dir.OnOp(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range meta.Files {
		if err := dir.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	if len(ops) < 2*len(allKinds) {
		t.Fatalf("only %d operations: %v", len(ops), ops)
	}
	for i := range ops {
		n := 0
		failed := ""
		dir.OnOp(func(op storage.Op, name string) error {
			n++
			if n-1 == i {
				failed = name
				return fmt.Errorf("%w: op %d", storage.ErrInjected, i)
			}
			return nil
		})
		meta, err := Merge(context.Background(), dir, s, NewID(), readers(srcs))
		dir.OnOp(nil)
		if err == nil || meta != nil {
			t.Fatalf("failing op %d (%s): Merge succeeded", i, ops[i])
		}
		if !errors.Is(err, storage.ErrInjected) || !strings.Contains(err.Error(), failed) {
			t.Fatalf("failing op %d (%s): error %q does not wrap the fault naming the file", i, ops[i], err)
		}
		if after, _ := dir.List(); !slices.Equal(before, after) {
			t.Fatalf("failing op %d (%s): files left behind: %v", i, ops[i], after)
		}
	}
	// The sources are still good, and a merge without faults works.
	meta, err = Merge(context.Background(), dir, s, NewID(), readers(srcs))
	if err != nil {
		t.Fatal(err)
	}
	checkMerged(t, s, dir, meta, live(srcs), false)
}

// TestMergeCancel cancels the context just before each directory operation
// of a merge: until the segment is complete (its meta file created) Merge
// must return context.Canceled and leave no file behind.
func TestMergeCancel(t *testing.T) {
	s, dir, srcs := faultFixture(t)
	before, _ := dir.List()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Merge(ctx, dir, s, NewID(), readers(srcs)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Merge with a cancelled context: %v", err)
	}
	metaCreate := -1
	for i := 0; ; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		id := NewID()
		dir.OnOp(func(op storage.Op, name string) error {
			if op == storage.OpCreate && name == fileName(id, kindMeta) && metaCreate < 0 {
				metaCreate = n
			}
			if n == i {
				cancel()
			}
			n++
			return nil
		})
		meta, err := Merge(ctx, dir, s, id, readers(srcs))
		dir.OnOp(nil)
		cancel()
		if err == nil {
			if metaCreate < 0 || i < metaCreate {
				t.Fatalf("cancelled before op %d, before the meta file was created (op %d): Merge succeeded", i, metaCreate)
			}
			if i >= n {
				checkMerged(t, s, dir, meta, live(srcs), false)
				return // never cancelled: done
			}
			for _, name := range meta.Files {
				if err := dir.Remove(name); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled before op %d: error %v", i, err)
		}
		if i == 0 && n > 10 {
			// The context is checked as terms are merged, not only at
			// the end: cancelled at the first create, Merge must stop
			// within the postings.
			t.Fatalf("cancelled at the first operation, Merge went on for %d more", n-1)
		}
		if after, _ := dir.List(); !slices.Equal(before, after) {
			t.Fatalf("cancelled before op %d: files left behind: %v", i, after)
		}
	}
}

// withPayload copies segment id to a new directory with one file's
// payload replaced (under a valid footer, and with the size in meta
// updated), so the damage passes Open's checksums and reaches the merge.
func withPayload(t *testing.T, src storage.Directory, id ID, k fileKind, mutate func([]byte) []byte) storage.Directory {
	t.Helper()
	d := copySegment(t, src, id, nil)
	name := fileName(id, k)
	payload, ver := readPayload(t, d, name, k)
	payload = mutate(bytes.Clone(payload))
	rewriteFile(t, d, name, k, ver, payload)
	return d
}

// TestMergeCorruptSource damages data that Open does not parse (postings,
// stored blocks) under valid checksums: Merge must fail with
// storage.ErrCorrupt naming the source segment and file, and write
// nothing.
func TestMergeCorruptSource(t *testing.T) {
	s := corpusSchema(t)
	base := storage.NewMem()
	docs := generatedDocs(300, 9)
	id, _ := buildSegment(t, s, docs, base)
	for _, tc := range []struct {
		k      fileKind
		mutate func([]byte) []byte
	}{
		{kindPost, func(b []byte) []byte {
			for i := range b {
				b[i] = 0xff // varints that never end
			}
			return b
		}},
		{kindStore, func(b []byte) []byte { b[len(b)/4] ^= 0x55; return b }}, // inside a zstd frame
	} {
		dir := withPayload(t, base, id, tc.k, tc.mutate)
		bad, err := Open(dir, id, s)
		if err != nil {
			t.Fatalf("%s: the damage is caught by Open already: %v", tc.k.ext, err)
		}
		good := openSource(t, s, dir, docs[:20], 0, rand.New(rand.NewPCG(1, 1)))
		before, _ := dir.List()
		_, err = Merge(context.Background(), dir, s, NewID(), []*Reader{good.r, bad})
		bad.Close()
		if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), "source segment "+id.String()) ||
			!strings.Contains(err.Error(), fileName(id, tc.k)) {
			t.Errorf("%s: Merge error %v: want ErrCorrupt naming the source and file", tc.k.ext, err)
		}
		if after, _ := dir.List(); !slices.Equal(before, after) {
			t.Errorf("%s: files left behind: %v", tc.k.ext, after)
		}
	}
}

// TestMergeGarbageNeverPanics merges sources whose files hold random
// damage under valid checksums: Merge may fail (with ErrCorrupt) or
// succeed, but never panic.
func TestMergeGarbageNeverPanics(t *testing.T) {
	s := corpusSchema(t)
	dir := storage.NewMem()
	id, _ := buildSegment(t, s, append(corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 20), 3), generatedDocs(140, 7)...), dir)
	rng := rand.New(rand.NewPCG(8, 8))
	for _, k := range allKinds {
		if k == kindMeta {
			continue
		}
		merged := 0 // runs whose damaged source opened, so the merge itself was tried
		for round := 0; round < 2; round++ {
			d := withPayload(t, dir, id, k, func(b []byte) []byte {
				for i := 0; i < 1+rng.IntN(4) && len(b) > 0; i++ {
					b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
				}
				return b
			})
			r, err := Open(d, id, s)
			if err != nil {
				continue
			}
			merged++
			_, err = Merge(context.Background(), d, s, NewID(), []*Reader{r})
			r.Close()
			if err != nil && !errors.Is(err, storage.ErrCorrupt) {
				t.Errorf("%s: damaged source gave an error not wrapping ErrCorrupt: %v", k.ext, err)
			}
		}
		if merged == 0 {
			t.Errorf("%s: no damaged source opened, so no merge was tried", k.ext)
		}
	}
}

// BenchmarkMerge merges the first 20,000 realmix documents, built as 6
// segments (with 5% of the documents deleted in the "deletes" case); the
// throughput is MB/s of source segment bytes. The "fs" cases read the
// sources mapped from files, as a merge after a commit does, and report its
// CPU time (its files are fsynced): "release=off" keeps their pages
// resident, "release=on" (the default) drops them behind the merge, which
// reads them again from the page cache in the next round.
func BenchmarkMerge(b *testing.B) {
	s := benchSchema(b)
	docs, _ := benchDocuments(b)
	cases := []struct {
		name    string
		fs      bool
		release bool
		pDel    float64
	}{
		{"deletes=0%", false, true, 0},
		{"deletes=5%", false, true, 0.05},
		{"fs/release=on", true, true, 0},
		{"fs/release=off", true, false, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			var dir storage.Directory = storage.NewMem()
			if c.fs {
				fsDir, err := storage.NewFS(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				dir = fsDir
			}
			var srcs []*Reader
			var size int64
			for _, part := range splitDocs(docs, 6, rng) {
				id, meta := buildSegment(b, s, part, dir)
				size += meta.Bytes
				srcs = append(srcs, openWithDeletes(b, s, dir, id, part, c.pDel, rng).r)
			}
			if !c.release {
				// Map every page once, as the first merge would, and keep them.
				for _, r := range srcs {
					for _, of := range r.core.files {
						for i := 0; i < len(of.data); i += 4096 {
							mergeSink += of.data[i]
						}
					}
				}
			}
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				start := processCPU()
				meta, err := mergeKeeping(dir, s, srcs, c.release)
				cpu += processCPU() - start
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				for _, name := range meta.Files {
					_ = dir.Remove(name)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}

// mergeSink keeps BenchmarkMerge's page touches.
var mergeSink byte

// mergeKeeping merges srcs into dir; without release, it releases none of
// the sources' pages.
func mergeKeeping(dir storage.Directory, s *Schema, srcs []*Reader, release bool) (*Meta, error) {
	if release {
		return Merge(context.Background(), dir, s, NewID(), srcs)
	}
	mergeReleaseOff = true
	defer func() { mergeReleaseOff = false }()
	return Merge(context.Background(), dir, s, NewID(), srcs)
}

// countingPacer records what a merge reports; its stopAt-th call stops the
// merge, as a pacer does whose context ended while the merge slept.
type countingPacer struct {
	calls, stopAt int
	worked        time.Duration
}

func (p *countingPacer) Pace(_ context.Context, worked time.Duration) error {
	p.calls++
	p.worked += worked
	if p.calls == p.stopAt {
		return context.Canceled
	}
	return nil
}

// A paced merge reports its work as it goes (every mergeCheckEvery terms
// or stored blocks) and writes the same segment; a pacer's error stops it
// and leaves no file behind.
func TestMergePacedBy(t *testing.T) {
	s, dir, srcs := faultFixture(t)
	before, _ := dir.List()
	p := &countingPacer{}
	meta, err := Merge(context.Background(), dir, s, NewID(), readers(srcs), PacedBy(p))
	if err != nil {
		t.Fatal(err)
	}
	if p.calls == 0 || p.worked <= 0 {
		t.Fatalf("the merge reported %d stretches of work (%v) to its pacer", p.calls, p.worked)
	}
	checkMerged(t, s, dir, meta, live(srcs), false)
	for _, name := range meta.Files {
		if err := dir.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	stop := &countingPacer{stopAt: 1}
	if _, err := Merge(context.Background(), dir, s, NewID(), readers(srcs), PacedBy(stop)); !errors.Is(err, context.Canceled) {
		t.Fatalf("a merge its pacer stopped: %v", err)
	}
	if after, _ := dir.List(); !slices.Equal(before, after) {
		t.Fatalf("a merge its pacer stopped left files behind: %v", after)
	}
}

// readTailRecord, which a merge uses to copy a term of fewer than
// blockSize documents, reads back what Build wrote (addSingleTerm,
// addDocs): the docs, renumbered or dropped as the source's document map
// says, their freqs and positions, for docs and freqs across the uvarint
// lengths; it declines a term of more documents, a doc past the source's
// documents, and every record or positions cut short.
func TestReadTailRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 7))
	var terms []modelTerm
	for _, doc := range []uint32{0, 1, 63, 64, 8191, 8192, 1 << 20, 1<<31 - 1, NoMoreDocs - 1} {
		for _, freq := range []uint32{1, 2, 127, 128, 300} {
			m := randomTerm(rng, 1)
			m.docs[0], m.freqs[0] = doc, freq
			m.pos[0] = make([]uint32, freq)
			for j := range m.pos[0] {
				m.pos[0][j] = rng.Uint32() >> uint(rng.IntN(32))
			}
			terms = append(terms, m, randomTerm(rng, 2+rng.IntN(200)))
		}
	}
	terms = append(terms, randomTerm(rng, blockSize-1), randomTerm(rng, blockSize), randomTerm(rng, blockSize+1), randomTerm(rng, 1))
	source := func(post, pos []byte, numDocs uint32, docMap []uint32) *mergeSource {
		return &mergeSource{r: &Reader{core: &readerCore{post: post, pos: pos}}, numDocs: numDocs, docMap: docMap}
	}
	for _, positions := range []bool{false, true} {
		post, pos, offs, _ := termWriterRun(t, terms, positions, nil, singles)
		for i := range terms[:len(terms)-1] {
			m := &terms[i]
			last := m.docs[len(m.docs)-1]
			var docMap []uint32 // every third doc deleted, the others moved up by 7
			if last < 1<<20 {
				docMap = make([]uint32, last+1)
				for d := range docMap {
					docMap[d] = uint32(d) + 7
					if d%3 == 0 {
						docMap[d] = NoMoreDocs
					}
				}
			}
			for _, dm := range [][]uint32{nil, docMap} {
				if dm == nil && last < 1<<20 && i%2 == 1 {
					continue // the map-less case once in a while is enough
				}
				var got shortTerm
				ps, ok := readTailRecord(source(post, pos, NoMoreDocs, dm), offs[i], positions, &got)
				if len(m.docs) >= blockSize {
					if ok {
						t.Fatalf("positions %v: a term of %d docs read as one tail block", positions, len(m.docs))
					}
					continue
				}
				var want shortTerm
				var all []byte
				for j, d := range m.docs {
					var p []byte
					if positions {
						p = m.docPositions(j)
					}
					all = append(all, p...)
					if dm != nil {
						if d = dm[d]; d == NoMoreDocs {
							continue
						}
					}
					want.docs, want.freqs, want.pos = append(want.docs, d), append(want.freqs, m.freqs[j]), append(want.pos, p...)
				}
				if !ok || !slices.Equal(got.docs, want.docs) || !slices.Equal(got.freqs, want.freqs) || !bytes.Equal(got.pos, want.pos) {
					t.Fatalf("positions %v, term %d of %d docs: read %v %v (ok %v), want %v %v", positions, i, len(m.docs), got.docs, got.freqs, ok, want.docs, want.freqs)
				}
				if positions && !bytes.Equal(pos[ps:ps+uint64(len(all))], all) {
					t.Fatalf("term %d: positions start at %d, not where the term's are", i, ps)
				}
				if dm != nil {
					continue
				}
				if _, ok := readTailRecord(source(post, pos, last, nil), offs[i], positions, &got); ok {
					t.Fatalf("term %d: doc %d read in a source of %d docs", i, last, last)
				}
				rec := post[offs[i]:offs[i+1]]
				for k := range rec {
					if _, ok := readTailRecord(source(rec[:k], pos, NoMoreDocs, nil), 0, positions, &got); ok {
						t.Fatalf("positions %v: a record cut to %d of %d bytes read", positions, k, len(rec))
					}
				}
				if positions {
					if _, ok := readTailRecord(source(post, pos[:ps+uint64(len(all))-1], NoMoreDocs, nil), offs[i], positions, &got); ok {
						t.Fatalf("term %d: positions cut short read", i)
					}
				}
			}
		}
	}
}

// A record of blockSize or more documents starts with a packed block, not
// a tail, so readTailRecord refuses it by its document count alone, even
// where the bytes after the count would parse as a tail's varints (as
// these do: blockSize documents of freq 1, one after another). A packed
// block that parsed as a tail would be read as wrong documents.
func TestReadTailRecordRefusesAFullBlock(t *testing.T) {
	for _, df := range []int{blockSize - 1, blockSize, blockSize + 1} {
		post := binary.AppendUvarint(nil, uint64(df))
		for range df {
			post = append(post, 1) // doc delta 0 (the next doc), freq 1
		}
		s := &mergeSource{r: &Reader{core: &readerCore{post: post}}, numDocs: NoMoreDocs}
		var got shortTerm
		_, ok := readTailRecord(s, 0, false, &got)
		if want := df < blockSize; ok != want {
			t.Fatalf("a record of %d docs: read as a tail %v, want %v", df, ok, want)
		}
		if ok && len(got.docs) != df {
			t.Fatalf("a record of %d docs: read %d", df, len(got.docs))
		}
	}
}
