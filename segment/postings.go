package segment

import (
	"math"
	"sync"
)

// NoMoreDocs is the doc id of an exhausted Postings iterator.
const NoMoreDocs = math.MaxUint32

// blockEntry describes one block of a term's postings (see FORMAT.md).
type blockEntry struct {
	lastDoc uint32
	prevDoc int64 // last doc of the previous block, -1 for the first
	dataOff int   // offset of the block in the .post payload
	dataLen int
	maxFreq uint32
	minNorm uint8
	posOff  int64 // offset of the block's positions in the .pos payload
	posLen  int64
}

// skipCursor walks a term's block index forward.
type skipCursor struct {
	next  int // offset in .post of the next entry
	block int // block of e; -1 before the first
	e     blockEntry
}

// Postings iterates one term's documents in increasing order. It starts
// positioned on its first document. Doc ids are decoded one block of 128
// at a time; Advance and BlockMax skip whole blocks through the term's
// block index without decoding them. A Postings is not safe for
// concurrent use; get one per goroutine from Reader.Postings.
//
// Corrupt data never panics: the iterator ends (NoMoreDocs) and Err
// reports a *storage.CorruptError naming the file.
type Postings struct {
	post, pos []byte // payloads of the .post and .pos files
	postName  string
	posName   string
	norms     []byte // norm codes of the field, or nil
	positions bool
	df        uint32
	nBlocks   int

	idxStart, idxEnd int   // the block index in post (multi-block terms)
	dataStart        int   // offset of block 0 in post
	posStart         int64 // offset of the term's positions in pos

	// main is at the decoded block; shallow runs ahead for BlockMax.
	main, shallow skipCursor

	// The decoded block.
	blk   int
	cur   blockEntry
	docs  [blockSize]uint32
	freqs [blockSize]uint32
	n, i  int
	doc   uint32

	// Lazy positions: the positions of block doc posDoc start at posAt.
	posDoc int
	posAt  int64

	err error
}

// postingsPool holds released iterators: a query opens one per term and
// segment, each ~1.2 KB of decoded-block arrays, so searches reuse them
// instead of allocating them anew.
var postingsPool = sync.Pool{New: func() any { return new(Postings) }}

// newPostings parses the term record at off.
func newPostings(r *Reader, rf *readerField, off uint64) (*Postings, error) {
	p := postingsPool.Get().(*Postings)
	if err := p.reset(r, rf, off, r.core.postName, r.core.posName); err != nil {
		return nil, err
	}
	return p, nil
}

// Release hands p back for reuse by a later Reader.Postings. It is
// optional (an unreleased iterator is garbage collected as usual); p must
// not be used after it.
func (p *Postings) Release() {
	*p = Postings{} // drop the references to the segment's data
	postingsPool.Put(p)
}

// reset points p at the term record at off, reusing its memory (merges
// walk millions of terms). postName and posName are the files' names.
func (p *Postings) reset(r *Reader, rf *readerField, off uint64, postName, posName string) error {
	*p = Postings{
		post: r.core.post, pos: r.core.pos,
		postName: postName, posName: posName,
		norms: rf.norms, positions: rf.field.Positions,
	}
	if off >= uint64(len(p.post)) {
		return corrupt(p.postName, "term offset %d beyond the file (%d bytes)", off, len(p.post))
	}
	d := decoder{b: p.post, p: int(off), file: p.postName, what: "term header"}
	p.df = d.uvarint32()
	if p.positions {
		v := d.uvarint()
		if v > uint64(len(p.pos)) {
			return corrupt(p.posName, "positions offset %d beyond the file (%d bytes)", v, len(p.pos))
		}
		p.posStart = int64(v)
	}
	if p.df == 0 && !d.bad {
		return corrupt(p.postName, "term at offset %d has no documents", off)
	}
	p.nBlocks = int((uint64(p.df) + blockSize - 1) / blockSize)
	if p.nBlocks > 1 {
		n := d.length()
		p.idxStart = d.p
		d.p += n
		p.idxEnd = d.p
	}
	if err := d.err(); err != nil {
		return err
	}
	p.dataStart = d.p
	p.resetCursor(&p.main)
	p.blk = -1
	if !p.nextEntry(&p.main) || !p.loadBlock() {
		if p.err == nil {
			p.err = corrupt(p.postName, "term at offset %d: cannot read its first block", off)
		}
		return p.err
	}
	p.shallow = p.main
	return nil
}

// blockLen is the number of docs in block b.
func (p *Postings) blockLen(b int) int {
	if b < p.nBlocks-1 {
		return blockSize
	}
	return int(p.df) - blockSize*(p.nBlocks-1)
}

func (p *Postings) resetCursor(c *skipCursor) {
	*c = skipCursor{next: p.idxStart, block: -1}
}

func (p *Postings) fail(file, format string, args ...any) {
	if p.err == nil {
		p.err = corrupt(file, format, args...)
	}
	p.doc = NoMoreDocs
	p.n, p.i = 0, 0
}

