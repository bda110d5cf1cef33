package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hermes-search/hermes-go/storage"
)

// modelTerm is a term's postings as Add receives them: docs increasing,
// each with its freq and freq position deltas.
type modelTerm struct {
	docs, freqs []uint32
	pos         [][]uint32
}

// randomTerm makes a term of n docs with gaps, freqs and position deltas
// that need one to five uvarint bytes now and then.
func randomTerm(rng *rand.Rand, n int) modelTerm {
	var m modelTerm
	doc := uint32(rng.IntN(3))
	for range n {
		freq := uint32(1)
		switch rng.IntN(8) {
		case 0:
			freq = 2 + uint32(rng.IntN(300))
		case 1, 2:
			freq = 2 + uint32(rng.IntN(4))
		}
		ps := make([]uint32, freq)
		for j := range ps {
			ps[j] = uint32(rng.IntN(200))
			if rng.IntN(50) == 0 {
				ps[j] = rng.Uint32() >> 4
			}
		}
		m.docs, m.freqs, m.pos = append(m.docs, doc), append(m.freqs, freq), append(m.pos, ps)
		gap := 1 + uint32(rng.IntN(4))
		if rng.IntN(20) == 0 {
			gap = 1 + uint32(rng.IntN(100000))
		}
		doc += gap
	}
	return m
}

// encodedPositions returns m's positions as the .pos file holds them.
func (m *modelTerm) encodedPositions() []byte {
	var b []byte
	for j := range m.pos {
		b = append(b, m.docPositions(j)...)
	}
	return b
}

// docPositions returns the positions of the term's doc j as the .pos
// file holds them.
func (m *modelTerm) docPositions(j int) []byte {
	var b []byte
	for _, p := range m.pos[j] {
		b = binary.AppendUvarint(b, uint64(p))
	}
	return b
}

// readStream is the simple reading of a pool stream, a byte at a time.
func readStream(p *byteBlockPool, start, end uint32) []byte {
	var r streamReader
	r.init(p, start, end)
	var got []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return got
		}
		got = append(got, c)
	}
}

// feedTermSimple is how Build read a term's postings before termDecoder:
// a uvarint at a time from the pool's stream reader, the pending doc
// flushed to the stream first (so it changes t and the pool).
func feedTermSimple(b *Builder, t *termAcc) (docs, freqs []uint32, err error) {
	if t.freq > 0 && !b.flushState(&t.postingState) {
		return nil, nil, errors.New("pool full")
	}
	var r streamReader
	r.init(b.pool, t.postStart, t.postUpto)
	prev1 := uint32(0)
	for {
		v, err := r.readUvarint()
		if err == errStreamEnd {
			return docs, freqs, nil
		}
		if err != nil {
			return nil, nil, err
		}
		freq := uint32(1)
		if v&1 == 0 {
			f, err := r.readUvarint()
			if err != nil {
				return nil, nil, err
			}
			freq = uint32(f)
		}
		prev1 += uint32(v >> 1)
		docs, freqs = append(docs, prev1-1), append(freqs, freq)
	}
}

