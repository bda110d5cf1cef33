package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"sync"

	"github.com/hermes-search/hermes-go/storage"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// StoredCompression is the codec of a segment's stored-field blocks, set
// per index with Schema.WithStoredCompression (or "stored_compression" in
// the schema JSON). Every segment records its codec in its store file, so
// an index may hold segments of both, and a reader decodes either.
//
// Measured on realmix's stored records in 8 KiB blocks (FORMAT.md,
// BenchmarkStored, BenchmarkStoredBlocks): S2 compresses for a third of
// zstd's CPU and reads a document for 0.6 of it, to a store 37% larger.
type StoredCompression uint8

const (
	// StoredS2, the default, compresses each block with S2 (the block
	// format of klauspost/compress/s2, a faster Snappy): the cheapest to
	// write and to read, as Lucene's default LZ4 ("BEST_SPEED").
	StoredS2 StoredCompression = iota
	// StoredZstd compresses each block as one zstd frame (SpeedFastest):
	// a smaller store for 3x the compression CPU, for indexes whose size
	// matters more than their indexing speed.
	StoredZstd
)

var storedCompressionNames = [...]string{StoredS2: "s2", StoredZstd: "zstd"}

// String returns the schema JSON name: "s2" or "zstd".
func (c StoredCompression) String() string {
	if c.valid() {
		return storedCompressionNames[c]
	}
	return fmt.Sprintf("StoredCompression(%d)", uint8(c))
}

func (c StoredCompression) valid() bool { return int(c) < len(storedCompressionNames) }

// err reports c, a codec that does not exist (a conversion from a number).
func (c StoredCompression) err() error {
	return fmt.Errorf("unknown stored compression %v: want s2 or zstd", c)
}

// ParseStoredCompression returns the codec named "s2" or "zstd".
func ParseStoredCompression(name string) (StoredCompression, error) {
	for c, n := range storedCompressionNames {
		if n == name {
			return StoredCompression(c), nil
		}
	}
	return 0, fmt.Errorf("segment: unknown stored compression %q: want s2 or zstd", name)
}

// storeVersion is the format version in the store file's footer: 3 since
// the file begins with its codec (FormatVersion, 2, stays on the other
// files). The reader also reads version 2 stores: zstd, no header.
const storeVersion = 3

// storeHeaderLen is the size of a version 3 store's header: the codec.
const storeHeaderLen = 1

// storedBlockBytes is the raw size at which a stored-fields block is
// compressed and a new one started.
const storedBlockBytes = 8 << 10

// maxStoredBlockRaw bounds a decompressed stored block, so corrupt input
// cannot make the decoder allocate without limit. A block holds at most
// one document beyond storedBlockBytes; documents are bounded by the
// indexing limits far below this.
const maxStoredBlockRaw = 1 << 30

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
	zstdErr  error
)

// zstdCodecs returns the process-wide encoder and decoder. Both are
// expensive to create and safe for concurrent EncodeAll/DecodeAll.
func zstdCodecs() (*zstd.Encoder, *zstd.Decoder, error) {
	zstdOnce.Do(func() {
		// Blocks are about storedBlockBytes and compressed alone, so a
		// window past 256 KiB finds nothing more; the default 8 MiB one
		// costs 16 MiB of history per concurrent encoder. SpeedFastest:
		// 1.7x the MB per CPU second of SpeedDefault for 5% more bytes
		// (FORMAT.md).
		zstdEnc, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(256<<10))
		if zstdErr != nil {
			return
		}
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxStoredBlockRaw), zstd.WithDecoderConcurrency(0))
	})
	return zstdEnc, zstdDec, zstdErr
}

// compressStored compresses block with codec c into dst[:0].
func compressStored(c StoredCompression, dst, block []byte) ([]byte, error) {
	if c == StoredZstd {
		enc, _, err := zstdCodecs()
		if err != nil {
			return dst, err
		}
		return enc.EncodeAll(block, dst[:0]), nil
	}
	// A CRC-32C of the S2 block, then the block. s2.Encode writes into
	// its dst when it holds s2.MaxEncodedLen bytes, and allocates
	// otherwise.
	if need := s2CRCLen + s2.MaxEncodedLen(len(block)); cap(dst) < need {
		dst = make([]byte, need)
	}
	comp := s2.Encode(dst[s2CRCLen:cap(dst)], block)
	dst = dst[:s2CRCLen+len(comp)]
	binary.LittleEndian.PutUint32(dst, crc32.Checksum(comp, castagnoli))
	return dst, nil
}

