package segment

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/hermes-search/hermes-go/storage"
)

// The writers in this file stream one segment's data to its files. The
// builder feeds them from memory; a merge can feed them from readers.

// postingsWriter writes the postings of one term after another into the
// .post file and their positions into the .pos file (see FORMAT.md).
type postingsWriter struct {
	post, pos *storage.ChecksumWriter

	// Per-term state.
	positions bool
	norms     []byte // norm codes of the field, or nil
	df        uint32
	prevDoc   int64 // last doc of the previous block, -1 before the first
	lastDoc   int64 // last doc added
	docs      [blockSize]uint32
	freqs     [blockSize]uint32
	n         int
	nBlocks   int
	posStart  int64 // offset in .pos where the term's positions start
	blockPos  int64 // offset in .pos where the current block's positions start
	index     []byte
	data      []byte
	scratch   [blockSize]uint32
	hdr       []byte
}

func (w *postingsWriter) startTerm(positions bool, norms []byte) {
	w.positions = positions
	w.norms = norms
	w.df = 0
	w.prevDoc, w.lastDoc = -1, -1
	w.n, w.nBlocks = 0, 0
	w.index, w.data = w.index[:0], w.data[:0]
	w.posStart = w.pos.Offset()
	w.blockPos = w.posStart
}

// addDoc adds the next document of the current term. pos holds the doc's
// freq positions, already encoded as in the .pos file (uvarint deltas).
func (w *postingsWriter) addDoc(doc, freq uint32, pos []byte) error {
	if int64(doc) <= w.lastDoc || doc == NoMoreDocs || freq == 0 {
		return fmt.Errorf("segment: postings out of order: doc %d (freq %d) after doc %d", doc, freq, w.lastDoc)
	}
	if w.positions && len(pos) > 0 {
		if _, err := w.pos.Write(pos); err != nil {
			return err
		}
	}
	w.docs[w.n], w.freqs[w.n] = doc, freq
	w.n++
	w.df++
	w.lastDoc = int64(doc)
	if w.n == blockSize {
		w.flushBlock()
	}
	return nil
}

// flushBlock encodes the buffered docs as one block: bit-packed when full,
// varints for a tail block.
func (w *postingsWriter) flushBlock() {
	start := len(w.data)
	docs, freqs := w.docs[:w.n], w.freqs[:w.n]
	maxFreq, minNorm := uint32(0), uint8(255)
	if w.norms == nil {
		minNorm = 0
	}
	prev := w.prevDoc
	if w.n == blockSize {
		for i, d := range docs {
			w.scratch[i] = uint32(int64(d) - prev - 1)
			prev = int64(d)
		}
		bw := bitWidth(w.scratch[:])
		w.data = append(w.data, bw)
		w.data = appendPacked(w.data, w.scratch[:], bw)
		for i, f := range freqs {
			w.scratch[i] = f - 1
		}
		fw := bitWidth(w.scratch[:])
		w.data = append(w.data, fw)
		w.data = appendPacked(w.data, w.scratch[:], fw)
	} else {
		for i, d := range docs {
			delta := uint64(int64(d) - prev - 1)
			prev = int64(d)
			if freqs[i] == 1 {
				w.data = binary.AppendUvarint(w.data, delta<<1|1)
			} else {
				w.data = binary.AppendUvarint(w.data, delta<<1)
				w.data = binary.AppendUvarint(w.data, uint64(freqs[i]))
			}
		}
	}
	for i, f := range freqs {
		maxFreq = max(maxFreq, f)
		if w.norms != nil && int(docs[i]) < len(w.norms) {
			minNorm = min(minNorm, w.norms[docs[i]])
		}
	}
	last := docs[len(docs)-1]
	w.index = binary.AppendUvarint(w.index, uint64(int64(last)-max(w.prevDoc, 0)))
	w.index = binary.AppendUvarint(w.index, uint64(len(w.data)-start))
	w.index = binary.AppendUvarint(w.index, uint64(maxFreq))
	w.index = append(w.index, minNorm)
	if w.positions {
		end := w.pos.Offset()
		w.index = binary.AppendUvarint(w.index, uint64(end-w.blockPos))
		w.blockPos = end
	}
	w.prevDoc = int64(last)
	w.n = 0
	w.nBlocks++
}

