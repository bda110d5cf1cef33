package segment

import (
	"encoding/binary"
	"fmt"
	"io"
	"iter"
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
	posStart  int64  // offset in .pos where the term's positions start
	blockPos  int64  // offset in .pos where the current block's positions start
	posBuf    []byte // positions not yet written to .pos
	postBuf   []byte // term records not yet written to .post
	index     []byte
	data      []byte
	scratch   [blockSize]uint32
	kw        *keywordCollector // gathers keyword columns, or nil
}

// postingsWriteBytes is how much of the records and of the positions a
// postingsWriter buffers before it writes them to their file: a write per
// term would cost a call per few bytes (most terms take a few bytes). flush
// writes the rest.
const postingsWriteBytes = 32 << 10

func (w *postingsWriter) startTerm(positions bool, norms []byte) {
	w.positions = positions
	w.norms = norms
	w.df = 0
	w.prevDoc, w.lastDoc = -1, -1
	w.n, w.nBlocks = 0, 0
	w.index, w.data = w.index[:0], w.data[:0]
	w.posStart = w.pos.Offset() + int64(len(w.posBuf))
	w.blockPos = w.posStart
}

// addDoc adds the next document of the current term. pos holds the doc's
// freq positions, already encoded as in the .pos file (uvarint deltas).
func (w *postingsWriter) addDoc(doc, freq uint32, pos []byte) error {
	if int64(doc) <= w.lastDoc || doc == NoMoreDocs || freq == 0 {
		return fmt.Errorf("segment: postings out of order: doc %d (freq %d) after doc %d", doc, freq, w.lastDoc)
	}
	if w.positions && len(pos) > 0 {
		w.posBuf = append(w.posBuf, pos...)
		if len(w.posBuf) >= postingsWriteBytes {
			if err := w.writePositions(); err != nil {
				return err
			}
		}
	}
	w.kw.addDoc(doc)
	w.docs[w.n], w.freqs[w.n] = doc, freq
	w.n++
	w.df++
	w.lastDoc = int64(doc)
	if w.n == blockSize {
		w.flushBlock(false)
	}
	return nil
}

// addDocs adds all the documents of the current term at once: docs
// (increasing) with their freqs and, with positions, pos, their positions
// as encoded in the .pos file (freqs[i] uvarint deltas per doc). It is
// addDoc for a whole term, which the builder decodes in one pass; the
// term must have no documents yet.
func (w *postingsWriter) addDocs(docs, freqs []uint32, pos []byte) error {
	if w.n != 0 || w.df != 0 || len(docs) != len(freqs) || len(docs) == 0 {
		return fmt.Errorf("segment: internal error: addDocs on a term with %d documents, given %d docs and %d freqs", w.df, len(docs), len(freqs))
	}
	w.df = uint32(len(docs))
	w.lastDoc = int64(docs[len(docs)-1])
	for len(docs) > 0 {
		k := min(len(docs), blockSize)
		last := k == len(docs)
		if w.positions {
			// The index says where each block's positions end, so they
			// are cut at block bounds; the last block takes the rest.
			n := len(pos)
			if !last {
				sum := uint64(0)
				for _, f := range freqs[:k] {
					sum += uint64(f)
				}
				if n = skipUvarints(pos, sum); n < 0 {
					return errBadPositions
				}
			}
			w.posBuf = append(w.posBuf, pos[:n]...)
			pos = pos[n:]
		}
		if w.kw != nil {
			for _, d := range docs[:k] {
				w.kw.addDoc(d)
			}
		}
		w.encodeBlock(docs[:k], freqs[:k], last)
		docs, freqs = docs[k:], freqs[k:]
	}
	if len(w.posBuf) >= postingsWriteBytes {
		return w.writePositions()
	}
	return nil
}

// addSingleTerm writes a whole term that has one document, doc with freq
// and, with positions, pos (encoded as in addDocs): the record that
// startTerm, addDocs and finishTerm write, without their general passes.
// Most of a segment's terms have one document (72% of realmix's). It
// returns the record's offset, as finishTerm.
func (w *postingsWriter) addSingleTerm(positions bool, doc, freq uint32, pos []byte) (uint64, error) {
	if doc == NoMoreDocs || freq == 0 {
		return 0, fmt.Errorf("segment: internal error: a term's only doc %d with freq %d", doc, freq)
	}
	posStart := w.pos.Offset() + int64(len(w.posBuf))
	if positions {
		w.posBuf = append(w.posBuf, pos...)
	}
	w.kw.addDoc(doc)
	off := w.post.Offset() + int64(len(w.postBuf))
	b := append(w.postBuf, 1) // df
	if positions {
		b = binary.AppendUvarint(b, uint64(posStart))
	}
	// One tail block, of one doc whose delta from -1 is doc itself.
	if freq == 1 {
		b = binary.AppendUvarint(b, uint64(doc)<<1|1)
	} else {
		b = binary.AppendUvarint(b, uint64(doc)<<1)
		b = binary.AppendUvarint(b, uint64(freq))
	}
	w.postBuf = b
	return uint64(off), w.writeFull()
}