// s2CRCLen is the size of the CRC-32C before each S2 block. The block
// format has no checksum (zstd frames do), and the file's own checksum is
// verified only by CheckIntegrity: it makes a damaged block an error when a
// document is read, not a document with other bytes.
const s2CRCLen = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// decompressStored decompresses comp, compressed with codec c, into
// raw[:0]. Damage is an error, never a panic or an allocation past
// maxStoredBlockRaw.
func decompressStored(c StoredCompression, raw, comp []byte) ([]byte, error) {
	if c == StoredZstd {
		_, dec, err := zstdCodecs()
		if err != nil {
			return raw, err
		}
		return dec.DecodeAll(comp, raw[:0])
	}
	if len(comp) < s2CRCLen {
		return raw, fmt.Errorf("s2 block of %d bytes, too short for its checksum", len(comp))
	}
	if got, want := crc32.Checksum(comp[s2CRCLen:], castagnoli), binary.LittleEndian.Uint32(comp); got != want {
		return raw, fmt.Errorf("s2 block checksum %08x, want %08x", got, want)
	}
	comp = comp[s2CRCLen:]
	n, err := s2.DecodedLen(comp)
	if err != nil {
		return raw, err
	}
	if n > maxStoredBlockRaw {
		return raw, fmt.Errorf("s2 block of %d bytes decompressed, at most %d", n, maxStoredBlockRaw)
	}
	if cap(raw) < n {
		raw = make([]byte, n)
	}
	return s2.Decode(raw[:n], comp)
}

// storedWriter collects stored-document records into blocks of about
// storedBlockBytes, each compressed with codec, and hands the store file's
// bytes to write: the header, then each block as it closes, then (finish)
// the index and trailer.
//
// A record is written once, into buf, where its block is compressed from:
// the builder appends a document's values there (startDoc, addValue,
// endDoc), and buf keeps head bytes free before the first record for the
// block's header (record count and lengths, known when it closes).
type storedWriter struct {
	codec    StoredCompression
	write    func([]byte) error
	buf      []byte // head bytes for the header, then the block's records
	head     int    // room for the header; grows to the largest one seen
	recStart int    // where the record being added begins in buf
	end      int    // len(buf) after the last whole record
	lens     []uint32
	block    []byte // header + records, when the header outgrows head
	comp     []byte
	index    []byte // per block: uvarint docs, uvarint compressed length
	numDocs  uint32
	nBlocks  uint32
	written  int64 // bytes handed to write, header included
}

// storedHeadroom is the room first kept for a block's header: a count and
// a length per record, 1 or 2 bytes each, for the 10 to 30 records of
// realmix's 8 KiB blocks. A block with a larger header is copied once
// behind it, and head grows for the blocks that follow.
const storedHeadroom = 64

// reset empties w for another store written to write, keeping its buffers.
func (w *storedWriter) reset(codec StoredCompression, write func([]byte) error) {
	*w = storedWriter{codec: codec, write: write, buf: w.buf[:0], head: w.head,
		lens: w.lens[:0], block: w.block[:0], comp: w.comp[:0], index: w.index[:0]}
}

// startDoc begins a record: addValue appends its values, endDoc ends it.
// A record begun and not ended is dropped by the next one.
func (w *storedWriter) startDoc() {
	w.beginRecord()
	w.buf = append(w.buf, 0) // the value count, if below 128 (see endDoc)
}

func (w *storedWriter) beginRecord() {
	if len(w.lens) == 0 { // a new block: room for its header first
		w.head = max(w.head, storedHeadroom)
		w.buf = append(w.buf[:0], make([]byte, w.head)...)
	} else {
		w.buf = w.buf[:w.end]
	}
	w.recStart = len(w.buf)
}

// addValue appends one stored value of field ord to the current record.
func (w *storedWriter) addValue(ord int, v *FieldValue) {
	w.buf = appendStoredValue(w.buf, ord, v)
}

// endDoc ends the current record, of values values: a record is the
// uvarint value count, then the values.
func (w *storedWriter) endDoc(values int) error {
	if values < 0x80 {
		w.buf[w.recStart] = byte(values)
		return w.endRecord()
	}
	// A longer count than the byte startDoc kept: move the values.
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(values))
	w.buf = append(w.buf, hdr[1:n]...)
	rec := w.buf[w.recStart:]
	copy(rec[n:], rec[1:len(rec)-(n-1)])
	copy(rec, hdr[:n])
	return w.endRecord()
}

