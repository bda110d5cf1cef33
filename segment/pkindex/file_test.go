package pkindex

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/hermes-search/hermes-go/storage"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	probes := randomKeys(rng, 20_000, 'z')
	for _, tc := range []struct {
		name     string
		expected uint
		keys     int
	}{
		{"empty", 0, 0},
		{"sized", 5000, 5000},
		{"layered", 1000, 9000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := randomKeys(rng, tc.keys, 'a')
			f := New(tc.expected)
			for _, k := range keys {
				f.Add(k)
			}
			f.MarkCovered("seg-b", "seg-a", strings.Repeat("x", 300))
			dir := storage.NewMem()
			if err := Save(dir, f); err != nil {
				t.Fatal(err)
			}
			g, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g.Covers(), f.Covers()) {
				t.Errorf("Covers after load %v, want %v", g.Covers(), f.Covers())
			}
			if g.Stats() != f.Stats() {
				t.Errorf("Stats after load %+v, want %+v", g.Stats(), f.Stats())
			}
			for i, k := range keys {
				if !g.MayContain(k) {
					t.Fatalf("key %d lost in the round trip", i)
				}
			}
			// Same bits: the same answer for keys never added.
			for _, k := range probes {
				if g.MayContain(k) != f.MayContain(k) {
					t.Fatalf("probe %x: loaded filter says %v, saved one %v", k, g.MayContain(k), f.MayContain(k))
				}
			}
			// The loaded filter keeps working: adds, and saves again the same.
			g.Add([]byte("new key"))
			if !g.MayContain([]byte("new key")) {
				t.Error("loaded filter lost a new key")
			}
			if err := Save(dir, g); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(storage.NewMem())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of an empty directory: %v, want fs.ErrNotExist", err)
	}
}

// smallFile returns the bytes of a saved filter with a few keys.
func smallFile(t *testing.T) []byte {
	t.Helper()
	f := New(0)
	for _, k := range randomKeys(rand.New(rand.NewPCG(7, 7)), 50, 'a') {
		f.Add(k)
	}
	f.MarkCovered("s1", "s2")
	dir := storage.NewMem()
	if err := Save(dir, f); err != nil {
		t.Fatal(err)
	}
	data, err := storage.ReadAll(dir, FileName)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func wantCorrupt(t *testing.T, what string, err error) {
	t.Helper()
	var ce *storage.CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: Load error %v (%T), want *storage.CorruptError", what, err, err)
	}
	if ce.File != FileName {
		t.Fatalf("%s: CorruptError names %q, want %q", what, ce.File, FileName)
	}
}

// TestLoadCorrupt flips every byte of a small file, and truncates it at
// every length: Load must report a CorruptError each time.
func TestLoadCorrupt(t *testing.T) {
	data := smallFile(t)
	dir := storage.NewMem()
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0xff
		if err := dir.WriteAtomic(FileName, bad); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		wantCorrupt(t, fmt.Sprintf("byte %d of %d flipped", i, len(data)), err)
	}
	for n := range len(data) {
		if err := dir.WriteAtomic(FileName, data[:n]); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		wantCorrupt(t, fmt.Sprintf("truncated to %d of %d bytes", n, len(data)), err)
	}
}

// layoutPayload builds a payload by hand, following the layout documented
// on Save, for one layer of m bits holding keys.
type layoutPayload struct {
	canary   uint64
	ids      []string
	layers   uint32
	capacity uint64
	count    uint64
	k        uint32
	m        uint64
	keys     [][]byte
	trailing int
}

func validLayout() layoutPayload {
	return layoutPayload{canary: hashCanary(), ids: []string{"a", "b"}, layers: 1,
		capacity: 1024, count: 2, k: 7, m: 64 * 160, keys: [][]byte{[]byte("k1"), []byte("k2")}}
}

func (p layoutPayload) bytes() []byte {
	le := binary.LittleEndian
	b := le.AppendUint64(nil, p.canary)
	b = le.AppendUint32(b, uint32(len(p.ids)))
	for _, id := range p.ids {
		b = le.AppendUint16(b, uint16(len(id)))
		b = append(b, id...)
	}
	b = le.AppendUint32(b, p.layers)
	b = le.AppendUint64(b, p.capacity)
	b = le.AppendUint64(b, p.count)
	b = le.AppendUint32(b, p.k)
	b = le.AppendUint64(b, p.m)
	words := make([]uint64, p.m/64)
	for _, key := range p.keys {
		for _, loc := range bloom.Locations(key, uint(p.k)) {
			bit := loc % p.m
			words[bit/64] |= 1 << (bit % 64)
		}
	}
	for _, w := range words {
		b = le.AppendUint64(b, w)
	}
	return append(b, make([]byte, p.trailing)...)
}