// tailBlock makes, in w.data, the block of a term with fewer than
// blockSize documents (a tail block, the term's only one) straight from
// its in-memory post stream (see decodePostStream) and its pending doc
// curDoc with freq (none if freq is 0), after prevDoc1: the two encodings
// differ only in the doc deltas, one less in the block (counted from the
// previous doc, not from the one after it), so each entry's first uvarint
// drops by 2. It returns the term's number of documents, or false
// (nothing made) for a term of more documents, or when the keyword columns
// must see the documents: addDocs writes those. addTail then writes the
// term.
func (w *postingsWriter) tailBlock(stream []byte, prevDoc1, curDoc, freq uint32) (df int, ok bool, err error) {
	// An entry takes at most 10 bytes: a stream this long holds at least
	// blockSize documents, and is not read twice.
	if w.kw.collecting() || len(stream) >= 10*blockSize {
		return 0, false, nil
	}
	data := w.data[:0]
	prev1 := uint64(0) // previous doc + 1
	for i := 0; i < len(stream); df++ {
		if df == blockSize-1 {
			return 0, false, nil
		}
		v := uint64(stream[i])
		if v < 0x80 {
			i++
		} else {
			var n int
			if v, n = binary.Uvarint(stream[i:]); n <= 0 {
				return 0, false, errBadStream
			}
			i += n
		}
		prev1 += v >> 1
		if v>>1 == 0 || prev1 > 1<<32-1 {
			return 0, false, errBadStream
		}
		f := uint64(1)
		if v&1 == 0 { // a freq follows, not 0 and below 1<<32
			var n int
			if f, n = binary.Uvarint(stream[i:]); n <= 0 || f == 0 || f > 1<<32-1 {
				return 0, false, errBadStream
			}
			i += n
		}
		if f == 1 {
			data = binary.AppendUvarint(data, (v-2)|1)
		} else {
			data = binary.AppendUvarint(binary.AppendUvarint(data, v-2), f)
		}
	}
	if freq > 0 {
		if df == blockSize-1 {
			return 0, false, nil
		}
		if uint64(curDoc)+1 <= prev1 || curDoc+1 <= prevDoc1 || curDoc == NoMoreDocs {
			return 0, false, errBadStream
		}
		delta := uint64(curDoc) - prev1 // from the previous doc + 1
		if freq == 1 {
			data = binary.AppendUvarint(data, delta<<1|1)
		} else {
			data = binary.AppendUvarint(data, delta<<1)
			data = binary.AppendUvarint(data, uint64(freq))
		}
		df++
	}
	w.data = data
	if df == 0 {
		return 0, false, errBadStream
	}
	return df, true, nil
}

// addTail writes the term whose block tailBlock made, of df documents,
// with, if positions, their positions pos (encoded as in addDocs). It
// returns the record's offset, as finishTerm.
func (w *postingsWriter) addTail(positions bool, df int, pos []byte) (uint64, error) {
	off := w.post.Offset() + int64(len(w.postBuf))
	b := binary.AppendUvarint(w.postBuf, uint64(df))
	if positions {
		b = binary.AppendUvarint(b, uint64(w.pos.Offset()+int64(len(w.posBuf))))
		w.posBuf = append(w.posBuf, pos...)
	}
	w.postBuf = append(b, w.data...)
	return uint64(off), w.writeFull()
}

// flushBlock encodes the buffered docs as one block. last is true when no
// block follows.
func (w *postingsWriter) flushBlock(last bool) {
	w.encodeBlock(w.docs[:w.n], w.freqs[:w.n], last)
	w.n = 0
}