// addDoc adds a whole record (as endDoc makes them).
func (w *storedWriter) addDoc(rec []byte) error {
	w.beginRecord()
	w.buf = append(w.buf, rec...)
	return w.endRecord()
}

func (w *storedWriter) endRecord() error {
	w.end = len(w.buf)
	w.lens = append(w.lens, uint32(w.end-w.recStart))
	w.numDocs++
	if w.end-w.head >= storedBlockBytes {
		return w.flush()
	}
	return nil
}

func (w *storedWriter) flush() error {
	if len(w.lens) == 0 {
		return nil
	}
	h := uvarintLen(uint64(len(w.lens)))
	for _, l := range w.lens {
		h += uvarintLen(uint64(l))
	}
	records := w.buf[w.head:w.end]
	var block []byte
	if h <= w.head {
		block = w.buf[w.head-h : w.end]
		p := binary.PutUvarint(block, uint64(len(w.lens)))
		for _, l := range w.lens {
			p += binary.PutUvarint(block[p:], uint64(l))
		}
	} else {
		w.block = binary.AppendUvarint(w.block[:0], uint64(len(w.lens)))
		for _, l := range w.lens {
			w.block = binary.AppendUvarint(w.block, uint64(l))
		}
		w.block = append(w.block, records...)
		block = w.block
		w.head = h
	}
	var err error
	if w.comp, err = compressStored(w.codec, w.comp, block); err != nil {
		return err
	}
	if err := w.appendBlock(w.comp, uint32(len(w.lens))); err != nil {
		return err
	}
	w.buf, w.lens, w.end = w.buf[:0], w.lens[:0], 0
	return nil
}

// uvarintLen is the size of x as a uvarint.
func uvarintLen(x uint64) int {
	return (bits.Len64(x|1) + 6) / 7
}

// appendBlock writes the compressed block comp, of docs documents (after
// the header, if it is the first), and indexes it.
func (w *storedWriter) appendBlock(comp []byte, docs uint32) error {
	if err := w.start(); err != nil {
		return err
	}
	if err := w.write(comp); err != nil {
		return err
	}
	w.index = binary.AppendUvarint(w.index, uint64(docs))
	w.index = binary.AppendUvarint(w.index, uint64(len(comp)))
	w.written += int64(len(comp))
	w.nBlocks++
	return nil
}

// start writes the header, once, before anything else.
func (w *storedWriter) start() error {
	if w.written > 0 {
		return nil
	}
	w.written = storeHeaderLen
	return w.write([]byte{byte(w.codec)})
}

// addCompressed appends a block compressed with w's codec by another
// storedWriter, which holds docs documents, after the records added so far
// (their block is closed first, however small). A merge copies whole
// blocks this way.
func (w *storedWriter) addCompressed(comp []byte, docs uint32) error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.appendBlock(comp, docs); err != nil {
		return err
	}
	w.numDocs += docs
	return nil
}

// finish flushes the last block and writes the index and trailer.
func (w *storedWriter) finish() error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.start(); err != nil { // a store without documents
		return err
	}
	tail := append([]byte(nil), w.index...)
	tail = binary.LittleEndian.AppendUint64(tail, uint64(w.written))
	tail = binary.LittleEndian.AppendUint32(tail, w.nBlocks)
	tail = binary.LittleEndian.AppendUint32(tail, w.numDocs)
	return w.write(tail)
}

func (w *storedWriter) mem() int64 {
	return int64(cap(w.buf)+cap(w.block)+cap(w.comp)+cap(w.index)) + int64(cap(w.lens))*4
}

// storedReader reads stored documents from the .store file on demand.
type storedReader struct {
	f     storage.ReadFile
	name  string
	codec StoredCompression
	first []uint32 // first doc of each block
	offs  []int64  // offset of each block; offs[len] is the index offset
}

