package segment

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// copySegment copies the files of segment id into a new directory,
// passing each through mutate (nil: unchanged).
func copySegment(t *testing.T, src storage.Directory, id ID, mutate func(name string, data []byte) []byte) storage.Directory {
	t.Helper()
	dst := storage.NewMem()
	for _, name := range SegmentFiles(id) {
		data, err := storage.ReadAll(src, name)
		if err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			data = mutate(name, append([]byte(nil), data...))
		}
		copyFile(t, dst, name, data)
	}
	return dst
}

func corruptionFixture(t *testing.T) (*Schema, storage.Directory, ID) {
	t.Helper()
	s := corpusSchema(t)
	dir := storage.NewMem()
	// Enough documents for multi-block postings and several stored blocks.
	docs := append(corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 60), 1), generatedDocs(260, 2)...)
	id, _ := buildSegment(t, s, docs, dir)
	if r, err := Open(copySegment(t, dir, id, nil), id, s); err != nil {
		t.Fatalf("an unchanged copy does not open: %v", err)
	} else {
		r.Close()
	}
	return s, dir, id
}

// TestOpenDetectsCorruption flips bytes of, and truncates, every file of a
// segment. Truncation, and damage to a footer or a file's structure, must
// make Open fail; a flipped payload byte must be caught by Open or, at the
// latest, by CheckIntegrity (Open does not hash the files it maps). Either
// way the error wraps storage.ErrCorrupt and names the damaged file.
func TestOpenDetectsCorruption(t *testing.T) {
	s, dir, id := corruptionFixture(t)
	for _, name := range SegmentFiles(id) {
		size, err := dir.FileSize(name)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, structural bool, mutate func([]byte) []byte) {
			t.Helper()
			d := copySegment(t, dir, id, func(n string, data []byte) []byte {
				if n == name {
					return mutate(data)
				}
				return data
			})
			r, err := Open(d, id, s)
			if err == nil {
				err = r.CheckIntegrity()
				r.Close()
				if err == nil || structural {
					t.Errorf("%s: %s: Open succeeded (CheckIntegrity: %v)", name, what, err)
					return
				}
			}
			if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: %s: error %q does not wrap ErrCorrupt naming the file", name, what, err)
			}
		}
		for _, at := range []int64{0, 1, size / 3, size / 2, size - storage.FooterSize - 1, size - storage.FooterSize, size - 20, size - 12, size - 1} {
			if at < 0 || at >= size {
				continue
			}
			// The footer's checksum field is the one footer byte that
			// only the checksum check can catch.
			inFooter := at >= size-storage.FooterSize && (at < size-12 || at >= size-4)
			check("flip byte "+itoa(at), inFooter, func(b []byte) []byte { b[at] ^= 0x40; return b })
		}
		for _, n := range []int64{0, 1, size / 2, size - storage.FooterSize, size - 1} {
			check("truncate to "+itoa(n), true, func(b []byte) []byte { return b[:n] })
		}
		check("append a byte", true, func(b []byte) []byte { return append(b, 0) })
	}
	// A missing file is an error too (not ErrCorrupt: the file is gone).
	for _, name := range SegmentFiles(id) {
		d := copySegment(t, dir, id, nil)
		if err := d.Remove(name); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(d, id, s); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Open without %s: %v", name, err)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestGarbageWithValidChecksumNeverPanics rewrites each file with random
// damage under a freshly computed, valid footer, so the checksum passes
// and the parsers themselves meet the garbage. Open may fail or succeed;
// reading everything it offers must not panic.
func TestGarbageWithValidChecksumNeverPanics(t *testing.T) {
	s, dir, id := corruptionFixture(t)
	rng := rand.New(rand.NewPCG(42, 42))
	kinds := map[string]fileKind{}
	for _, k := range allKinds {
		kinds[fileName(id, k)] = k
	}
	rounds := 12
	if testing.Short() {
		rounds = 5
	}
	opened := map[string]int{}
	for _, name := range SegmentFiles(id) {
		k := kinds[name]
		for round := 0; round < rounds; round++ {
			d := copySegment(t, dir, id, nil)
			payload, ver := readPayload(t, d, name, k)
			payload = append([]byte(nil), payload...)
			switch rng.IntN(3) {
			case 0: // flip a few bytes
				for i := 0; i < 1+rng.IntN(4) && len(payload) > 0; i++ {
					payload[rng.IntN(len(payload))] ^= byte(1 + rng.IntN(255))
				}
			case 1: // cut the payload short
				payload = payload[:rng.IntN(len(payload)+1)]
			default: // overwrite a run with random bytes
				if len(payload) > 0 {
					at := rng.IntN(len(payload))
					for i := at; i < min(len(payload), at+1+rng.IntN(16)); i++ {
						payload[i] = byte(rng.Uint32())
					}
				}
			}
			rewriteFile(t, d, name, k, ver, payload)
			if k != kindMeta {
				// The meta file records sizes; keep it consistent so the
				// damage reaches the parsers.
				metaName := fileName(id, kindMeta)
				mp, mver := readPayload(t, d, metaName, kindMeta)
				var m map[string]any
				if err := json.Unmarshal(mp, &m); err != nil {
					t.Fatal(err)
				}
				m["files"].(map[string]any)[name] = len(payload) + storage.FooterSize
				mp, _ = json.Marshal(m)
				rewriteFile(t, d, metaName, kindMeta, mver, mp)
			}
			r, err := Open(d, id, s)
			if err != nil {
				if !errors.Is(err, storage.ErrCorrupt) {
					t.Errorf("%s: damaged payload gave an error not wrapping ErrCorrupt: %v", name, err)
				}
				continue
			}
			opened[name]++
			readEverything(r, s)
			r.Close()
		}
	}
	t.Logf("damaged files that still opened (reaching lazy parsers): %v", opened)
}

// readEverything touches all data a reader offers, ignoring errors.
func readEverything(r *Reader, s *Schema) {
	var buf []uint32
	for _, f := range s.Fields() {
		if f.Indexed {
			var terms [][]byte
			_ = r.Terms(f.Name, nil, func(term []byte) bool {
				terms = append(terms, append([]byte(nil), term...))
				return len(terms) < 300
			})
			for i, term := range terms {
				_, _ = r.DocFreq(f.Name, term)
				p, err := r.Postings(f.Name, term)
				if err != nil || p == nil {
					continue
				}
				if i%2 == 0 {
					for d := p.Doc(); d != NoMoreDocs; d = p.Next() {
						buf = p.Positions(buf)
						_ = p.Freq()
					}
				} else {
					for target := uint32(0); target < r.NumDocs()+10; target += 37 {
						p.BlockMax(target)
						p.Advance(target)
						buf = p.Positions(buf)
					}
				}
			}
		}
		if f.Fast {
			if c, err := r.Fast(f.Name); err == nil {
				for d := uint32(0); d <= r.NumDocs(); d++ {
					c.U64(d)
					c.I64(d)
					c.F64(d)
				}
			}
		}
		for d := uint32(0); d <= r.NumDocs(); d++ {
			r.FieldNorm(f.Name, d)
		}
	}
	for d := uint32(0); d < r.NumDocs(); d++ {
		_, _ = r.Document(d)
	}
}

func rewriteFile(t *testing.T, d storage.Directory, name string, k fileKind, ver uint32, payload []byte) {
	t.Helper()
	if err := d.Remove(name); err != nil {
		t.Fatal(err)
	}
	w, err := d.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	cw := storage.NewChecksumWriter(w)
	if _, err := cw.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := cw.Finish(k.kind, ver); err != nil {
		t.Fatal(err)
	}
}

// tryBuild adds docs to a builder of s and builds them into dir, returning
// Build's error: for tests of write failures.
func tryBuild(t *testing.T, s *Schema, toks map[string]analysis.Tokenizer, docs []*Document, dir storage.Directory) (ID, error) {
	t.Helper()
	b := NewBuilder(s, toks)
	for _, d := range docs {
		if err := b.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	id := NewID()
	_, err := b.Build(dir, id)
	return id, err
}

// TestBuildFailsCleanlyAtEveryIOError injects an I/O error at each
// mutating operation of Build in turn (pebble's error-injection loop):
// Build must return that error, never panic, and the directory must stay
// usable for the next segment.
func TestBuildFailsCleanlyAtEveryIOError(t *testing.T) {
	s := corpusSchema(t)
	docs := generatedDocs(200, 4)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	build := func(dir storage.Directory) (ID, error) { return tryBuild(t, s, toks, docs, dir) }
	for n := 0; ; n++ {
		dir := storage.NewFaulty(int64(n))
		dir.FailAfter(n)
		_, err := build(dir)
		if err == nil {
			if n < len(allKinds)*2 {
				t.Fatalf("Build succeeded with only %d I/O operations", n)
			}
			break
		}
		if !errors.Is(err, storage.ErrInjected) {
			t.Fatalf("fail after %d: error %v does not wrap the injected error", n, err)
		}
		dir.FailAfter(-1)
		id, err := build(dir)
		if err != nil {
			t.Fatalf("fail after %d: the next Build failed: %v", n, err)
		}
		r, err := Open(dir, id, s)
		if err != nil {
			t.Fatalf("fail after %d: the next segment does not open: %v", n, err)
		}
		r.Close()
	}
}

// readPayload reads a checksummed file of kind k and returns its payload
// and format version.
func readPayload(t testing.TB, d storage.Directory, name string, k fileKind) ([]byte, uint32) {
	t.Helper()
	f, err := d.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	payload, ver, err := storage.ReadVerified(f, k.kind)
	if err != nil {
		t.Fatal(err)
	}
	return payload, ver
}

// TestOpenTruncatedMappedFile truncates each file of a segment on a real
// file system, where Open maps them: Open must report the file as corrupt
// before mapping it (touching lost pages of a mapping raises SIGBUS).
func TestOpenTruncatedMappedFile(t *testing.T) {
	s, mem, id := corruptionFixture(t)
	for _, name := range SegmentFiles(id) {
		path := t.TempDir()
		dir, err := storage.NewFS(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range SegmentFiles(id) {
			data, err := storage.ReadAll(mem, n)
			if err != nil {
				t.Fatal(err)
			}
			if n == name {
				data = data[:len(data)/2]
			}
			copyFile(t, dir, n, data)
		}
		r, err := Open(dir, id, s)
		if err == nil {
			r.Close()
			t.Fatalf("%s truncated: Open succeeded", name)
		}
		if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), name) {
			t.Fatalf("%s truncated: %v, want ErrCorrupt naming the file", name, err)
		}
	}
}