// encodeBlock encodes docs and freqs as one block: bit-packed when full,
// varints for a tail block. last is true when no block follows.
func (w *postingsWriter) encodeBlock(docs, freqs []uint32, last bool) {
	start := len(w.data)
	prev := w.prevDoc
	maxFreq := uint32(0)
	if len(docs) == blockSize {
		docs, freqs := (*[blockSize]uint32)(docs), (*[blockSize]uint32)(freqs)
		var or uint32
		for i, d := range docs {
			delta := uint32(int64(d) - prev - 1)
			w.scratch[i] = delta
			or |= delta
			prev = int64(d)
		}
		bw := uint8(bits.Len32(or))
		w.data = appendPackedBlock(append(w.data, bw), &w.scratch, bw)
		or = 0
		for i, f := range freqs {
			w.scratch[i] = f - 1
			or |= f - 1
			maxFreq = max(maxFreq, f)
		}
		fw := uint8(bits.Len32(or))
		w.data = appendPackedBlock(append(w.data, fw), &w.scratch, fw)
	} else {
		for i, d := range docs {
			delta := uint64(int64(d) - prev - 1)
			prev = int64(d)
			f := freqs[i]
			maxFreq = max(maxFreq, f)
			if f == 1 {
				w.data = binary.AppendUvarint(w.data, delta<<1|1)
			} else {
				w.data = binary.AppendUvarint(w.data, delta<<1)
				w.data = binary.AppendUvarint(w.data, uint64(f))
			}
		}
	}
	last32 := docs[len(docs)-1]
	w.nBlocks++
	if last && w.nBlocks == 1 {
		// A single-block term has no block index (FORMAT.md, post).
		w.prevDoc = int64(last32)
		return
	}
	minNorm := uint8(0)
	if w.norms != nil {
		minNorm = 255
		for _, d := range docs {
			if int(d) < len(w.norms) {
				minNorm = min(minNorm, w.norms[d])
			}
		}
	}
	w.index = binary.AppendUvarint(w.index, uint64(int64(last32)-max(w.prevDoc, 0)))
	w.index = binary.AppendUvarint(w.index, uint64(len(w.data)-start))
	w.index = binary.AppendUvarint(w.index, uint64(maxFreq))
	w.index = append(w.index, minNorm)
	if w.positions {
		end := w.pos.Offset() + int64(len(w.posBuf))
		w.index = binary.AppendUvarint(w.index, uint64(end-w.blockPos))
		w.blockPos = end
	}
	w.prevDoc = int64(last32)
}

// finishTerm ends the term's record in .post and returns its offset.
func (w *postingsWriter) finishTerm() (uint64, error) {
	if w.n > 0 {
		w.flushBlock(true)
	}
	if w.df == 0 {
		return 0, fmt.Errorf("segment: term without postings")
	}
	off := w.post.Offset() + int64(len(w.postBuf))
	w.postBuf = binary.AppendUvarint(w.postBuf, uint64(w.df))
	if w.positions {
		w.postBuf = binary.AppendUvarint(w.postBuf, uint64(w.posStart))
	}
	if w.nBlocks > 1 {
		w.postBuf = binary.AppendUvarint(w.postBuf, uint64(len(w.index)))
		w.postBuf = append(w.postBuf, w.index...)
	}
	w.postBuf = append(w.postBuf, w.data...)
	return uint64(off), w.writeFull()
}

// writeFull writes the buffered positions, or the records and positions,
// once they reach postingsWriteBytes.
func (w *postingsWriter) writeFull() error {
	if len(w.posBuf) >= postingsWriteBytes {
		if err := w.writePositions(); err != nil {
			return err
		}
	}
	if len(w.postBuf) >= postingsWriteBytes {
		return w.flush()
	}
	return nil
}

// flush writes the buffered records and positions to .post and .pos.
func (w *postingsWriter) flush() error {
	if len(w.postBuf) > 0 {
		if _, err := w.post.Write(w.postBuf); err != nil {
			return err
		}
		w.postBuf = w.postBuf[:0]
	}
	return w.writePositions()
}

