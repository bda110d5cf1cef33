package segment

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/hermes-search/hermes-go/storage"
	"github.com/klauspost/compress/zstd"
)

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
		// (FORMAT.md, BenchmarkStoredCompression).
		zstdEnc, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(256<<10))
		if zstdErr != nil {
			return
		}
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxStoredBlockRaw), zstd.WithDecoderConcurrency(0))
	})
	return zstdEnc, zstdDec, zstdErr
}

// storedWriter collects stored-document records into blocks of about
// storedBlockBytes, each compressed as one zstd frame and handed to write.
type storedWriter struct {
	write   func([]byte) error
	raw     []byte // records of the current block
	lens    []uint32
	block   []byte // header + records, for compression
	comp    []byte
	index   []byte // per block: uvarint docs, uvarint compressed length
	numDocs uint32
	nBlocks uint32
	written int64
}

func (w *storedWriter) addDoc(rec []byte) error {
	w.raw = append(w.raw, rec...)
	w.lens = append(w.lens, uint32(len(rec)))
	w.numDocs++
	if len(w.raw) >= storedBlockBytes {
		return w.flush()
	}
	return nil
}

func (w *storedWriter) flush() error {
	if len(w.lens) == 0 {
		return nil
	}
	enc, _, err := zstdCodecs()
	if err != nil {
		return err
	}
	w.block = binary.AppendUvarint(w.block[:0], uint64(len(w.lens)))
	for _, l := range w.lens {
		w.block = binary.AppendUvarint(w.block, uint64(l))
	}
	w.block = append(w.block, w.raw...)
	w.comp = enc.EncodeAll(w.block, w.comp[:0])
	if err := w.write(w.comp); err != nil {
		return err
	}
	w.index = binary.AppendUvarint(w.index, uint64(len(w.lens)))
	w.index = binary.AppendUvarint(w.index, uint64(len(w.comp)))
	w.written += int64(len(w.comp))
	w.nBlocks++
	w.raw, w.lens = w.raw[:0], w.lens[:0]
	return nil
}

// addCompressed appends a block compressed by another storedWriter, which
// holds docs documents, after the records added so far (their block is
// closed first, however small). A merge copies whole blocks this way.
func (w *storedWriter) addCompressed(comp []byte, docs uint32) error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.write(comp); err != nil {
		return err
	}
	w.index = binary.AppendUvarint(w.index, uint64(docs))
	w.index = binary.AppendUvarint(w.index, uint64(len(comp)))
	w.written += int64(len(comp))
	w.nBlocks++
	w.numDocs += docs
	return nil
}

// finish flushes the last block and writes the index and trailer.
func (w *storedWriter) finish() error {
	if err := w.flush(); err != nil {
		return err
	}
	tail := append([]byte(nil), w.index...)
	tail = binary.LittleEndian.AppendUint64(tail, uint64(w.written))
	tail = binary.LittleEndian.AppendUint32(tail, w.nBlocks)
	tail = binary.LittleEndian.AppendUint32(tail, w.numDocs)
	return w.write(tail)
}

func (w *storedWriter) mem() int64 {
	return int64(cap(w.raw)+cap(w.block)+cap(w.comp)+cap(w.index)) + int64(cap(w.lens))*4
}

// storedReader reads stored documents from the .store file on demand.
type storedReader struct {
	f     storage.ReadFile
	name  string
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
	if err == nil && ft.Version != FormatVersion {
		err = versionError(name, ft.Version)
	}
	if err != nil {
		return err
	}
	sr := &storedReader{f: f, name: name}
	if err := sr.loadIndex(ft.PayloadLen, c.numDocs); err != nil {
		return err
	}
	c.store = sr
	return nil
}

func (s *storedReader) loadIndex(size int64, numDocs uint32) error {
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
	if idxOff < 0 || idxOff > size-16 || uint64(nBlocks) > uint64(numDocs) {
		return corrupt(s.name, "bad trailer")
	}
	idx := make([]byte, size-16-idxOff)
	if _, err := s.f.ReadAt(idx, idxOff); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	d := decoder{b: idx, file: s.name, what: "stored-fields index"}
	s.first = make([]uint32, 0, nBlocks)
	s.offs = make([]int64, 0, nBlocks+1)
	doc, off := uint64(0), int64(0)
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
	_, dec, err := zstdCodecs()
	if err != nil {
		return raw, comp, err
	}
	out, err := dec.DecodeAll(comp, raw[:0])
	if err != nil {
		return raw, comp, corrupt(s.name, "block %d: %v", b, err)
	}
	return out, comp, nil
}