// The termDecoder returns what the builder's pool holds: many terms whose
// streams grow interleaved (so their slices chain across pool blocks), of
// 0 (the pending doc only), 1, 127, 128, 129 and random numbers of docs,
// with and without positions; the stream bytes equal the simple
// byte-at-a-time reader's, the docs and freqs the simple uvarint reading's.
func TestTermDecoderModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	for _, positions := range []bool{false, true} {
		b := &Builder{pool: newByteBlockPool()}
		var terms []modelTerm
		for _, n := range []int{1, 2, 127, 128, 129, 130, 255, 256, 257} {
			terms = append(terms, randomTerm(rng, n))
		}
		for range 300 {
			terms = append(terms, randomTerm(rng, 1+rng.IntN(rng.IntN(700)+1)))
		}
		accs := make([]termAcc, len(terms))
		for i := range accs {
			a := &accs[i]
			a.postStart, _ = b.pool.newStream()
			a.posStart = a.postStart
			if positions {
				a.posStart, _ = b.pool.newStream()
			}
			a.postUpto, a.posUpto = a.postStart, a.posStart
		}
		// Add the docs round-robin as Add does: a doc's freq goes to the
		// stream when the term's next doc comes; the last stays pending.
		for k := 0; ; k++ {
			more := false
			for i := range terms {
				m, a := &terms[i], &accs[i]
				if k >= len(m.docs) {
					continue
				}
				more = true
				if a.freq > 0 && !b.flushState(&a.postingState) {
					t.Fatal("pool full")
				}
				a.curDoc, a.freq = m.docs[k], m.freqs[k]
				if positions {
					for _, p := range m.pos[k] {
						if !b.pool.writeUvarint(&a.posUpto, uint64(p)) {
							t.Fatal("pool full")
						}
					}
				}
			}
			if !more {
				break
			}
		}
		var dec termDecoder
		for i := range terms {
			m, a := &terms[i], &accs[i]
			post, _ := streamBytes(b.pool, a.postStart, a.postUpto, nil)
			if want := readStream(b.pool, a.postStart, a.postUpto); !bytes.Equal(post, want) {
				t.Fatalf("term %d: streamBytes differs from the byte reader", i)
			}
			docs, freqs, pos, err := dec.decode(post, b.pool, a, positions)
			if err != nil {
				t.Fatalf("term %d: %v", i, err)
			}
			if !slices.Equal(docs, m.docs) || !slices.Equal(freqs, m.freqs) {
				t.Fatalf("term %d of %d docs (positions %v): decoded docs or freqs differ", i, len(m.docs), positions)
			}
			var want []byte
			if positions {
				want = m.encodedPositions()
			}
			if !bytes.Equal(pos, want) {
				t.Fatalf("term %d of %d docs: positions differ", i, len(m.docs))
			}
		}
		// The simple reading agrees (it flushes the pending docs, so after).
		for i := range terms {
			docs, freqs, err := feedTermSimple(b, &accs[i])
			if err != nil || !slices.Equal(docs, terms[i].docs) || !slices.Equal(freqs, terms[i].freqs) {
				t.Fatalf("term %d: the simple reading differs (%v)", i, err)
			}
		}
		b.pool.release()
	}
}

// decodePostStreamSimple is the simple decoder decodePostStream is checked
// against: uvarints through a byte reader, then the checks the postings
// writer makes (increasing docs below NoMoreDocs, freqs of 1 and more).
func decodePostStreamSimple(src []byte) (docs, freqs []uint32, err error) {
	r := bytes.NewReader(src)
	prev1 := uint64(0)
	for r.Len() > 0 {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, nil, errBadStream
		}
		freq := uint64(1)
		if v&1 == 0 {
			if freq, err = binary.ReadUvarint(r); err != nil {
				return nil, nil, errBadStream
			}
		}
		doc1 := prev1 + v>>1
		if doc1 <= prev1 || doc1 > 1<<32-1 || freq == 0 || freq > 1<<32-1 {
			return nil, nil, errBadStream
		}
		prev1 = doc1
		docs, freqs = append(docs, uint32(doc1-1)), append(freqs, uint32(freq))
	}
	return docs, freqs, nil
}

// checkDecodePostStream checks decodePostStream against the simple
// decoder, and tailBlock (which reads the same streams) against both: the
// block encodeBlock makes of the decoded docs for a valid stream of fewer
// than blockSize docs, an error for a damaged one (unless it stops at
// blockSize docs first).
func checkDecodePostStream(t *testing.T, src []byte) {
	docs, freqs, err := decodePostStream(src, nil, nil)
	wantDocs, wantFreqs, wantErr := decodePostStreamSimple(src)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%x: error %v, the simple decoder's %v", src, err, wantErr)
	}
	if err == nil && (!slices.Equal(docs, wantDocs) || !slices.Equal(freqs, wantFreqs)) {
		t.Fatalf("%x: decoded %v %v, the simple decoder %v %v", src, docs, freqs, wantDocs, wantFreqs)
	}
	if len(src) == 0 {
		return
	}
	var pw postingsWriter
	df, ok, tailErr := pw.tailBlock(src, 0, 0, 0)
	switch {
	case wantErr == nil && len(wantDocs) < blockSize:
		block := slices.Clone(pw.data)
		pw.data, pw.prevDoc = pw.data[:0], -1
		pw.encodeBlock(wantDocs, wantFreqs, true)
		if !ok || tailErr != nil || df != len(wantDocs) || !bytes.Equal(block, pw.data) {
			t.Fatalf("%x: tailBlock made %x of %d docs (%v, %v), encodeBlock %x of %d", src, block, df, ok, tailErr, pw.data, len(wantDocs))
		}
	case wantErr == nil:
		if ok || tailErr != nil {
			t.Fatalf("%x: tailBlock took a term of %d docs (%v)", src, len(wantDocs), tailErr)
		}
	case ok:
		t.Fatalf("%x: tailBlock took a stream the simple decoder refuses (%v)", src, wantErr)
	}
}