// finishTerm writes the term's record to .post and returns its offset.
func (w *postingsWriter) finishTerm() (uint64, error) {
	if w.n > 0 {
		w.flushBlock()
	}
	if w.df == 0 {
		return 0, fmt.Errorf("segment: term without postings")
	}
	off := w.post.Offset()
	w.hdr = binary.AppendUvarint(w.hdr[:0], uint64(w.df))
	if w.positions {
		w.hdr = binary.AppendUvarint(w.hdr, uint64(w.posStart))
	}
	if w.nBlocks > 1 {
		w.hdr = binary.AppendUvarint(w.hdr, uint64(len(w.index)))
		w.hdr = append(w.hdr, w.index...)
	}
	if _, err := w.post.Write(w.hdr); err != nil {
		return 0, err
	}
	if _, err := w.post.Write(w.data); err != nil {
		return 0, err
	}
	return uint64(off), nil
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

// appendStoredValue appends one stored value of field ord to a record.
func appendStoredValue(rec []byte, ord int, v *FieldValue) []byte {
	rec = binary.AppendUvarint(rec, uint64(ord))
	switch v.Kind {
	case KindString:
		rec = binary.AppendUvarint(rec, uint64(len(v.Str)))
		rec = append(rec, v.Str...)
	case KindBytes:
		rec = binary.AppendUvarint(rec, uint64(len(v.Bytes)))
		rec = append(rec, v.Bytes...)
	case KindU64:
		rec = binary.AppendUvarint(rec, v.U64)
	case KindI64:
		rec = binary.AppendVarint(rec, v.I64)
	case KindF64:
		rec = binary.LittleEndian.AppendUint64(rec, math.Float64bits(v.F64))
	}
	return rec
}

// fastColumn is a fast field's values as order-preserving u64s (see
// fastEncode) with a presence bitset.
type fastColumn struct {
	ord     int
	typ     FieldType
	vals    []uint64
	present []uint64 // bit per doc
	count   uint32   // docs with a value
}

func (c *fastColumn) add(v uint64, ok bool) {
	doc := len(c.vals)
	if doc/64 >= len(c.present) {
		c.present = append(c.present, 0)
	}
	if ok {
		c.present[doc/64] |= 1 << (doc % 64)
		c.count++
	} else {
		v = 0
	}
	c.vals = append(c.vals, v)
}

func (c *fastColumn) mem() int64 { return int64(cap(c.vals)+cap(c.present)) * 8 }

// fastEncode maps a value to a u64 whose order is the value's order.
func fastEncode(v *FieldValue) uint64 {
	switch v.Kind {
	case KindU64:
		return v.U64
	case KindI64:
		return uint64(v.I64) ^ 1<<63
	case KindF64:
		return f64Sortable(v.F64)
	}
	return 0
}

// appendFastColumn encodes a column (see FORMAT.md, .fast).
func appendFastColumn(dst []byte, c *fastColumn) []byte {
	n := len(c.vals)
	dst = binary.AppendUvarint(dst, uint64(c.ord))
	dst = append(dst, byte(c.typ))
	dst = binary.AppendUvarint(dst, uint64(n))
	minV, maxV := uint64(math.MaxUint64), uint64(0)
	for doc, v := range c.vals {
		if c.present[doc/64]&(1<<(doc%64)) != 0 {
			minV, maxV = min(minV, v), max(maxV, v)
		}
	}
	if c.count == 0 {
		minV, maxV = 0, 0
	}
	if int(c.count) == n {
		dst = append(dst, 0) // all present
	} else {
		dst = append(dst, 1)
		for i := 0; i < (n+63)/64; i++ {
			dst = binary.LittleEndian.AppendUint64(dst, c.present[i])
		}
	}
	w := uint8(bits.Len64(maxV - minV))
	dst = binary.LittleEndian.AppendUint64(dst, minV)
	dst = append(dst, w)
	deltas := make([]uint64, 0, min(n, 4096))
	plen := (n*int(w) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(plen+8))
	for i := 0; i < n; i += 4096 {
		// Pack in chunks of 4096 values (a multiple of 8 values, so each
		// chunk ends on a byte boundary for any width).
		deltas = deltas[:0]
		for doc := i; doc < min(n, i+4096); doc++ {
			v := c.vals[doc]
			if c.present[doc/64]&(1<<(doc%64)) == 0 {
				v = minV
			}
			deltas = append(deltas, v-minV)
		}
		dst = appendPacked64(dst, deltas, w)
	}
	return append(dst, make([]byte, 8)...) // padding for 8-byte loads
}
