package segment

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/storage"
	"github.com/klauspost/compress/s2"
)

// The segment in testdata/store-v2 was written by the build before the
// stored-field codecs (main at 3b98d1a), from storeV2Docs with
// corpusSchema: its store file is format version 2, zstd frames and no
// header. segment.json holds the Meta its Build returned.
const storeV2Path = "testdata/store-v2"

func storeV2Docs(t testing.TB) []*Document {
	return append(corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 12), 5), generatedDocs(12, 6)...)
}

// openStoreV2 copies the version 2 segment into a memory directory (so
// that tests may write next to it) and returns the directory and its Meta.
func openStoreV2(t *testing.T) (storage.Directory, *Meta) {
	t.Helper()
	var meta Meta
	data, err := os.ReadFile(filepath.Join(storeV2Path, "segment.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	dir := storage.NewMem()
	for _, name := range SegmentFiles(meta.ID) {
		data, err := os.ReadFile(filepath.Join(storeV2Path, name))
		if err != nil {
			t.Fatal(err)
		}
		copyFile(t, dir, name, data)
	}
	return dir, &meta
}

// TestReadStoreVersion2 opens the segment an earlier build wrote: every
// document, term and column reads back as written, and the checksums hold.
func TestReadStoreVersion2(t *testing.T) {
	s := corpusSchema(t)
	dir, meta := openStoreV2(t)
	r, err := Open(dir, meta.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.CheckIntegrity(); err != nil {
		t.Fatal(err)
	}
	if n := len(r.core.store.first); n < 2 {
		t.Fatalf("the golden store has %d blocks, want several", n)
	}
	checkSegment(t, s, dir, r, meta, storeV2Docs(t))
}

// storedRecords returns the benchmark documents' stored records, as Add
// makes them, and their total bytes.
func storedRecords(b *testing.B) ([][]byte, int64) {
	s := benchSchema(b)
	docs, _ := benchDocuments(b)
	recs := make([][]byte, len(docs))
	var raw int64
	for i, d := range docs {
		rec := binary.AppendUvarint(nil, uint64(len(d.Values)))
		for j := range d.Values {
			rec = appendStoredValue(rec, s.FieldIndex(d.Values[j].Field), &d.Values[j])
		}
		recs[i] = rec
		raw += int64(len(rec))
	}
	return recs, raw
}

// BenchmarkStored writes the stored fields of the benchmark documents
// (20,000 realmix records) with each codec as Build does, then reads
// documents back one at a time as Hit.Document does without a cache (one
// block decompressed per document): CPU ns per document written, bytes
// of the store per document, and CPU ns per document read.
func BenchmarkStored(b *testing.B) {
	recs, raw := storedRecords(b)
	for _, c := range []StoredCompression{StoredS2, StoredZstd} {
		b.Run("codec="+c.String()+"/write", func(b *testing.B) {
			var size int64
			var sw storedWriter
			cpu := processCPU()
			for b.Loop() {
				size = 0
				sw.reset(c, func(p []byte) error { size += int64(len(p)); return nil })
				for _, rec := range recs {
					if err := sw.addDoc(rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := sw.finish(); err != nil {
					b.Fatal(err)
				}
			}
			reportPerDoc(b, processCPU()-cpu, len(recs))
			b.ReportMetric(float64(size)/float64(len(recs)), "B/doc")
			b.ReportMetric(float64(size)/float64(raw), "size/raw")
		})
		b.Run("codec="+c.String()+"/get", func(b *testing.B) {
			s := benchSchema(b).WithStoredCompression(c)
			docs, _ := benchDocuments(b)
			dir := storage.NewMem()
			id, _ := buildSegment(b, s, docs[:2000], dir)
			r, err := Open(dir, id, s)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			n := 0
			cpu := processCPU()
			for b.Loop() {
				if _, err := r.Document(uint32(n*7919) % r.NumDocs()); err != nil {
					b.Fatal(err)
				}
				n++
			}
			reportPerDoc(b, processCPU()-cpu, 1)
		})
	}
}

// BenchmarkStoredBlocks compresses the benchmark documents' stored records
// in blocks of 8 to 64 KiB, as storedWriter does, with each codec and,
// for reference, S2's better and best modes (decoded alike): CPU ns per
// document and MB of records per CPU second to compress and to
// decompress, bytes per document, and CPU µs to decompress one block,
// which reading one document costs. It chose
// the codec and block size (FORMAT.md).
func BenchmarkStoredBlocks(b *testing.B) {
	recs, raw := storedRecords(b)
	s2Mode := func(encode func(dst, src []byte) []byte) func([]byte, []byte) []byte {
		return func(dst, block []byte) []byte {
			comp := encode(make([]byte, s2.MaxEncodedLen(len(block))), block)
			dst = binary.LittleEndian.AppendUint32(dst[:0], crc32.Checksum(comp, castagnoli))
			return append(dst, comp...)
		}
	}
	codecs := []struct {
		name   string
		codec  StoredCompression
		encode func(dst, block []byte) []byte // nil: compressStored
	}{
		{"s2", StoredS2, nil},
		{"s2-better", StoredS2, s2Mode(s2.EncodeBetter)},
		{"s2-best", StoredS2, s2Mode(s2.EncodeBest)},
		{"zstd", StoredZstd, nil},
	}
	for _, blockBytes := range []int{8 << 10, 16 << 10, 32 << 10, 64 << 10} {
		// Blocks as storedWriter makes them: count, lengths, records.
		var blocks [][]byte
		for i := 0; i < len(recs); {
			var lens, body []byte
			n := 0
			for ; i < len(recs) && len(body) < blockBytes; i++ {
				lens = binary.AppendUvarint(lens, uint64(len(recs[i])))
				body = append(body, recs[i]...)
				n++
			}
			blocks = append(blocks, append(append(binary.AppendUvarint(nil, uint64(n)), lens...), body...))
		}
		for _, c := range codecs {
			comp := make([][]byte, len(blocks))
			name := fmt.Sprintf("block=%dKiB/%s", blockBytes>>10, c.name)
			b.Run(name+"/compress", func(b *testing.B) {
				var size int64
				cpu := processCPU()
				for b.Loop() {
					size = 0
					for i, bl := range blocks {
						if c.encode != nil {
							comp[i] = c.encode(comp[i], bl)
						} else {
							var err error
							if comp[i], err = compressStored(c.codec, comp[i], bl); err != nil {
								b.Fatal(err)
							}
						}
						size += int64(len(comp[i]))
					}
				}
				d := processCPU() - cpu
				reportPerDoc(b, d, len(recs))
				reportCPURate(b, raw, d)
				b.ReportMetric(float64(size)/float64(len(recs)), "B/doc")
				b.ReportMetric(float64(size)/float64(raw), "size/raw")
			})
			b.Run(name+"/decompress", func(b *testing.B) {
				var out []byte
				cpu := processCPU()
				for b.Loop() {
					for _, cb := range comp {
						var err error
						if out, err = decompressStored(c.codec, out, cb); err != nil {
							b.Fatal(err)
						}
					}
				}
				d := processCPU() - cpu
				reportPerDoc(b, d, len(recs))
				reportCPURate(b, raw, d)
				b.ReportMetric(float64(d.Nanoseconds())/1e3/float64(b.N*len(blocks)), "cpu-µs/block")
			})
		}
	}
}

// reportPerDoc reports the CPU time of b.N loops over docs documents per
// document: unlike ns/op, it does not grow when other processes take the
// CPU.
func reportPerDoc(b *testing.B, cpu time.Duration, docs int) {
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*docs), "cpu-ns/doc")
}

var storedCodecs = []StoredCompression{StoredS2, StoredZstd}

// storeLayout returns the payload of segment id's store file, its
// version, and its blocks' offsets (offs[len] is the index offset).
func storeLayout(t *testing.T, dir storage.Directory, s *Schema, id ID) ([]byte, uint32, *storedReader) {
	t.Helper()
	payload, ver := readPayload(t, dir, fileName(id, kindStore), kindStore)
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return payload, ver, r.core.store
}

// TestStoredCodecsRoundTrip builds the same documents with each codec:
// the store records its codec in its header (footer version 3) and every
// document, term and column reads back as added.
func TestStoredCodecsRoundTrip(t *testing.T) {
	docs := append(corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 60), 31), generatedDocs(200, 32)...)
	for _, c := range storedCodecs {
		t.Run(c.String(), func(t *testing.T) {
			s := corpusSchema(t).WithStoredCompression(c)
			dir := storage.NewMem()
			id, meta := buildSegment(t, s, docs, dir)
			payload, ver, sr := storeLayout(t, dir, s, id)
			if ver != storeVersion || payload[0] != byte(c) || sr.codec != c || len(sr.first) < 10 {
				t.Fatalf("store version %d, header %d, codec %v, %d blocks; want version %d, codec %v, many blocks",
					ver, payload[0], sr.codec, len(sr.first), storeVersion, c)
			}
			r, err := Open(dir, id, s)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			checkSegment(t, s, dir, r, meta, docs)
		})
	}
	// An empty segment has a header and an empty index.
	for _, c := range storedCodecs {
		s := corpusSchema(t).WithStoredCompression(c)
		dir := storage.NewMem()
		id, _ := buildSegment(t, s, nil, dir)
		if payload, ver, _ := storeLayout(t, dir, s, id); ver != storeVersion || len(payload) != storeHeaderLen+16 || payload[0] != byte(c) {
			t.Fatalf("%v: empty store of version %d: % x", c, ver, payload)
		}
	}
}

// withStorePayload is withPayload for a store whose size changes: the
// size recorded in the segment's meta file follows.
func withStorePayload(t *testing.T, src storage.Directory, id ID, mutate func([]byte) []byte) storage.Directory {
	t.Helper()
	dir := withPayload(t, src, id, kindStore, mutate)
	size, err := dir.FileSize(fileName(id, kindStore))
	if err != nil {
		t.Fatal(err)
	}
	name := fileName(id, kindMeta)
	payload, ver := readPayload(t, dir, name, kindMeta)
	var meta map[string]any
	if err := json.Unmarshal(payload, &meta); err != nil {
		t.Fatal(err)
	}
	meta["files"].(map[string]any)[fileName(id, kindStore)] = size
	if payload, err = json.Marshal(meta); err != nil {
		t.Fatal(err)
	}
	rewriteFile(t, dir, name, kindMeta, ver, payload)
	return dir
}

// TestStoredDamagedBlocks damages one compressed block, under valid file
// checksums and a consistent index, in each codec: a cut short block, a
// flipped byte, and (S2) the same with the block's CRC made to match, so
// that the S2 decoder itself meets the damage. Reading a document of the
// block is an error wrapping storage.ErrCorrupt naming the file, or for a
// flipped byte that the decoder cannot tell from data, other bytes; never
// a panic. The documents of the other blocks still read.
func TestStoredDamagedBlocks(t *testing.T) {
	docs := generatedDocs(300, 41)
	for _, c := range storedCodecs {
		s := corpusSchema(t).WithStoredCompression(c)
		base := storage.NewMem()
		id, _ := buildSegment(t, s, docs, base)
		payload, _, sr := storeLayout(t, base, s, id)
		const blk = 2
		from, to := sr.offs[blk], sr.offs[blk+1]
		// rebuild writes the store with block blk replaced by comp.
		rebuild := func(comp []byte) storage.Directory {
			return withStorePayload(t, base, id, func([]byte) []byte {
				out := append([]byte(nil), payload[:from]...)
				out = append(out, comp...)
				out = append(out, payload[to:sr.offs[len(sr.first)]]...)
				var index []byte
				for b := range sr.first {
					end := uint32(len(docs))
					if b+1 < len(sr.first) {
						end = sr.first[b+1]
					}
					clen := sr.offs[b+1] - sr.offs[b]
					if b == blk {
						clen = int64(len(comp))
					}
					index = binary.AppendUvarint(index, uint64(end-sr.first[b]))
					index = binary.AppendUvarint(index, uint64(clen))
				}
				idxOff := len(out)
				out = append(out, index...)
				out = binary.LittleEndian.AppendUint64(out, uint64(idxOff))
				out = binary.LittleEndian.AppendUint32(out, uint32(len(sr.first)))
				return binary.LittleEndian.AppendUint32(out, uint32(len(docs)))
			})
		}
		block := payload[from:to]
		type damage struct {
			name      string
			comp      []byte
			mayDecode bool // the codec cannot tell the damage from data
		}
		var cases []damage
		for _, cut := range []int{0, 1, 3, 4, 5, len(block) / 2, len(block) - 1} {
			cases = append(cases, damage{fmt.Sprintf("cut to %d bytes", cut), block[:cut], false})
		}
		for _, at := range []int{0, 2, 4, 5, 9, len(block) / 3, len(block) - 1} {
			flipped := append([]byte(nil), block...)
			flipped[at] ^= 0x41
			cases = append(cases, damage{fmt.Sprintf("byte %d flipped", at), flipped, false})
		}
		if c == StoredS2 {
			fixCRC := func(comp []byte) []byte {
				comp = append([]byte(nil), comp...)
				binary.LittleEndian.PutUint32(comp, crc32.Checksum(comp[s2CRCLen:], castagnoli))
				return comp
			}
			for _, cut := range []int{5, 6, len(block) / 2, len(block) - 1} {
				cases = append(cases, damage{fmt.Sprintf("cut to %d bytes, CRC matching", cut), fixCRC(block[:cut]), false})
			}
			for at := s2CRCLen; at < len(block); at += len(block) / 17 {
				flipped := append([]byte(nil), block...)
				flipped[at] ^= 0x41
				cases = append(cases, damage{fmt.Sprintf("byte %d flipped, CRC matching", at), fixCRC(flipped), true})
			}
		}
		for _, tc := range cases {
			dir := rebuild(tc.comp)
			r, err := Open(dir, id, s)
			if err != nil {
				t.Fatalf("%v: %s: the damage is caught by Open already: %v", c, tc.name, err)
			}
			for doc := sr.first[blk]; doc < sr.first[blk+1]; doc++ {
				_, err := r.Document(doc)
				if err == nil && tc.mayDecode {
					continue
				}
				if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), fileName(id, kindStore)) {
					t.Fatalf("%v: %s: Document(%d) = %v, want ErrCorrupt naming the store file", c, tc.name, doc, err)
				}
			}
			for _, doc := range []uint32{0, sr.first[blk+1], uint32(len(docs) - 1)} {
				got, err := r.Document(doc)
				if err != nil || !docsEqual(got, storedOnly(s, docs[doc])) {
					t.Fatalf("%v: %s: Document(%d) of an undamaged block = %v", c, tc.name, doc, err)
				}
			}
			r.Close()
		}
	}
}

