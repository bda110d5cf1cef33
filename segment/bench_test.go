package segment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/vellum"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// fullCorpus is the benchmark corpus (see /work/shared/DESIGN.md); the
// benchmarks fall back to the excerpt in testdata when it is absent.
const fullCorpus = "../../shared/corpus/realmix.jsonl.gz"

var benchDocs struct {
	once sync.Once
	recs [][3]string
}

// benchRecords returns the first 20,000 realmix records (about 14 MB of
// text), read once.
// benchDocuments returns the benchmark records as documents (id, title,
// text) and the bytes of their title and text.
func benchDocuments(b *testing.B) ([]*Document, int64) {
	recs := benchRecords(b)
	docs := make([]*Document, len(recs))
	var size int64
	for i, r := range recs {
		docs[i] = new(Document).AddString("id", r[0]).AddString("title", r[1]).AddString("text", r[2])
		size += int64(len(r[1]) + len(r[2]))
	}
	return docs, size
}

func benchRecords(b *testing.B) [][3]string {
	benchDocs.once.Do(func() {
		path := "testdata/realmix-head.jsonl.gz"
		// From a clone, or from a git worktree one level deeper.
		for _, p := range []string{fullCorpus, "../" + fullCorpus} {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
		benchDocs.recs = readRealmix(b, path, 20000)
	})
	return benchDocs.recs
}

// benchSchema is the indexing setup of DESIGN.md's peer numbers: the text
// analyzed without positions, plus a stored id and title.
func benchSchema(b *testing.B) *Schema {
	s, err := NewSchema(
		Field{Name: "id", Type: TypeKeyword, Indexed: true, Stored: true, Primary: true},
		Field{Name: "title", Type: TypeText, Indexed: true, Stored: true},
		Field{Name: "text", Type: TypeText, Indexed: true, Stored: true},
	)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkBuild measures single-core indexing throughput from the first
// Add to the end of Build, in MB/s of title+text.
func BenchmarkBuild(b *testing.B) {
	s := benchSchema(b)
	docs, size := benchDocuments(b)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bl := NewBuilder(s, toks)
		for _, d := range docs {
			if err := bl.Add(d); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bl.Build(storage.NewMem(), NewID()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkPostingsIterate walks every posting of the most frequent terms
// of the text field; the metric is postings per second.
func BenchmarkPostingsIterate(b *testing.B) {
	s := benchSchema(b)
	dir := storage.NewMem()
	docs, _ := benchDocuments(b)
	id, _ := buildSegment(b, s, docs, dir)
	r, err := Open(dir, id, s)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	terms := [][]byte{[]byte("the"), []byte("of"), []byte("a"), []byte("to"), []byte("in"), []byte("is"), []byte("for")}
	var total int
	for _, t := range terms {
		n, _ := r.DocFreq("text", t)
		total += int(n)
	}
	b.ResetTimer()
	var sum uint64
	for i := 0; i < b.N; i++ {
		for _, t := range terms {
			p, err := r.Postings("text", t)
			if err != nil || p == nil {
				b.Fatal(err)
			}
			for d := p.Doc(); d != NoMoreDocs; d = p.Next() {
				sum += uint64(p.Freq())
			}
		}
	}
	b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "postings/s")
	if sum == 0 {
		b.Fatal("no postings")
	}
}

// BenchmarkBuildParts measures the parts of writing a segment on their
// own, on the same 20,000 documents as BenchmarkBuild: sorting the term ids
// by their bytes, building the FSTs from the sorted terms, encoding the
// postings, writing the documents' stored values as records and
// compressing them (which Add does, block by block), the rest of Build
// (norms, fast and key columns, meta, fsyncs to a memory directory), and
// the whole of Build for comparison. Each reports
// cpu-ms/seg, the process CPU time per segment of these documents (so the
// parts add up and other processes on the machine do not count), and the
// term parts also cpu-ns/term.
func BenchmarkBuildParts(b *testing.B) {
	s := benchSchema(b)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	docs, _ := benchDocuments(b)
	filled := func() *Builder {
		bl := NewBuilder(s, toks)
		for _, d := range docs {
			if err := bl.Add(d); err != nil {
				b.Fatal(err)
			}
		}
		return bl
	}
	bl := filled()
	bl.syncTerms()
	terms := 0
	sorted := make([][]prefixedID, len(bl.indexed))
	for i, fx := range bl.indexed {
		sorted[i] = sortTerms(fx.hash, fx.terms.n, nil)
		terms += len(sorted[i])
	}
	// measure runs part b.N times and reports its CPU time.
	measure := func(b *testing.B, perTerm bool, part func()) {
		cpu := processCPU()
		for b.Loop() {
			part()
		}
		reportCPU(b, processCPU()-cpu, perTerm, terms)
	}
	b.Run("sort", func(b *testing.B) {
		var keys []prefixedID
		measure(b, true, func() {
			for _, fx := range bl.indexed {
				keys = sortTerms(fx.hash, fx.terms.n, keys)
			}
		})
	})
	b.Run("fst", func(b *testing.B) {
		dw := &dictWriter{w: storage.NewChecksumWriter(discardFile{})}
		var buf [8]byte
		measure(b, true, func() {
			for i, fx := range bl.indexed {
				if err := dw.startField(fx.ord); err != nil {
					b.Fatal(err)
				}
				for j, k := range sorted[i] {
					if err := dw.add(k.term(fx.hash, &buf), uint64(j)); err != nil {
						b.Fatal(err)
					}
				}
				if err := dw.finishField(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	writePostings := func(pw *postingsWriter, dec *termDecoder) {
		for i, fx := range bl.indexed {
			err := bl.writeFieldPostings(pw, dec, fx, sorted[i], func(*prefixedID, uint64) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("postings", func(b *testing.B) {
		pw := &postingsWriter{post: storage.NewChecksumWriter(discardFile{}), pos: storage.NewChecksumWriter(discardFile{})}
		var dec termDecoder
		measure(b, true, func() { writePostings(pw, &dec) })
	})
	// postings-cold is postings with the builder's memory out of the CPU's
	// caches, as when Build follows the inversion of a full-size builder
	// (hundreds of MB, where this one holds a few that postings leaves in
	// the caches for its next round): each round first writes a buffer
	// larger than the caches, outside the CPU time measured.
	b.Run("postings-cold", func(b *testing.B) {
		pw := &postingsWriter{post: storage.NewChecksumWriter(discardFile{}), pos: storage.NewChecksumWriter(discardFile{})}
		var dec termDecoder
		evict := make([]byte, 256<<20)
		var cpu time.Duration
		for b.Loop() {
			for i := 0; i < len(evict); i += 64 {
				evict[i]++
			}
			start := processCPU()
			writePostings(pw, &dec)
			cpu += processCPU() - start
		}
		reportCPU(b, cpu, true, terms)
	})
	b.Run("stored", func(b *testing.B) {
		// The records as Add makes them, from the documents' values.
		ords := make([][]int, len(docs))
		var raw int64
		for i, d := range docs {
			rec := binary.AppendUvarint(nil, uint64(len(d.Values)))
			for j := range d.Values {
				ords[i] = append(ords[i], s.FieldIndex(d.Values[j].Field))
				rec = appendStoredValue(rec, ords[i][j], &d.Values[j])
			}
			raw += int64(len(rec))
		}
		var sw storedWriter
		var size int64
		write := func(p []byte) error { size += int64(len(p)); return nil }
		measure(b, false, func() {
			size = 0
			sw.reset(StoredS2, write)
			for i, d := range docs {
				sw.startDoc()
				for j := range d.Values {
					sw.addValue(ords[i][j], &d.Values[j])
				}
				if err := sw.endDoc(len(d.Values)); err != nil {
					b.Fatal(err)
				}
			}
			if err := sw.finish(); err != nil {
				b.Fatal(err)
			}
		})
		b.ReportMetric(float64(size)/float64(raw), "size/raw")
	})
	b.Run("rest", func(b *testing.B) {
		measure(b, false, func() {
			sw := newSegmentWriter(storage.NewMem(), NewID())
			sw.keywords = newKeywordCollector(s, bl.numDocs)
			if err := bl.writeNorms(sw); err != nil {
				b.Fatal(err)
			}
			if err := bl.writeFast(sw); err != nil {
				b.Fatal(err)
			}
			if _, err := writeMeta(sw, s, bl.numDocs, nil); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("build", func(b *testing.B) {
		var cpu time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			bl := filled()
			b.StartTimer()
			start := processCPU()
			if _, err := bl.Build(storage.NewMem(), NewID()); err != nil {
				b.Fatal(err)
			}
			cpu += processCPU() - start
		}
		reportCPU(b, cpu, true, terms)
	})
}

// reportCPU reports the CPU time of b.N segment writes, or of a part of
// them, per segment and, for the parts that handle terms, per term.
func reportCPU(b *testing.B, cpu time.Duration, perTerm bool, terms int) {
	b.ReportMetric(float64(cpu.Nanoseconds())/1e6/float64(b.N), "cpu-ms/seg")
	if perTerm {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*terms), "cpu-ns/term")
	}
}

// discardFile is a file that keeps nothing, so that a benchmark of
// encoding measures no file system.
type discardFile struct{}

func (discardFile) Write(p []byte) (int, error) { return len(p), nil }
func (discardFile) Sync() error                 { return nil }
func (discardFile) Close() error                { return nil }
func (discardFile) Name() string                { return "discard" }

// reportCPURate reports MB per CPU second of a loop that handled bytes per
// iteration on one goroutine: unlike MB/s, it does not drop when other
// processes take the CPU.
func reportCPURate(b *testing.B, bytes int64, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/1e6/cpu.Seconds(), "MB/CPU-s")
	}
}

// BenchmarkFSTRegistry builds the term dictionaries of the BenchmarkBuild
// documents with several sizes of vellum's suffix registry, and none: CPU
// ns per term and the FSTs' total bytes. It chose fstOptions.
func BenchmarkFSTRegistry(b *testing.B) {
	recs := benchRecords(b)
	s := benchSchema(b)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	bl := NewBuilder(s, toks)
	for _, r := range recs {
		if err := bl.Add(new(Document).AddString("id", r[0]).AddString("title", r[1]).AddString("text", r[2])); err != nil {
			b.Fatal(err)
		}
	}
	terms := 0
	sorted := make([][]uint32, len(bl.indexed))
	for i, fx := range bl.indexed {
		sorted[i] = fx.sortedTermIDs(nil)
		terms += len(sorted[i])
	}
	for _, o := range []vellum.BuilderOpts{
		{Encoder: 1, RegistryTableSize: 10000, RegistryMRUSize: 2}, // vellum's default
		{Encoder: 1, RegistryTableSize: 2500, RegistryMRUSize: 2},
		{Encoder: 1, RegistryTableSize: 1000, RegistryMRUSize: 2},
		{Encoder: 1, RegistryTableSize: 500, RegistryMRUSize: 2},
		{Encoder: 1, RegistryTableSize: 2000, RegistryMRUSize: 1},
		{Encoder: 1, RegistryTableSize: 1000, RegistryMRUSize: 1},
		{Encoder: 1, RegistryTableSize: 500, RegistryMRUSize: 1},
		{Encoder: 1, RegistryTableSize: 100, RegistryMRUSize: 1},
		fstOptions, // no registry
	} {
		name := fmt.Sprintf("table=%d/mru=%d", o.RegistryTableSize, o.RegistryMRUSize)
		if o.RegistryTableSize == 0 {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			var size int
			cpu := processCPU()
			for b.Loop() {
				size = 0
				for i, fx := range bl.indexed {
					var buf bytes.Buffer
					f, err := vellum.New(&buf, &o)
					if err != nil {
						b.Fatal(err)
					}
					for j, id := range sorted[i] {
						if err := f.Insert(fx.hash.term(id), uint64(j)); err != nil {
							b.Fatal(err)
						}
					}
					if err := f.Close(); err != nil {
						b.Fatal(err)
					}
					size += buf.Len()
				}
			}
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N*terms), "cpu-ns/term")
			b.ReportMetric(float64(size), "bytes")
		})
	}
}
