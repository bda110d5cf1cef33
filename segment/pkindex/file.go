package pkindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/cespare/xxhash/v2"

	"github.com/hermes-search/hermes-go/storage"
)

// FileName is the name of the persisted filter in an index's directory.
const FileName = "pk_bloom.bin"

// FormatVersion is the version of pk_bloom.bin this package writes and the
// only one it reads.
const FormatVersion = 1

// fileKind is the footer kind of pk_bloom.bin.
var fileKind = [4]byte{'H', 'P', 'K', 'B'}

// ErrUnsupported reports a pk_bloom.bin this build cannot use although it
// is intact: another format version, or bit positions computed by a
// different hash function (a changed bloom library). Sync rebuilds it.
var ErrUnsupported = errors.New("pkindex: unsupported filter file")

// hashCanaryKey's bit positions are recorded in the file, so that a file
// whose bits were set by a different hash function (which would give false
// negatives) is refused instead of trusted.
var hashCanaryKey = []byte("hermes pk_bloom.bin hash canary")

// hashCanary summarises the bloom library's bit positions for the canary.
func hashCanary() uint64 {
	var b []byte
	for _, loc := range bloom.Locations(hashCanaryKey, 8) {
		b = binary.LittleEndian.AppendUint64(b, loc)
	}
	return xxhash.Sum64(b)
}

// Save writes f to FileName in dir through WriteAtomic: if it returns nil
// the new file is durable, otherwise the old one (if any) is intact. Only
// the holder of the directory's writer lock may call it. Keys added while
// Save runs may or may not be in the file, but a segment is in the file's
// covered list only if its keys are.
//
// Layout: a checksummed payload followed by the storage footer (see
// storage.ChecksumWriter: kind "HPKB", FormatVersion, payload length,
// xxhash64 over payload and footer, magic "HRMF"). All integers are
// little-endian.
//
//	payload:
//	  u64  hash canary: xxhash64 of the bloom library's first 8 bit
//	       positions (before the modulo) of a fixed key, as 8 u64s; a
//	       mismatch means another hash function set the bits
//	  u32  n, the number of covered segment IDs
//	  n ×  u16 length, then that many bytes: a segment ID (sorted, unique,
//	       not empty)
//	  u32  L, the number of layers (1 to 48); the last takes new keys
//	  L ×  u64 capacity: keys the layer takes before the next one opens
//	       u64 keys: distinct keys added to it (at most capacity)
//	       u32 k: hash functions (1 to 64; 7 today)
//	       u64 m: bits, a positive multiple of 64
//	       m/64 × u64: the bit array's words; bit i is bit i%64 of word i/64
//
// A key is in a layer if the k bits at bloom/v3's locations for it, modulo
// m, are all set; it is in the filter if it is in any layer.
func Save(dir storage.Directory, f *Filter) error {
	payload := f.encode()
	var file memFile
	w := storage.NewChecksumWriter(&file)
	if _, err := w.Write(payload); err != nil {
		return err
	}
	if err := w.Finish(fileKind, FormatVersion); err != nil {
		return err
	}
	return dir.WriteAtomic(FileName, file.Bytes())
}

// memFile collects a checksummed file in memory, to hand to WriteAtomic.
type memFile struct{ bytes.Buffer }

func (*memFile) Sync() error  { return nil }
func (*memFile) Close() error { return nil }
func (*memFile) Name() string { return FileName }

// encode returns f's payload, taken under the read lock so that the covered
// list and the bits are one consistent state.
func (f *Filter) encode() []byte {
	f.mu.RLock()
	defer f.mu.RUnlock()
	size := 8 + 4 + 4
	ids := f.coversLocked()
	for _, id := range ids {
		size += 2 + len(id)
	}
	for _, l := range f.layers {
		size += 28 + int(l.bf.Cap()/8)
	}
	b := make([]byte, 0, size)
	b = binary.LittleEndian.AppendUint64(b, hashCanary())
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(id)))
		b = append(b, id...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(f.layers)))
	for _, l := range f.layers {
		b = binary.LittleEndian.AppendUint64(b, l.capacity)
		b = binary.LittleEndian.AppendUint64(b, l.keys)
		b = binary.LittleEndian.AppendUint32(b, uint32(l.bf.K()))
		b = binary.LittleEndian.AppendUint64(b, uint64(l.bf.Cap()))
		for _, w := range l.bf.BitSet().Words() {
			b = binary.LittleEndian.AppendUint64(b, w)
		}
	}
	return b
}