// writeChecksummed stores payload as pk_bloom.bin with a valid footer.
func writeChecksummed(t *testing.T, dir storage.Directory, payload []byte, version uint32) {
	t.Helper()
	var file memFile
	w := storage.NewChecksumWriter(&file)
	if _, err := w.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish([4]byte{'H', 'P', 'K', 'B'}, version); err != nil {
		t.Fatal(err)
	}
	if err := dir.WriteAtomic(FileName, file.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// TestLoadDocumentedLayout writes a file by hand from the documented layout
// and checks that Load reads it: the keys set in it, the covered IDs.
func TestLoadDocumentedLayout(t *testing.T) {
	dir := storage.NewMem()
	writeChecksummed(t, dir, validLayout().bytes(), 1)
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !f.MayContain([]byte("k1")) || !f.MayContain([]byte("k2")) {
		t.Error("keys set by hand are not found")
	}
	if got := f.Covers(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Covers = %v, want [a b]", got)
	}
	if st := f.Stats(); st.Keys != 2 || st.Capacity != 1024 || st.Bytes != 160*8 {
		t.Errorf("Stats = %+v", st)
	}
	// Save writes the same bytes for what it loaded.
	if err := Save(dir, f); err != nil {
		t.Fatal(err)
	}
	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g.encode(), validLayout().bytes()) {
		t.Error("Save did not write the documented layout")
	}
}

// TestLoadInvalidContent checks content that passes the checksum but is
// wrong (a writer bug, or a file from elsewhere): corrupt or unsupported,
// never a panic or a huge allocation.
func TestLoadInvalidContent(t *testing.T) {
	for _, tc := range []struct {
		name        string
		edit        func(*layoutPayload)
		version     uint32
		unsupported bool
	}{
		{name: "other hash function", edit: func(p *layoutPayload) { p.canary++ }, unsupported: true},
		{name: "newer version", version: 2, unsupported: true},
		{name: "no layers", edit: func(p *layoutPayload) { p.layers = 0 }},
		{name: "too many layers", edit: func(p *layoutPayload) { p.layers = 1000 }},
		{name: "declared layer missing", edit: func(p *layoutPayload) { p.layers = 2 }},
		{name: "bytes after the last layer", edit: func(p *layoutPayload) { p.trailing = 3 }},
		{name: "unsorted ids", edit: func(p *layoutPayload) { p.ids = []string{"b", "a"} }},
		{name: "repeated id", edit: func(p *layoutPayload) { p.ids = []string{"a", "a"} }},
		{name: "empty id", edit: func(p *layoutPayload) { p.ids = []string{""} }},
		{name: "keys over capacity", edit: func(p *layoutPayload) { p.count = 1025 }},
		{name: "zero capacity", edit: func(p *layoutPayload) { p.capacity, p.count = 0, 0 }},
		{name: "no hash functions", edit: func(p *layoutPayload) { p.k = 0 }},
		{name: "bits not whole words", edit: func(p *layoutPayload) { p.m = 64*160 + 8 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validLayout()
			if tc.edit != nil {
				tc.edit(&p)
			}
			payload := p.bytes()
			if tc.name == "bits not whole words" {
				payload = payload[:len(payload)-8] // the words written for m rounded down
			}
			version := cmp.Or(tc.version, 1)
			dir := storage.NewMem()
			writeChecksummed(t, dir, payload, version)
			_, err := Load(dir)
			if tc.unsupported {
				if !errors.Is(err, ErrUnsupported) || errors.Is(err, storage.ErrCorrupt) {
					t.Fatalf("Load: %v, want ErrUnsupported", err)
				}
				return
			}
			wantCorrupt(t, tc.name, err)
			t.Log(err)
		})
	}
	t.Run("huge bit count", func(t *testing.T) {
		p := validLayout()
		b := p.bytes()
		// m is the last field before the words: claim 2^60 bits.
		off := len(b) - int(p.m/8) - 8
		binary.LittleEndian.PutUint64(b[off:], 1<<60)
		dir := storage.NewMem()
		writeChecksummed(t, dir, b, 1)
		_, err := Load(dir)
		wantCorrupt(t, "huge bit count", err)
	})
}