// decodePostStream agrees with the simple decoder on valid streams and on
// damaged ones (cut anywhere, a byte changed), whose errors it reports.
func TestDecodePostStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 3))
	for _, n := range []int{0, 1, 2, 127, 128, 129, 1000} {
		m := randomTerm(rng, n)
		src := encodePostStream(m.docs, m.freqs)
		docs, freqs, err := decodePostStream(src, nil, nil)
		if err != nil || !slices.Equal(docs, m.docs) || !slices.Equal(freqs, m.freqs) {
			t.Fatalf("%d docs: decoded %d docs, error %v", n, len(docs), err)
		}
		for range 200 {
			bad := slices.Clone(src[:rng.IntN(len(src)+1)])
			if len(bad) > 0 && rng.IntN(2) == 0 {
				bad[rng.IntN(len(bad))] = byte(rng.Uint32())
			}
			checkDecodePostStream(t, bad)
		}
	}
	for _, src := range [][]byte{
		{0x00},                               // doc delta 0 and no freq
		{0x02},                               // freq missing
		{0x02, 0x00},                         // freq 0
		{0x01},                               // doc delta 0
		{0x03, 0x03},                         // docs 0 and 1
		{0xff, 0xff, 0xff, 0xff, 0x1f},       // doc 2^32-2, the last there can be
		{0x81, 0x80, 0x80, 0x80, 0x20},       // doc 2^32-1, NoMoreDocs
		{0x03, 0xfd, 0xff, 0xff, 0xff, 0x1f}, // doc 0, then 2^32-1
		{0xfe, 0xff, 0xff, 0xff, 0x1f, 0x80}, // freq cut short
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, // too long
	} {
		checkDecodePostStream(t, src)
	}
}

func FuzzDecodePostStream(f *testing.F) {
	f.Add([]byte{0x03, 0x02, 0x05, 0x07})
	f.Add([]byte{0xfe, 0xff, 0xff, 0xff, 0x1f, 0x80, 0x01})
	f.Fuzz(checkDecodePostStream)
}

// bufferFile is a WriteFile that keeps what is written.
type bufferFile struct{ bytes.Buffer }

func (*bufferFile) Sync() error  { return nil }
func (*bufferFile) Close() error { return nil }
func (*bufferFile) Name() string { return "buffer" }

// termWriteMode is how termWriterRun hands terms to the postingsWriter.
type termWriteMode int

const (
	byDoc      termWriteMode = iota // addDoc, a doc at a time, as merges do
	wholeTerms                      // addDocs
	singles                         // addSingleTerm for terms of one doc, else addDocs, as Build did
	tails                           // as singles, but tailBlock (from a post stream) where it takes the term, as Build does
)

// postStream is m's in-memory post stream (see decodePostStream) of all
// its docs but the last, which Add keeps pending.
func (m *modelTerm) postStream() []byte {
	return encodePostStream(m.docs[:len(m.docs)-1], m.freqs)
}

// encodePostStream encodes docs with their freqs as the builder's
// in-memory post stream: per doc, its delta from the previous doc + 1,
// shifted left, with the low bit set for a freq of 1, else the freq after.
func encodePostStream(docs, freqs []uint32) []byte {
	var src []byte
	prev1 := uint32(0)
	for i, d := range docs {
		delta := uint64(d + 1 - prev1)
		prev1 = d + 1
		if freqs[i] == 1 {
			src = binary.AppendUvarint(src, delta<<1|1)
		} else {
			src = binary.AppendUvarint(binary.AppendUvarint(src, delta<<1), uint64(freqs[i]))
		}
	}
	return src
}

