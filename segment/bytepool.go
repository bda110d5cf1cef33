package segment

import (
	"errors"
	"sync"
)

// byteBlockPool holds many growing byte streams, one per term, in fixed-size
// blocks (Lucene's ByteBlockPool). A stream is a chain of slices whose sizes
// grow by level; a full slice ends in the 4-byte address of the next.
// Compared with a []byte per term it makes no allocation per term or per
// growth, holds no pointers for the collector to scan, and its memory is
// exactly its blocks. Blocks come from, and go back to, a process-wide pool,
// so a worker's next segment reuses the memory of its last.
type byteBlockPool struct {
	blocks [][]byte
	upto   int // next free byte in the last block; poolBlockSize if none
}

const (
	poolBlockShift = 15
	poolBlockSize  = 1 << poolBlockShift // 32 KiB
	poolBlockMask  = poolBlockSize - 1
	// maxPoolBytes bounds the addresses, which are uint32.
	maxPoolBytes = 1<<32 - poolBlockSize
)

// sliceSizes are the sizes of a stream's slices, level by level; a stream
// stays at the last level once it reaches it.
var sliceSizes = [...]int{5, 14, 20, 30, 40, 40, 80, 80, 120, 200}

// freeBlocks are blocks released by builders, for the next one.
var freeBlocks = sync.Pool{New: func() any { return new([poolBlockSize]byte) }}

func newByteBlockPool() *byteBlockPool { return &byteBlockPool{upto: poolBlockSize} }

// mem returns the bytes the pool holds.
func (p *byteBlockPool) mem() int64 { return int64(len(p.blocks)) * poolBlockSize }

// release hands the blocks back for reuse; the pool is empty afterwards.
func (p *byteBlockPool) release() {
	for _, b := range p.blocks {
		clear(b)
		freeBlocks.Put((*[poolBlockSize]byte)(b))
	}
	p.blocks, p.upto = nil, poolBlockSize
}

// alloc reserves size zeroed bytes in one block and returns their address,
// or false when the pool would pass 4 GiB.
func (p *byteBlockPool) alloc(size int) (uint32, bool) {
	if p.upto+size > poolBlockSize {
		if len(p.blocks) >= maxPoolBytes/poolBlockSize {
			return 0, false
		}
		p.blocks = append(p.blocks, freeBlocks.Get().(*[poolBlockSize]byte)[:])
		p.upto = 0
	}
	addr := uint32(len(p.blocks)-1)<<poolBlockShift | uint32(p.upto)
	p.upto += size
	return addr, true
}

func (p *byteBlockPool) at(addr uint32) []byte {
	return p.blocks[addr>>poolBlockShift][addr&poolBlockMask:]
}

// newStream starts a stream and returns its address, which is both where it
// starts and where it is written next.
func (p *byteBlockPool) newStream() (uint32, bool) {
	addr, ok := p.alloc(sliceSizes[0])
	if ok {
		p.at(addr)[sliceSizes[0]-1] = 16 // end marker of level 0
	}
	return addr, ok
}

// writeByte appends c to the stream whose next write is at *upto. It is
// small enough to be inlined; writeByteSlow moves on to the next slice.
func (p *byteBlockPool) writeByte(upto *uint32, c byte) bool {
	b := p.blocks[*upto>>poolBlockShift]
	i := *upto & poolBlockMask
	if b[i] != 0 {
		return p.writeByteSlow(upto, c)
	}
	b[i] = c
	*upto++
	return true
}

// writeByteSlow is writeByte at the end marker of a full slice.
func (p *byteBlockPool) writeByteSlow(upto *uint32, c byte) bool {
	next, ok := p.nextSlice(*upto, p.blocks[*upto>>poolBlockShift][*upto&poolBlockMask]&15)
	if !ok {
		return false
	}
	p.blocks[next>>poolBlockShift][next&poolBlockMask] = c
	*upto = next + 1
	return true
}

// writeUvarint appends v as a uvarint. It writes the bytes itself rather
// than through writeByte: one call per posting instead of one per byte.
func (p *byteBlockPool) writeUvarint(upto *uint32, v uint64) bool {
	for {
		c := byte(v)
		if v >= 0x80 {
			c |= 0x80
		}
		b := p.blocks[*upto>>poolBlockShift]
		if i := *upto & poolBlockMask; b[i] == 0 {
			b[i] = c
			*upto++
		} else if !p.writeByteSlow(upto, c) {
			return false
		}
		if v < 0x80 {
			return true
		}
		v >>= 7
	}
}

// nextSlice allocates the slice after the full one whose end marker (of
// level) is at end: the last 3 data bytes move to the new slice and the
// last 4 bytes of the old one become its address. It returns where the
// next byte goes.
func (p *byteBlockPool) nextSlice(end uint32, level byte) (uint32, bool) {
	newLevel := min(int(level)+1, len(sliceSizes)-1)
	size := sliceSizes[newLevel]
	addr, ok := p.alloc(size)
	if !ok {
		return 0, false
	}
	dst := p.at(addr)
	src := p.at(end - 3)
	copy(dst[:3], src[:3])
	dst[size-1] = 16 | byte(newLevel)
	src[0], src[1], src[2], src[3] = byte(addr), byte(addr>>8), byte(addr>>16), byte(addr>>24)
	return addr + 3, true
}

var errBadStream = errors.New("segment: internal error: bad in-memory postings")

// blockBuffer is an append-only byte buffer in pooled blocks: it grows
// without copying, and its blocks are reused after release.
type blockBuffer struct {
	chunks [][]byte // full blocks, then the last one, each sliced to its length
}

func (b *blockBuffer) write(p []byte) {
	for len(p) > 0 {
		n := len(b.chunks)
		if n == 0 || len(b.chunks[n-1]) == poolBlockSize {
			b.chunks = append(b.chunks, freeBlocks.Get().(*[poolBlockSize]byte)[:0])
			n++
		}
		last := b.chunks[n-1]
		k := min(len(p), poolBlockSize-len(last))
		b.chunks[n-1] = append(last, p[:k]...)
		p = p[k:]
	}
}

func (b *blockBuffer) mem() int64 { return int64(len(b.chunks)) * poolBlockSize }

func (b *blockBuffer) release() {
	for _, c := range b.chunks {
		c = c[:poolBlockSize]
		clear(c)
		freeBlocks.Put((*[poolBlockSize]byte)(c))
	}
	b.chunks = nil
}
