package segment

import (
	"encoding/binary"
	"errors"
)

// termDecoder reads a term's in-memory postings (its post and pos streams
// in the byte pool, plus the pending doc of its termAcc) into flat slices
// that the postings writer takes whole: one tight loop over bytes per
// term instead of one ReadByte call per byte. Its buffers are reused from
// term to term.
type termDecoder struct {
	post, pos   []byte // a stream's bytes when they span several slices
	docs, freqs []uint32
}

var errBadPositions = errors.New("segment: internal error: bad in-memory positions")

// postStream returns t's post stream (see decodePostStream), valid until
// the next call.
func (d *termDecoder) postStream(p *byteBlockPool, t *termAcc) []byte {
	var post []byte
	post, d.post = streamBytes(p, t.postStart, t.postUpto, d.post)
	return post
}

// positions returns, with positions, t's positions as the .pos file holds
// them (uvarint deltas, freq per doc), valid until the next call; else
// nil.
func (d *termDecoder) positions(p *byteBlockPool, t *termAcc, positions bool) []byte {
	if !positions {
		return nil
	}
	var pos []byte
	pos, d.pos = streamBytes(p, t.posStart, t.posUpto, d.pos)
	return pos
}

// decode returns t's documents (increasing), their freqs and, with
// positions, their positions (see positions), from its post stream post
// (see postStream) and its pending doc. The results are valid until the
// next call.
func (d *termDecoder) decode(post []byte, p *byteBlockPool, t *termAcc, positions bool) (docs, freqs []uint32, pos []byte, err error) {
	docs, freqs, err = decodePostStream(post, d.docs[:0], d.freqs[:0])
	if err == nil && t.freq > 0 {
		// The pending doc, which Add has not written to the stream.
		if t.curDoc+1 <= t.prevDoc1 {
			err = errBadStream
		}
		docs, freqs = append(docs, t.curDoc), append(freqs, t.freq)
	}
	d.docs, d.freqs = docs, freqs
	if err != nil {
		return nil, nil, nil, err
	}
	return docs, freqs, d.positions(p, t, positions), nil
}

// streamBytes returns the bytes of the pool stream that starts at start
// and is written up to end (see byteBlockPool): the pool's own memory when
// the stream is one slice, else its slices' data appended to buf[:0]. It
// returns buf, possibly grown, for reuse.
func streamBytes(p *byteBlockPool, start, end uint32, buf []byte) (stream, newBuf []byte) {
	addr, level := start, 0
	size := uint32(sliceSizes[0])
	if end-addr < size { // end >= addr: a stream only grows
		return p.at(addr)[:end-addr], buf
	}
	buf = buf[:0]
	for {
		s := p.at(addr)[:size]
		buf = append(buf, s[:size-4]...)
		addr = binary.LittleEndian.Uint32(s[size-4:])
		level = min(level+1, len(sliceSizes)-1)
		size = uint32(sliceSizes[level])
		if end >= addr && end-addr < size {
			return append(buf, p.at(addr)[:end-addr]...), buf
		}
	}
}

// decodePostStream decodes a post stream (per doc a uvarint of the doc
// delta << 1, its low bit set when the freq is 1, else followed by a
// uvarint freq; doc ids counted from 1) into docs and freqs, appended.
func decodePostStream(src []byte, docs, freqs []uint32) ([]uint32, []uint32, error) {
	prev1 := uint64(0) // previous doc + 1
	for i := 0; i < len(src); {
		v := uint64(src[i])
		if v < 0x80 {
			i++
		} else {
			var n int
			if v, n = binary.Uvarint(src[i:]); n <= 0 {
				return docs, freqs, errBadStream
			}
			i += n
		}
		freq := uint64(1)
		if v&1 == 0 {
			if i >= len(src) {
				return docs, freqs, errBadStream
			}
			if freq = uint64(src[i]); freq < 0x80 {
				i++
			} else {
				var n int
				if freq, n = binary.Uvarint(src[i:]); n <= 0 {
					return docs, freqs, errBadStream
				}
				i += n
			}
		}
		prev1 += v >> 1
		if v>>1 == 0 || freq == 0 || prev1 > 1<<32-1 || freq > 1<<32-1 {
			return docs, freqs, errBadStream
		}
		docs = append(docs, uint32(prev1-1))
		freqs = append(freqs, uint32(freq))
	}
	return docs, freqs, nil
}