// nextEntry moves c to the next block. A single-block term has no index;
// its bounds are filled in when the block is decoded.
func (p *Postings) nextEntry(c *skipCursor) bool {
	if c.block+1 >= p.nBlocks || p.err != nil {
		return false
	}
	if p.nBlocks == 1 {
		c.block = 0
		c.e = blockEntry{lastDoc: NoMoreDocs - 1, prevDoc: -1, dataOff: p.dataStart, maxFreq: math.MaxUint32, posOff: p.posStart}
		return true
	}
	d := decoder{b: p.post[:p.idxEnd], p: c.next, file: p.postName, what: "block index"}
	delta := d.uvarint32()
	dataLen := d.uvarint32()
	e := blockEntry{dataLen: int(dataLen), maxFreq: d.uvarint32(), minNorm: d.byte()}
	if p.positions {
		e.posLen = int64(d.uvarint32())
	}
	if d.bad {
		p.fail(p.postName, "malformed block index")
		return false
	}
	if c.block < 0 {
		e.lastDoc, e.prevDoc = delta, -1
		e.dataOff, e.posOff = p.dataStart, p.posStart
	} else {
		prev := &c.e
		e.lastDoc, e.prevDoc = prev.lastDoc+delta, int64(prev.lastDoc)
		e.dataOff, e.posOff = prev.dataOff+prev.dataLen, prev.posOff+prev.posLen
		if e.lastDoc < prev.lastDoc || delta == 0 {
			p.fail(p.postName, "block index: doc ids out of order")
			return false
		}
	}
	if e.dataOff+e.dataLen > len(p.post) || e.posOff+e.posLen > int64(len(p.pos)) || e.lastDoc >= NoMoreDocs {
		p.fail(p.postName, "block index points beyond the file")
		return false
	}
	c.e = e
	c.block++
	c.next = d.p
	return true
}

// skipTo moves c to the first block whose last doc is >= target. It
// returns false if there is none.
func (p *Postings) skipTo(c *skipCursor, target uint32) bool {
	if c.block >= 0 && int64(target) <= c.e.prevDoc {
		p.resetCursor(c) // backwards: start over
	}
	for c.block < 0 || c.e.lastDoc < target {
		if !p.nextEntry(c) {
			return false
		}
	}
	return true
}

// loadBlock decodes the block under the skip cursor.
func (p *Postings) loadBlock() bool {
	e := p.main.e
	n := p.blockLen(p.main.block)
	d := decoder{b: p.post, p: e.dataOff, file: p.postName, what: "postings block"}
	prev := e.prevDoc
	if n == blockSize {
		bw := d.byte()
		if bw > 32 {
			p.fail(p.postName, "postings block with %d-bit doc deltas", bw)
			return false
		}
		src := d.bytes(packedLen(blockSize, bw))
		fw := d.byte()
		if d.bad || fw > 32 {
			p.fail(p.postName, "malformed postings block")
			return false
		}
		fsrc := d.bytes(packedLen(blockSize, fw))
		if d.bad {
			p.fail(p.postName, "truncated postings block")
			return false
		}
		unpack(p.docs[:], src, bw)
		unpack(p.freqs[:], fsrc, fw)
		for i := range p.docs {
			v := prev + 1 + int64(p.docs[i])
			if v >= NoMoreDocs {
				p.fail(p.postName, "doc id overflow in postings block")
				return false
			}
			p.docs[i] = uint32(v)
			prev = v
			p.freqs[i]++
		}
	} else {
		for i := 0; i < n; i++ {
			v := d.uvarint()
			freq := uint64(1)
			if v&1 == 0 {
				freq = d.uvarint()
			}
			doc := prev + 1 + int64(v>>1)
			if d.bad || doc >= NoMoreDocs || freq == 0 || freq > math.MaxUint32 {
				p.fail(p.postName, "malformed postings block")
				return false
			}
			p.docs[i], p.freqs[i] = uint32(doc), uint32(freq)
			prev = doc
		}
	}
	if p.nBlocks == 1 {
		// A single block has no index entry: derive its bounds.
		e.lastDoc = p.docs[n-1]
		e.maxFreq = 0
		e.minNorm = 255
		if p.norms == nil {
			e.minNorm = 0
		}
		for i := 0; i < n; i++ {
			e.maxFreq = max(e.maxFreq, p.freqs[i])
			if p.norms != nil && int(p.docs[i]) < len(p.norms) {
				e.minNorm = min(e.minNorm, p.norms[p.docs[i]])
			}
		}
		p.main.e = e
	} else if p.docs[n-1] != e.lastDoc {
		p.fail(p.postName, "block index says last doc %d, block ends at %d", e.lastDoc, p.docs[n-1])
		return false
	}
	p.cur = e
	p.blk = p.main.block
	p.n, p.i = n, 0
	p.doc = p.docs[0]
	p.posDoc, p.posAt = 0, e.posOff
	return true
}