func (c *readerCore) openStore(dir storage.Directory) error {
	name := fileName(c.id, kindStore)
	f, err := dir.Open(name)
	if err != nil {
		return err
	}
	c.files = append(c.files, openFile{f: f, kind: kindStore})
	ft, err := storage.ReadFooter(f, kindStore.kind)
	if err != nil {
		return err
	}
	sr := &storedReader{f: f, name: name, codec: StoredZstd}
	start := int64(0)
	switch ft.Version {
	case storeVersion:
		var hdr [storeHeaderLen]byte
		if ft.PayloadLen < storeHeaderLen {
			return corrupt(name, "too short for its header")
		}
		if _, err := f.ReadAt(hdr[:], 0); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		sr.codec, start = StoredCompression(hdr[0]), storeHeaderLen
		if !sr.codec.valid() {
			return corrupt(name, "unknown stored-fields codec %d", hdr[0])
		}
	case FormatVersion: // version 2: zstd blocks from offset 0
	default:
		return fmt.Errorf("%s: unsupported store format version %d (this build reads %d and %d; rebuild the index with this build, e.g. hermes index)",
			name, ft.Version, FormatVersion, storeVersion)
	}
	if err := sr.loadIndex(start, ft.PayloadLen, c.numDocs); err != nil {
		return err
	}
	c.store = sr
	return nil
}

// loadIndex reads the block index of a store whose first block begins at
// start and whose payload is size bytes.
func (s *storedReader) loadIndex(start, size int64, numDocs uint32) error {
	if size < 16 {
		return corrupt(s.name, "too short for its trailer")
	}
	var tr [16]byte
	if _, err := s.f.ReadAt(tr[:], size-16); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	idxOff := int64(binary.LittleEndian.Uint64(tr[:8]))
	nBlocks := binary.LittleEndian.Uint32(tr[8:12])
	if binary.LittleEndian.Uint32(tr[12:16]) != numDocs {
		return corrupt(s.name, "holds %d documents, segment has %d", binary.LittleEndian.Uint32(tr[12:16]), numDocs)
	}
	if idxOff < start || idxOff > size-16 || uint64(nBlocks) > uint64(numDocs) {
		return corrupt(s.name, "bad trailer")
	}
	// An index entry takes at least 2 bytes: a damaged count must not
	// size the tables below.
	if uint64(nBlocks)*2 > uint64(size-16-idxOff) {
		return corrupt(s.name, "bad trailer: %d blocks in an index of %d bytes", nBlocks, size-16-idxOff)
	}
	idx := make([]byte, size-16-idxOff)
	if _, err := s.f.ReadAt(idx, idxOff); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	d := decoder{b: idx, file: s.name, what: "stored-fields index"}
	s.first = make([]uint32, 0, nBlocks)
	s.offs = make([]int64, 0, nBlocks+1)
	doc, off := uint64(0), start
	for i := uint32(0); i < nBlocks; i++ {
		n, clen := d.uvarint(), d.uvarint()
		if d.bad || n == 0 || doc+n > uint64(numDocs) || clen > uint64(idxOff-off) {
			return corrupt(s.name, "bad stored-fields index entry %d", i)
		}
		s.first = append(s.first, uint32(doc))
		s.offs = append(s.offs, off)
		doc += n
		off += int64(clen)
	}
	if doc != uint64(numDocs) || off != idxOff || d.p != len(idx) {
		return corrupt(s.name, "stored-fields index covers %d docs and %d bytes, want %d and %d", doc, off, numDocs, idxOff)
	}
	s.offs = append(s.offs, off)
	return nil
}

// readCompressed reads block b, still compressed, into comp[:0].
func (s *storedReader) readCompressed(b int, comp []byte) ([]byte, error) {
	n := int(s.offs[b+1] - s.offs[b])
	if cap(comp) < n {
		comp = make([]byte, n)
	}
	comp = comp[:n]
	if _, err := s.f.ReadAt(comp, s.offs[b]); err != nil {
		return comp, fmt.Errorf("%s: %w", s.name, err)
	}
	return comp, nil
}

// readBlock reads and decompresses block b into raw[:0], using comp as
// the buffer for the compressed bytes; it returns both buffers for reuse.
// It does not touch the cache, so it needs no lock.
func (s *storedReader) readBlock(b int, raw, comp []byte) ([]byte, []byte, error) {
	comp, err := s.readCompressed(b, comp)
	if err != nil {
		return raw, comp, err
	}
	out, err := decompressStored(s.codec, raw, comp)
	if err != nil {
		return raw, comp, corrupt(s.name, "block %d: %v", b, err)
	}
	return out, comp, nil
}