// writePositions writes the buffered positions to .pos.
func (w *postingsWriter) writePositions() error {
	if len(w.posBuf) == 0 {
		return nil
	}
	_, err := w.pos.Write(w.posBuf)
	w.posBuf = w.posBuf[:0]
	return err
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

// fastValues yields a column's values in doc order: the order-preserving
// u64 (see fastEncode) and whether the document has a value.
type fastValues = iter.Seq2[uint64, bool]

// values yields the column's values in doc order.
func (c *fastColumn) values(yield func(uint64, bool) bool) {
	for doc, v := range c.vals {
		if !yield(v, c.present[doc/64]&(1<<(doc%64)) != 0) {
			return
		}
	}
}

// fastChunk is how many values writeFastColumn packs at a time: a multiple
// of 8, so each chunk ends on a byte boundary for any width.
const fastChunk = 4096

// writeFastColumn encodes one column (see FORMAT.md, fast) of n values and
// streams it to w. It walks vals three times (bounds, presence, data), so
// neither the values nor the packed column need to be in memory; vals must
// yield exactly n values each time. It returns how many documents have a
// value.
func writeFastColumn(w io.Writer, ord int, typ FieldType, n uint32, vals fastValues) (uint32, error) {
	minV, maxV := uint64(math.MaxUint64), uint64(0)
	var count, seen uint32
	for v, ok := range vals {
		seen++
		if ok {
			minV, maxV = min(minV, v), max(maxV, v)
			count++
		}
	}
	if seen != n {
		return 0, fmt.Errorf("segment: internal error: fast column of field ordinal %d has %d values, want %d", ord, seen, n)
	}
	if count == 0 {
		minV, maxV = 0, 0
	}
	buf := binary.AppendUvarint(nil, uint64(ord))
	buf = append(buf, byte(typ))
	buf = binary.AppendUvarint(buf, uint64(n))
	flush := func(force bool) error {
		if len(buf) >= fastChunk || force && len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		return nil
	}
	if count == n {
		buf = append(buf, 0) // all present
	} else {
		buf = append(buf, 1)
		var word uint64
		i := 0
		for _, ok := range vals {
			if ok {
				word |= 1 << (i % 64)
			}
			if i++; i%64 == 0 {
				buf = binary.LittleEndian.AppendUint64(buf, word)
				word = 0
				if err := flush(false); err != nil {
					return 0, err
				}
			}
		}
		if i%64 != 0 {
			buf = binary.LittleEndian.AppendUint64(buf, word)
		}
	}
	width := uint8(bits.Len64(maxV - minV))
	buf = binary.LittleEndian.AppendUint64(buf, minV)
	buf = append(buf, width)
	buf = binary.AppendUvarint(buf, uint64((int(n)*int(width)+7)/8+8))
	deltas := make([]uint64, 0, min(int(n), fastChunk))
	for v, ok := range vals {
		if !ok {
			v = minV // a document without a value stores a zero delta
		}
		deltas = append(deltas, v-minV)
		if len(deltas) == fastChunk {
			buf = appendPacked64(buf, deltas, width)
			deltas = deltas[:0]
			if err := flush(false); err != nil {
				return 0, err
			}
		}
	}
	buf = appendPacked64(buf, deltas, width)
	buf = append(buf, make([]byte, 8)...) // padding for 8-byte loads
	return count, flush(true)
}

// writeNormsFile writes the .norm file (see FORMAT.md): norms[i] holds the
// numDocs codes of the indexed text field with ordinal ords[i].
func writeNormsFile(sw *segmentWriter, numDocs uint32, ords []int, norms [][]byte) error {
	w, err := sw.create(kindNorm)
	if err != nil {
		return err
	}
	hdr := binary.AppendUvarint(nil, uint64(len(ords)))
	hdr = binary.AppendUvarint(hdr, uint64(numDocs))
	for _, ord := range ords {
		hdr = binary.AppendUvarint(hdr, uint64(ord))
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	for _, n := range norms {
		if _, err := w.Write(n); err != nil {
			return err
		}
	}
	return sw.finish(kindNorm)
}

// keyColumn holds the primary key of every document, as its indexed term
// (see indexedTerm), so that a hit's key is one lookup instead of a stored
// block decompression.
type keyColumn struct {
	data []byte   // the keys back to back
	ends []uint32 // ends[d]: end of doc d's key in data
}

// add appends doc's key; nil for a document without one.
func (c *keyColumn) add(key []byte) {
	c.data = append(c.data, key...)
	c.ends = append(c.ends, uint32(len(c.data)))
}

func (c *keyColumn) mem() int64 { return int64(cap(c.data)) + int64(cap(c.ends))*4 }

func (c *keyColumn) keys(yield func([]byte) bool) {
	start := uint32(0)
	for _, end := range c.ends {
		if !yield(c.data[start:end]) {
			return
		}
		start = end
	}
}

// writeKeySection ends the fast file with the key section (see FORMAT.md,
// fast): a 0 byte when the schema has no primary key (ord < 0), else 1 and
// the key column of the n keys that keys yields. keys is called twice, for
// the offsets and then the bytes, so it must yield the same keys each time.
func writeKeySection(w io.Writer, ord int, n uint32, keys iter.Seq[[]byte]) error {
	if ord < 0 {
		_, err := w.Write([]byte{0})
		return err
	}
	buf := []byte{1}
	buf = binary.AppendUvarint(buf, uint64(ord))
	buf = binary.AppendUvarint(buf, uint64(n))
	buf = binary.LittleEndian.AppendUint32(buf, 0)
	var end uint64
	seen := uint32(0)
	for k := range keys {
		end += uint64(len(k))
		if end > math.MaxUint32 {
			return fmt.Errorf("segment: primary keys of a segment exceed 4 GiB")
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(end))
		seen++
		if len(buf) >= 64<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if seen != n {
		return fmt.Errorf("segment: internal error: key column has %d keys, want %d", seen, n)
	}
	for k := range keys {
		buf = append(buf, k...)
		if len(buf) >= 64<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}
