package segment

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// Many streams written interleaved, of every length from empty to several
// blocks, read back exactly; and the pool is reusable after release.
func TestByteBlockPoolStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	p := newByteBlockPool()
	for round := 0; round < 2; round++ {
		const n = 300
		want := make([][]byte, n)
		starts := make([]uint32, n)
		uptos := make([]uint32, n)
		for i := range n {
			addr, ok := p.newStream()
			if !ok {
				t.Fatal("pool full")
			}
			starts[i], uptos[i] = addr, addr
		}
		for step := 0; step < 200000; step++ {
			i := rng.IntN(n)
			if i%3 == 0 && step%2 == 1 {
				continue // some streams grow slower, some stay empty
			}
			if i == 0 {
				continue
			}
			c := byte(rng.IntN(256))
			if !p.writeByte(&uptos[i], c) {
				t.Fatal("pool full")
			}
			want[i] = append(want[i], c)
		}
		for i := range n {
			var r streamReader
			r.init(p, starts[i], uptos[i])
			var got []byte
			for {
				c, err := r.ReadByte()
				if err == errStreamEnd {
					break
				}
				got = append(got, c)
			}
			if !bytes.Equal(got, want[i]) {
				t.Fatalf("round %d stream %d: read %d bytes, wrote %d", round, i, len(got), len(want[i]))
			}
		}
		if p.mem() < int64(200000*2/3) {
			t.Fatalf("mem %d is less than the bytes written", p.mem())
		}
		p.release()
		if p.mem() != 0 {
			t.Fatalf("mem %d after release", p.mem())
		}
	}
}

// Terms that tie on their 8-byte prefix, or differ only by trailing zero
// bytes, still sort by their bytes.
func TestSortedTermIDs(t *testing.T) {
	fx := &fieldIndexer{hash: newTermHash("")}
	terms := []string{"abcdefgh2", "b", "abcdefgh", "abcdefgh1", "a\x00", "a", "", "abcdefgh\x00", "zz", "abcdefg"}
	for _, term := range terms {
		if _, isNew, _ := fx.hash.add([]byte(term)); isNew {
			fx.terms.add(termAcc{})
		}
	}
	var got []string
	for _, id := range fx.sortedTermIDs(nil) {
		got = append(got, string(fx.hash.term(id)))
	}
	want := slices.Clone(terms)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// streamReader reads a stream from its start up to end (its next write
// position), following the slices, a byte at a time: the plain reading
// that termDecoder is checked against.
type streamReader struct {
	p     *byteBlockPool
	buf   []byte // the unread bytes of the current slice
	next  uint32 // the address of the next slice; 0 if buf is the last
	level int
	end   uint32
}

func (r *streamReader) init(p *byteBlockPool, start, end uint32) {
	r.p, r.end, r.level = p, end, 0
	r.setSlice(start)
}

func (r *streamReader) setSlice(addr uint32) {
	size := uint32(sliceSizes[r.level])
	if r.end >= addr && r.end < addr+size {
		r.buf, r.next = r.p.at(addr)[:r.end-addr], 0 // the last slice
		return
	}
	s := r.p.at(addr)[:size]
	r.buf = s[:size-4]
	r.next = uint32(s[size-4]) | uint32(s[size-3])<<8 | uint32(s[size-2])<<16 | uint32(s[size-1])<<24
}

// ReadByte returns the next byte, or errStreamEnd after the last.
func (r *streamReader) ReadByte() (byte, error) {
	for len(r.buf) == 0 {
		if r.next == 0 {
			return 0, errStreamEnd
		}
		r.level = min(r.level+1, len(sliceSizes)-1)
		r.setSlice(r.next)
	}
	c := r.buf[0]
	r.buf = r.buf[1:]
	return c, nil
}

// readUvarint reads a uvarint; errStreamEnd at the end of the stream.
func (r *streamReader) readUvarint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c, err := r.ReadByte()
		if err != nil {
			if shift > 0 {
				err = errBadStream
			}
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errBadStream
}

var errStreamEnd = errors.New("segment: internal error: in-memory postings end early")