// termWriterRun writes terms through a postingsWriter as mode says, and
// returns the .post and .pos bytes, the terms' offsets and the keyword
// column's docs.
func termWriterRun(t *testing.T, terms []modelTerm, positions bool, norms []byte, mode termWriteMode) (post, pos []byte, offs []uint64, kwDocs []uint32) {
	t.Helper()
	pf, posf := &bufferFile{}, &bufferFile{}
	kw := &keywordCollector{cur: &keywordColumnData{}}
	if mode == tails { // tailBlock leaves keyword fields' terms to addDocs
		kw = nil
	}
	pw := &postingsWriter{post: storage.NewChecksumWriter(pf), pos: storage.NewChecksumWriter(posf), kw: kw}
	for i := range terms {
		m := &terms[i]
		if mode == tails && len(m.docs) > 1 {
			last := len(m.docs) - 1
			df, ok, err := pw.tailBlock(m.postStream(), m.docs[last-1]+1, m.docs[last], m.freqs[last])
			if err != nil {
				t.Fatal(err)
			}
			if ok != (len(m.docs) < blockSize) || ok && df != len(m.docs) {
				t.Fatalf("term of %d docs: tailBlock took it %v, with %d docs", len(m.docs), ok, df)
			}
			if ok {
				var p []byte
				if positions {
					p = m.encodedPositions()
				}
				off, err := pw.addTail(positions, df, p)
				if err != nil {
					t.Fatal(err)
				}
				offs = append(offs, off)
				continue
			}
		}
		if (mode == singles || mode == tails) && len(m.docs) == 1 {
			var p []byte
			if positions {
				p = m.encodedPositions()
			}
			off, err := pw.addSingleTerm(positions, m.docs[0], m.freqs[0], p)
			if err != nil {
				t.Fatal(err)
			}
			offs = append(offs, off)
			kw.addTerm([]byte{byte(i)})
			continue
		}
		pw.startTerm(positions, norms)
		if mode != byDoc {
			var p []byte
			if positions {
				p = m.encodedPositions()
			}
			if err := pw.addDocs(m.docs, m.freqs, p); err != nil {
				t.Fatal(err)
			}
		} else {
			for j, d := range m.docs {
				var p []byte
				if positions {
					p = m.docPositions(j)
				}
				if err := pw.addDoc(d, m.freqs[j], p); err != nil {
					t.Fatal(err)
				}
			}
		}
		off, err := pw.finishTerm()
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, off)
		kw.addTerm([]byte{byte(i)})
	}
	if err := pw.flush(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*storage.ChecksumWriter{pw.post, pw.pos} {
		if err := f.Finish([4]byte{'t', 'e', 's', 't'}, 1); err != nil {
			t.Fatal(err)
		}
	}
	if kw == nil {
		return pf.Bytes(), posf.Bytes(), offs, nil
	}
	return pf.Bytes(), posf.Bytes(), offs, kw.cur.docs
}

// addDocs writes the bytes addDoc does, a doc at a time, for terms of 1,
// 127, 128, 129, 256, 257 and random numbers of docs, with and without
// positions and norms.
func TestAddDocsModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 4))
	var terms []modelTerm
	for _, n := range []int{1, 2, 127, 128, 129, 255, 256, 257, 1000} {
		terms = append(terms, randomTerm(rng, n))
	}
	for range 200 {
		terms = append(terms, randomTerm(rng, 1+rng.IntN(rng.IntN(600)+1)))
	}
	maxDoc := uint32(0)
	for _, m := range terms {
		maxDoc = max(maxDoc, m.docs[len(m.docs)-1])
	}
	norms := make([]byte, maxDoc/2) // docs past the end have no norm
	for i := range norms {
		norms[i] = byte(rng.Uint32())
	}
	for _, positions := range []bool{false, true} {
		for _, nm := range [][]byte{nil, norms} {
			post, pos, offs, kw := termWriterRun(t, terms, positions, nm, wholeTerms)
			post1, pos1, offs1, kw1 := termWriterRun(t, terms, positions, nm, byDoc)
			if !bytes.Equal(post, post1) || !bytes.Equal(pos, pos1) || !slices.Equal(offs, offs1) || !slices.Equal(kw, kw1) {
				t.Fatalf("positions %v, norms %v: addDocs wrote other bytes than addDoc", positions, nm != nil)
			}
		}
	}
}