// TestStoredBadHeader: a store of an unknown codec is corrupt, and one of
// an unknown version is refused naming it, both at Open.
func TestStoredBadHeader(t *testing.T) {
	s := corpusSchema(t)
	base := storage.NewMem()
	id, _ := buildSegment(t, s, generatedDocs(30, 1), base)
	name := fileName(id, kindStore)
	dir := withPayload(t, base, id, kindStore, func(b []byte) []byte { b[0] = 7; return b })
	if _, err := Open(dir, id, s); !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), "codec 7") {
		t.Fatalf("Open of a store with codec 7: %v, want ErrCorrupt naming the codec", err)
	}
	dir = copySegment(t, base, id, nil)
	payload, _ := readPayload(t, dir, name, kindStore)
	rewriteFile(t, dir, name, kindStore, storeVersion+1, payload)
	if _, err := Open(dir, id, s); err == nil || !strings.Contains(err.Error(), "unsupported store format version 4") {
		t.Fatalf("Open of a store of version 4: %v", err)
	}
}

// TestStoredCompressionSchemaJSON: "stored_compression" round-trips
// through the schema JSON, is left out at the default, and an unknown
// codec is an error naming it.
func TestStoredCompressionSchemaJSON(t *testing.T) {
	const fields = `"fields":[{"name":"id","type":"keyword","indexed":true,"stored":true}]`
	for _, tc := range []struct {
		in   string
		want StoredCompression
		out  string
	}{
		{`{` + fields + `}`, StoredS2, `{` + fields + `}`},
		{`{` + fields + `,"stored_compression":"s2"}`, StoredS2, `{` + fields + `}`},
		{`{` + fields + `,"stored_compression":"zstd"}`, StoredZstd, `{` + fields + `,"stored_compression":"zstd"}`},
	} {
		s, err := ParseSchema([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if s.StoredCompression() != tc.want {
			t.Fatalf("%s: codec %v, want %v", tc.in, s.StoredCompression(), tc.want)
		}
		out, err := json.Marshal(s)
		if err != nil || string(out) != tc.out {
			t.Fatalf("%s: marshals to %s (%v), want %s", tc.in, out, err, tc.out)
		}
	}
	if _, err := ParseSchema([]byte(`{` + fields + `,"stored_compression":"lz4"}`)); err == nil || !strings.Contains(err.Error(), `"lz4"`) {
		t.Fatalf("stored_compression lz4: %v", err)
	}
	if s := corpusSchema(t); !s.WithStoredCompression(StoredZstd).Equal(s) {
		t.Fatal("the codec makes schemas unequal; segments of both open with either")
	}
}

// TestMergeAcrossStoredCodecs merges the version 2 golden segment (zstd,
// no header) with segments of each codec into a segment of each codec:
// the result is the segment a direct build with the target's codec
// writes, byte for byte (the schema's stored-only field makes the merge
// rewrite every record).
func TestMergeAcrossStoredCodecs(t *testing.T) {
	dir, meta := openStoreV2(t)
	docs := generatedDocs(120, 51)
	rng := rand.New(rand.NewPCG(51, 51))
	for _, target := range storedCodecs {
		s := corpusSchema(t).WithStoredCompression(target)
		srcs := []source{openWithDeletes(t, s, dir, meta.ID, storeV2Docs(t), 0.1, rng)}
		for i, c := range storedCodecs {
			srcs = append(srcs, openSource(t, corpusSchema(t).WithStoredCompression(c), dir, docs[i*60:(i+1)*60], 0.1, rng))
		}
		merged, err := Merge(context.Background(), dir, s, NewID(), readers(srcs))
		if err != nil {
			t.Fatal(err)
		}
		checkMerged(t, s, dir, merged, live(srcs), true)
	}
}

// TestMergeCopiesBlocksOfItsCodec: with no stored-only field, a merge
// copies the blocks of the sources with its schema's codec still
// compressed, and recompresses those of the others; every document reads
// back.
func TestMergeCopiesBlocksOfItsCodec(t *testing.T) {
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
	docs := generatedDocs(200, 61) // without raw values
	rng := rand.New(rand.NewPCG(61, 61))
	dir := storage.NewMem()
	for _, target := range storedCodecs {
		ts := s.WithStoredCompression(target)
		var srcs []source
		var copied []int64 // block sizes of the source with the target's codec
		for i, c := range storedCodecs {
			src := openSource(t, s.WithStoredCompression(c), dir, docs[i*100:(i+1)*100], 0, rng)
			if c == target {
				st := src.r.core.store
				for b := range st.first {
					copied = append(copied, st.offs[b+1]-st.offs[b])
				}
			}
			srcs = append(srcs, src)
		}
		merged, err := Merge(context.Background(), dir, ts, NewID(), readers(srcs))
		if err != nil {
			t.Fatal(err)
		}
		checkMergedStore(t, ts, dir, merged, live(srcs), true, true)
		_, _, st := storeLayout(t, dir, ts, merged.ID)
		if st.codec != target {
			t.Fatalf("merged into %v: store codec %v", target, st.codec)
		}
		var got []int64
		for b := range st.first {
			got = append(got, st.offs[b+1]-st.offs[b])
		}
		// The S2 source comes first: its blocks lead a merge into S2; the
		// zstd source's blocks end a merge into zstd.
		if target == StoredS2 && !slices.Equal(got[:len(copied)], copied) || target == StoredZstd && !slices.Equal(got[len(got)-len(copied):], copied) {
			t.Fatalf("merged into %v: blocks of %v bytes, want the %v source's %v copied", target, got, target, copied)
		}
	}
}

// BenchmarkMergeStored merges two segments of 2,000 benchmark documents
// each: into the sources' codec, which copies their stored blocks still
// compressed, and into the other codec, which recompresses every block.
// CPU ns per merged document for the whole merge.
func BenchmarkMergeStored(b *testing.B) {
	docs, _ := benchDocuments(b)
	for _, src := range storedCodecs {
		s := benchSchema(b).WithStoredCompression(src)
		dir := storage.NewMem()
		var readers []*Reader
		for i := range 2 {
			id, _ := buildSegment(b, s, docs[i*2000:(i+1)*2000], dir)
			r, err := Open(dir, id, s)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			readers = append(readers, r)
		}
		for _, target := range storedCodecs {
			b.Run(fmt.Sprintf("from=%v/to=%v", src, target), func(b *testing.B) {
				ts := s.WithStoredCompression(target)
				cpu := processCPU()
				for b.Loop() {
					meta, err := Merge(context.Background(), dir, ts, NewID(), readers)
					if err != nil {
						b.Fatal(err)
					}
					for _, name := range meta.Files {
						if err := dir.Remove(name); err != nil {
							b.Fatal(err)
						}
					}
				}
				reportPerDoc(b, processCPU()-cpu, 4000)
			})
		}
	}
}

// TestStoredWriterLayout: records written in place (startDoc, addValue,
// endDoc) make the store FORMAT.md describes, byte for byte as one
// assembled from whole records: blocks cut after the record that reaches
// storedBlockBytes, each the record count and lengths, then the records.
// The records include a count of 200 values (a two-byte count), runs of
// tiny records (a header past the room first kept for it), large ones, and
// a record begun and never ended (dropped).
func TestStoredWriterLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 15))
	type doc struct {
		ords []int
		vals []FieldValue
	}
	var docs []doc
	for i := 0; i < 3000; i++ {
		var d doc
		n := 1
		switch {
		case i%500 == 7:
			n = 200
		case i%3 == 0:
			n = rng.IntN(4)
		}
		size := 2
		if i%1000 > 900 {
			size = rng.IntN(20000)
		} else if i%1000 > 400 {
			size = rng.IntN(600)
		}
		for j := 0; j < n; j++ {
			d.ords = append(d.ords, j%5)
			b := make([]byte, rng.IntN(size+1))
			for k := range b {
				b[k] = byte('a' + rng.IntN(4))
			}
			d.vals = append(d.vals, FieldValue{Kind: KindBytes, Bytes: b})
		}
		docs = append(docs, d)
	}
	for _, c := range storedCodecs {
		// The reference: whole records, assembled behind their header.
		var want []byte
		var index []byte
		var recs [][]byte
		var raw int
		blocks := 0
		cut := func() {
			block := binary.AppendUvarint(nil, uint64(len(recs)))
			for _, r := range recs {
				block = binary.AppendUvarint(block, uint64(len(r)))
			}
			for _, r := range recs {
				block = append(block, r...)
			}
			comp, err := compressStored(c, nil, block)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, comp...)
			index = binary.AppendUvarint(index, uint64(len(recs)))
			index = binary.AppendUvarint(index, uint64(len(comp)))
			recs, raw = recs[:0], 0
			blocks++
		}
		want = append(want, byte(c))
		for _, d := range docs {
			rec := binary.AppendUvarint(nil, uint64(len(d.ords)))
			for j := range d.ords {
				rec = appendStoredValue(rec, d.ords[j], &d.vals[j])
			}
			recs = append(recs, rec)
			if raw += len(rec); raw >= storedBlockBytes {
				cut()
			}
		}
		if len(recs) > 0 {
			cut()
		}
		idxOff := len(want)
		want = binary.LittleEndian.AppendUint64(append(want, index...), uint64(idxOff))
		want = binary.LittleEndian.AppendUint32(want, uint32(blocks))
		want = binary.LittleEndian.AppendUint32(want, uint32(len(docs)))

		var got []byte
		var w storedWriter
		w.reset(c, func(p []byte) error { got = append(got, p...); return nil })
		for i, d := range docs {
			if i == 1234 { // begun, given values, never ended
				w.startDoc()
				w.addValue(1, &FieldValue{Kind: KindString, Str: "dropped"})
			}
			w.startDoc()
			for j := range d.ords {
				w.addValue(d.ords[j], &d.vals[j])
			}
			if err := w.endDoc(len(d.ords)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.finish(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%v: a store of %d bytes, want %d, or other bytes", c, len(got), len(want))
		}
		if w.head <= storedHeadroom {
			t.Fatalf("%v: the header room stayed at %d: no block had a larger header", c, w.head)
		}
	}
}