// Load reads the filter saved in dir. A missing file gives an error
// wrapping fs.ErrNotExist; a corrupt or truncated one a
// *storage.CorruptError naming the file and what is wrong; an intact file
// this build cannot use (another format version or hash function) an error
// wrapping ErrUnsupported.
func Load(dir storage.Directory) (*Filter, error) {
	rf, err := dir.Open(FileName)
	if err != nil {
		return nil, err
	}
	defer rf.Close()
	payload, version, err := storage.ReadVerified(rf, fileKind)
	if err != nil {
		return nil, err
	}
	if version != FormatVersion {
		return nil, &fs.PathError{Op: "read", Path: FileName,
			Err: fmt.Errorf("%w: format version %d, this build reads %d", ErrUnsupported, version, FormatVersion)}
	}
	return decode(payload)
}

// decoder reads the payload front to back; the first error sticks.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = &storage.CorruptError{File: FileName,
			Reason: fmt.Sprintf("at payload offset %d: ", d.off) + fmt.Sprintf(format, args...)}
	}
}

func (d *decoder) take(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("%s needs %d bytes, %d left", what, n, len(d.b)-d.off)
		return nil
	}
	out := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return out
}

func (d *decoder) u16(what string) uint16 {
	if b := d.take(2, what); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if b := d.take(4, what); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if b := d.take(8, what); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// decode parses and validates a payload laid out as Save documents.
func decode(payload []byte) (*Filter, error) {
	d := &decoder{b: payload}
	if canary := d.u64("hash canary"); d.err == nil && canary != hashCanary() {
		return nil, &fs.PathError{Op: "read", Path: FileName,
			Err: fmt.Errorf("%w: bits were set by another hash function (canary %016x, this build %016x)", ErrUnsupported, canary, hashCanary())}
	}
	f := &Filter{covered: make(map[string]struct{})}
	n := d.u32("covered segment count")
	prev := ""
	for i := uint32(0); i < n && d.err == nil; i++ {
		id := string(d.take(uint64(d.u16("segment ID length")), "segment ID"))
		switch {
		case d.err != nil:
		case id == "":
			d.fail("covered segment ID %d is empty", i)
		case i > 0 && id <= prev:
			d.fail("covered segment IDs not sorted and unique: %q after %q", id, prev)
		}
		f.covered[id] = struct{}{}
		prev = id
	}
	nl := d.u32("layer count")
	if d.err == nil && (nl < 1 || nl > maxLayers) {
		d.fail("layer count %d, want 1 to %d", nl, maxLayers)
	}
	for i := uint32(0); i < nl && d.err == nil; i++ {
		capacity := d.u64("layer capacity")
		keys := d.u64("layer key count")
		k := d.u32("layer hash count")
		m := d.u64("layer bit count")
		if d.err != nil {
			break
		}
		switch {
		case capacity == 0:
			d.fail("layer %d has capacity 0", i)
		case keys > capacity:
			d.fail("layer %d holds %d keys, over its capacity %d", i, keys, capacity)
		case k < 1 || k > 64:
			d.fail("layer %d has %d hash functions, want 1 to 64", i, k)
		case m == 0 || m%64 != 0:
			d.fail("layer %d has %d bits, want a positive multiple of 64", i, m)
		}
		raw := d.take(m/8, fmt.Sprintf("layer %d bits", i))
		if d.err != nil {
			break
		}
		words := make([]uint64, m/64)
		for j := range words {
			words[j] = binary.LittleEndian.Uint64(raw[8*j:])
		}
		f.layers = append(f.layers, &layer{bf: bloom.FromWithM(words, uint(m), uint(k)), capacity: capacity, keys: keys})
	}
	if d.err == nil && d.off != len(payload) {
		d.fail("%d bytes after the last layer", len(payload)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return f, nil
}