// DocFreq returns the number of documents of the term.
func (p *Postings) DocFreq() uint32 { return p.df }

// Err returns the first corruption the iterator met, if any.
func (p *Postings) Err() error { return p.err }

// Doc returns the current document, or NoMoreDocs.
func (p *Postings) Doc() uint32 { return p.doc }

// Next moves to the next document and returns it (NoMoreDocs at the end).
func (p *Postings) Next() uint32 {
	if p.doc == NoMoreDocs {
		return NoMoreDocs
	}
	p.i++
	if p.i < p.n {
		p.doc = p.docs[p.i]
		return p.doc
	}
	return p.nextBlock()
}

func (p *Postings) nextBlock() uint32 {
	if !p.nextEntry(&p.main) || !p.loadBlock() {
		p.doc = NoMoreDocs
		return NoMoreDocs
	}
	return p.doc
}

// Advance moves to the first document >= target and returns it (or
// NoMoreDocs). If the current document is already >= target it stays.
func (p *Postings) Advance(target uint32) uint32 {
	if p.doc >= target {
		return p.doc
	}
	if target > p.cur.lastDoc {
		if p.shallow.block > p.main.block && int64(target) > p.shallow.e.prevDoc {
			p.main = p.shallow // BlockMax already walked the index this far
		}
		if !p.skipTo(&p.main, target) || !p.loadBlock() {
			p.doc = NoMoreDocs
			return NoMoreDocs
		}
	}
	for p.i < p.n && p.docs[p.i] < target {
		p.i++
	}
	if p.i == p.n { // cannot happen when lastDoc >= target; be safe
		return p.nextBlock()
	}
	p.doc = p.docs[p.i]
	return p.doc
}

// Freq returns the current document's term frequency.
func (p *Postings) Freq() uint32 {
	if p.doc == NoMoreDocs {
		return 0
	}
	return p.freqs[p.i]
}

// Positions appends the current document's positions to buf[:0] and
// returns it. It returns buf[:0] for fields without positions.
func (p *Postings) Positions(buf []uint32) []uint32 {
	buf = buf[:0]
	if !p.positions || p.doc == NoMoreDocs {
		return buf
	}
	if !p.seekPositions() {
		return buf
	}
	d := decoder{b: p.pos, p: int(p.posAt), file: p.posName, what: "positions"}
	last := uint64(0)
	for j := uint32(0); j < p.freqs[p.i]; j++ {
		last += d.uvarint()
		buf = append(buf, uint32(last))
	}
	if d.bad || last > math.MaxUint32 {
		p.fail(p.posName, "malformed positions")
		return buf[:0]
	}
	return buf
}

// BlockMax returns bounds for the block that holds target (the first block
// whose last doc is >= target) without decoding it: the block's last doc,
// the largest freq in it and the smallest FieldNorm of its documents (0
// for fields without norms). Every document d of the block with d >=
// target has Freq <= maxFreq and FieldNorm >= minNorm. ok is false when
// target is past the last document.
func (p *Postings) BlockMax(target uint32) (lastDoc, maxFreq, minNorm uint32, ok bool) {
	if p.blk >= 0 && int64(target) > p.cur.prevDoc && target <= p.cur.lastDoc {
		return p.cur.lastDoc, p.cur.maxFreq, normTable[p.cur.minNorm], true
	}
	if p.nBlocks == 1 {
		return 0, 0, 0, false // target is past the only block
	}
	c := &p.shallow
	if c.block < p.main.block {
		*c = p.main
	}
	if !p.skipTo(c, target) {
		return 0, 0, 0, false
	}
	return c.e.lastDoc, c.e.maxFreq, normTable[c.e.minNorm], true
}

// seekPositions moves the positions cursor past the documents before the
// current one. It reports false (and records the error) on truncation.
func (p *Postings) seekPositions() bool {
	for p.posDoc < p.i {
		k := skipUvarints(p.pos[p.posAt:], uint64(p.freqs[p.posDoc]))
		if k < 0 {
			p.fail(p.posName, "truncated positions")
			return false
		}
		p.posAt += int64(k)
		p.posDoc++
	}
	return true
}

// rawPositions returns the current document's positions as stored in the
// .pos file (freq uvarint deltas), without decoding them, for merges to
// copy. It returns nil for fields without positions or on corruption (Err
// tells which).
func (p *Postings) rawPositions() []byte {
	if !p.positions || p.doc == NoMoreDocs {
		return nil
	}
	if !p.seekPositions() {
		return nil
	}
	k := skipUvarints(p.pos[p.posAt:], uint64(p.freqs[p.i]))
	if k < 0 {
		p.fail(p.posName, "truncated positions")
		return nil
	}
	return p.pos[p.posAt : p.posAt+int64(k)]
}