// addSingleTerm writes the bytes of addDoc for a term of one document:
// docs and freqs across the uvarint lengths (the doc shifted left by one),
// positions that fill the 32 KiB write buffers, among terms of many docs.
func TestAddSingleTermModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 6))
	var terms []modelTerm
	edges := []uint32{0, 1, 63, 64, 127, 128, 8191, 8192, 1<<20 - 1, 1 << 20, 1<<27 - 1, 1 << 27, 1<<31 - 1, 1 << 31, NoMoreDocs - 1}
	for _, doc := range edges {
		for _, freq := range []uint32{1, 2, 127, 128, 300} {
			m := randomTerm(rng, 1)
			m.docs[0] = doc
			m.freqs[0] = freq
			m.pos[0] = make([]uint32, freq)
			for j := range m.pos[0] {
				m.pos[0][j] = rng.Uint32() >> uint(rng.IntN(32))
			}
			terms = append(terms, m)
		}
	}
	for range 4000 {
		n := 1
		if rng.IntN(4) == 0 {
			n += rng.IntN(200)
		}
		terms = append(terms, randomTerm(rng, n))
	}
	for _, positions := range []bool{false, true} {
		post, pos, offs, kw := termWriterRun(t, terms, positions, nil, singles)
		post1, pos1, offs1, kw1 := termWriterRun(t, terms, positions, nil, byDoc)
		if !bytes.Equal(post, post1) || !bytes.Equal(pos, pos1) || !slices.Equal(offs, offs1) || !slices.Equal(kw, kw1) {
			t.Fatalf("positions %v: addSingleTerm wrote other bytes than addDoc", positions)
		}
		if positions && len(pos) < 40<<10 || len(post) < 40<<10 {
			t.Fatalf("positions %v: %d bytes of postings and %d of positions, want the 32 KiB buffers flushed", positions, len(post), len(pos))
		}
	}
	pw := &postingsWriter{post: storage.NewChecksumWriter(&bufferFile{}), pos: storage.NewChecksumWriter(&bufferFile{})}
	for _, c := range [][2]uint32{{NoMoreDocs, 1}, {5, 0}} {
		if _, err := pw.addSingleTerm(false, c[0], c[1], nil); err == nil {
			t.Errorf("addSingleTerm(doc %d, freq %d): no error", c[0], c[1])
		}
	}
}

// tailBlock and addTail write the bytes of addDoc for the terms of fewer
// than blockSize documents, from the stream Add leaves and the pending
// doc; the others (none of 1, 127, 128, 129 docs and random ones, across
// the uvarint lengths of docs and freqs) they leave to addDocs.
func TestTailBlockModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 7))
	var terms []modelTerm
	for _, n := range []int{1, 2, 3, 126, 127, 128, 129, 1000} {
		terms = append(terms, randomTerm(rng, n))
	}
	for range 3000 {
		terms = append(terms, randomTerm(rng, 1+rng.IntN(rng.IntN(300)+1)))
	}
	for _, positions := range []bool{false, true} {
		post, pos, offs, _ := termWriterRun(t, terms, positions, nil, tails)
		post1, pos1, offs1, _ := termWriterRun(t, terms, positions, nil, byDoc)
		if !bytes.Equal(post, post1) || !bytes.Equal(pos, pos1) || !slices.Equal(offs, offs1) {
			t.Fatalf("positions %v: tailBlock and addTail wrote other bytes than addDoc", positions)
		}
	}
	// A pending doc not after the stream's last is an error.
	m := randomTerm(rng, 5)
	var pw postingsWriter
	if _, _, err := pw.tailBlock(m.postStream(), m.docs[3]+1, m.docs[3], 1); !errors.Is(err, errBadStream) {
		t.Fatalf("pending doc repeated: %v, want %v", err, errBadStream)
	}
	// With a keyword column to fill, it leaves every term to addDocs.
	pw.kw = &keywordCollector{cur: &keywordColumnData{}}
	if _, ok, err := pw.tailBlock(m.postStream(), m.docs[3]+1, m.docs[4], 1); ok || err != nil {
		t.Fatalf("keyword column: tailBlock took the term (%v)", err)
	}
}

// addDocs reports positions that end before a block's do.
func TestAddDocsShortPositions(t *testing.T) {
	m := randomTerm(rand.New(rand.NewPCG(13, 5)), 200)
	p := m.encodedPositions()
	pw := &postingsWriter{post: storage.NewChecksumWriter(&bufferFile{}), pos: storage.NewChecksumWriter(&bufferFile{})}
	pw.startTerm(true, nil)
	n := skipUvarints(p, 10) // well inside the first block
	if err := pw.addDocs(m.docs, m.freqs, p[:n]); !errors.Is(err, errBadPositions) {
		t.Fatalf("positions cut short: %v, want %v", err, errBadPositions)
	}
}
