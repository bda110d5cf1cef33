package segment

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/blevesearch/vellum"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// ResolveTokenizers looks up the tokenizer of every indexed text field in
// reg. overrides maps a field name to a tokenizer name that replaces the
// schema's; an override for a field that is not an indexed text field is an
// error, as is an unknown tokenizer name.
func ResolveTokenizers(s *Schema, reg *analysis.Registry, overrides map[string]string) (map[string]analysis.Tokenizer, error) {
	for name := range overrides {
		f, ok := s.Field(name)
		if !ok {
			return nil, fmt.Errorf("segment: tokenizer override for unknown field %q", name)
		}
		if f.Type != TypeText || !f.Indexed {
			return nil, fmt.Errorf("segment: tokenizer override for field %q, which is not an indexed text field", name)
		}
	}
	out := make(map[string]analysis.Tokenizer)
	for _, f := range s.fields {
		if f.Type != TypeText || !f.Indexed {
			continue
		}
		name := f.TokenizerName()
		if o, ok := overrides[f.Name]; ok {
			name = o
		}
		tok, err := reg.Get(name)
		if err == nil && tok == nil {
			err = errors.New("not registered")
		}
		if err != nil {
			return nil, fmt.Errorf("segment: field %q: tokenizer %q: %w", f.Name, name, err)
		}
		out[f.Name] = tok
	}
	return out, nil
}

// termAcc accumulates one term's postings in the builder's byte pool.
// Flushed documents are in the post stream as uvarint(docDelta<<1 |
// freq==1) [uvarint freq], docDelta being doc+1 minus the previous doc+1;
// the current document's freq is pending in freq until the term shows up
// in a later document (or Build). Positions go straight to the pos stream
// as uvarint deltas from the previous position in the same document. It
// holds no pointers, so a field's terms are not scanned by the collector.
//
// While documents are added, the postingState of a term lives in its
// slot of the term hash, where a token finds it without another cache
// miss; the one here is stale until Build copies it back (syncTerms).
type termAcc struct {
	postStart uint32 // the post stream's start
	posStart  uint32 // the pos stream, with positions: start, next write
	posUpto   uint32
	lastPos   uint32 // position of the term's last token in curDoc
	postingState
}

const termAccSize = int64(unsafe.Sizeof(termAcc{}))

// termAccs are a field's terms by id, in pages, so that adding terms never
// copies the ones before.
type termAccs struct {
	pages [][]termAcc
	n     int
}

const termPageShift = 12

// freeTermPages holds the pages of released termAccs, for reuse.
var freeTermPages sync.Pool

func (ts *termAccs) add(t termAcc) {
	if ts.n&(1<<termPageShift-1) == 0 {
		page, ok := freeTermPages.Get().(*[1 << termPageShift]termAcc)
		if !ok {
			page = new([1 << termPageShift]termAcc)
		}
		ts.pages = append(ts.pages, page[:0])
	}
	last := len(ts.pages) - 1
	ts.pages[last] = append(ts.pages[last], t)
	ts.n++
}

func (ts *termAccs) at(id uint32) *termAcc {
	return &ts.pages[id>>termPageShift][id&(1<<termPageShift-1)]
}

func (ts *termAccs) mem() int64 { return int64(len(ts.pages)) << termPageShift * termAccSize }

// release hands the pages over for reuse; ts is empty afterwards.
func (ts *termAccs) release() {
	for _, p := range ts.pages {
		freeTermPages.Put((*[1 << termPageShift]termAcc)(p[:1<<termPageShift]))
	}
	*ts = termAccs{}
}

// fieldIndexer holds the inverted index of one indexed field in memory.
type fieldIndexer struct {
	ord       int
	field     Field
	tok       analysis.Tokenizer
	qtok      analysis.QueueTokenizer // tok, if it is one
	hash      *termHash
	terms     termAccs
	norms     []byte // one norm code per doc, text fields only
	positions bool

	docTokens uint32 // tokens in the current document
	posBase   uint32 // position offset for the current value (multi-valued text)
	maxPos    uint32 // highest position of the current document
	stats     FieldStats
}

// Builder accumulates documents in memory and writes them as a segment.
// It is not safe for concurrent use.
type Builder struct {
	schema  *Schema
	fields  []*fieldIndexer // by schema ordinal; nil if not indexed
	indexed []*fieldIndexer
	fast    []*fastColumn // by schema ordinal; nil if not fast
	fastL   []*fastColumn
	stored  storedWriter
	storedB blockBuffer // compressed stored blocks
	keys    keyColumn   // primary keys, if the schema has one
	numDocs uint32
	stats   []FieldStats // per ordinal, for non-indexed fields
	seen    []uint32     // per ordinal: last doc+1 that had a value
	err     error        // sticky error (e.g. missing tokenizer)
	done    bool

	// Per-token state, set before each Tokenize call so the callbacks
	// (created once) need no closure allocation.
	cur    *fieldIndexer
	doc    uint32
	emitFn func(analysis.Token)
	fullFn func() // indexes the queue (TokenizeQueue's full)

	// Tokens queued and not yet indexed (see addQueued), and what
	// addQueued finds out about each.
	queue  analysis.TermQueue
	lookup [analysis.QueueTokens]queuedLookup
	addrs  [2 * analysis.QueueTokens]uintptr // what addQueued and writeFieldPostings prefetch

	pool    *byteBlockPool // the postings and positions of every term
	termBuf []byte
	ordBuf  []int
}

// NewBuilder returns a builder for schema s. tokenizers maps every indexed
// text field to its tokenizer (see ResolveTokenizers); a field missing
// from it falls back to the default registry, and if that fails too, Add
// reports the error.
func NewBuilder(s *Schema, tokenizers map[string]analysis.Tokenizer) *Builder {
	b := &Builder{
		schema: s,
		fields: make([]*fieldIndexer, len(s.fields)),
		fast:   make([]*fastColumn, len(s.fields)),
		stats:  make([]FieldStats, len(s.fields)),
		seen:   make([]uint32, len(s.fields)),
		pool:   newByteBlockPool(),
	}
	b.stored.codec = s.compression
	if !s.compression.valid() { // it would write a store Open refuses
		b.err = fmt.Errorf("segment: %w", s.compression.err())
	}
	b.stored.write = func(p []byte) error {
		b.storedB.write(p)
		return nil
	}
	b.emitFn = b.emitFunc()
	b.fullFn = func() { b.addQueued(b.cur) }
	for i, f := range s.fields {
		if f.Indexed {
			fx := &fieldIndexer{ord: i, field: f, hash: newOwnedTermHash(s, f.Name), positions: f.Positions}
			if f.Type == TypeText {
				fx.tok = tokenizers[f.Name]
				if fx.tok == nil {
					tok, err := analysis.NewRegistry().Get(f.TokenizerName())
					if err == nil && tok == nil {
						err = errors.New("not registered")
					}
					if err != nil && b.err == nil {
						b.err = fmt.Errorf("segment: field %q: tokenizer %q: %w", f.Name, f.TokenizerName(), err)
					}
					fx.tok = tok
				}
				fx.qtok, _ = fx.tok.(analysis.QueueTokenizer)
			}
			b.fields[i] = fx
			b.indexed = append(b.indexed, fx)
		}
		if f.FastNumeric() {
			c := &fastColumn{ord: i, typ: f.Type}
			b.fast[i] = c
			b.fastL = append(b.fastL, c)
		}
	}
	return b
}

// NumDocs returns the number of documents added.
func (b *Builder) NumDocs() int { return int(b.numDocs) }

// maxDocs is the most documents a segment may hold: ids are uint32 and
// NoMoreDocs is reserved.
const maxDocs = NoMoreDocs - 1

// Add appends d as the next document (ids 0, 1, 2, ... in order). d should
// have passed Schema.Validate; Add still checks that every value names a
// known field with the right kind, and adds nothing if not. Add does not
// keep d or anything it points to.
func (b *Builder) Add(d *Document) error {
	if b.done {
		return errors.New("segment: Add on a builder that was already built")
	}
	if b.err != nil {
		return b.err
	}
	if d == nil {
		return docErr("", "nil document")
	}
	if b.numDocs >= maxDocs {
		return fmt.Errorf("segment: builder is full (%d documents)", b.numDocs)
	}
	ords := b.ordBuf[:0]
	for i := range d.Values {
		v := &d.Values[i]
		ord, ok := b.schema.byName[v.Field]
		if !ok {
			return docErr(v.Field, "unknown field (not in the schema)")
		}
		if f := &b.schema.fields[ord]; v.Kind != kindFor(f.Type) {
			return docErr(v.Field, "wrong type: got %v, schema says %v", v.Kind, f.Type)
		}
		ords = append(ords, ord)
	}
	b.ordBuf = ords
	doc := b.numDocs
	b.doc = doc
	b.stored.startDoc()
	nStored := 0
	for i := range d.Values {
		v := &d.Values[i]
		ord := ords[i]
		f := &b.schema.fields[ord]
		if b.seen[ord] != doc+1 {
			b.seen[ord] = doc + 1
			b.stats[ord].DocCount++
			if c := b.fast[ord]; c != nil {
				c.add(fastEncode(v), true) // the first value is the fast value
			}
			if ord == b.schema.primary {
				b.keys.add(indexedTerm(b.termBuf[:0], v))
			}
		}
		if f.Stored {
			b.stored.addValue(ord, v)
			nStored++
		}
		fx := b.fields[ord]
		if fx == nil {
			continue
		}
		if f.Type == TypeText {
			if fx.docTokens > 0 || fx.maxPos > 0 {
				// A further value of a multi-valued field: leave a gap so
				// phrases do not match across values.
				fx.posBase = fx.maxPos + 1 + positionGap
			}
			b.cur = fx
			if fx.qtok != nil {
				fx.qtok.TokenizeQueue(v.Str, &b.queue, b.fullFn, b.emitFn)
			} else {
				fx.tok.Tokenize(v.Str, b.emitFn)
			}
			b.addQueued(fx)
			if b.err != nil {
				return b.err
			}
			continue
		}
		b.termBuf = indexedTerm(b.termBuf[:0], v)
		if len(b.termBuf) == 0 || len(b.termBuf) > MaxTermBytes {
			continue
		}
		b.cur = fx
		b.addToken(fx, b.termBuf, 0)
	}
	// Per-document bookkeeping of every field.
	for _, fx := range b.indexed {
		if fx.docTokens > 0 {
			fx.stats.DocCount++
			fx.stats.SumTokens += uint64(fx.docTokens)
		}
		if fx.field.Type == TypeText {
			fx.norms = append(fx.norms, normCode(fx.docTokens))
		}
		fx.docTokens, fx.posBase, fx.maxPos = 0, 0, 0
	}
	for _, c := range b.fastL {
		if len(c.vals) <= int(doc) {
			c.add(0, false)
		}
	}
	if b.schema.primary >= 0 && len(b.keys.ends) <= int(doc) {
		b.keys.add(nil)
	}
	if err := b.stored.endDoc(nStored); err != nil {
		return err
	}
	b.numDocs++
	return b.err
}

// positionGap separates the positions of the values of a multi-valued text
// field, as Elasticsearch's position_increment_gap does.
const positionGap = 100

// emitFunc returns the tokenizer callback (b.emitFn) for the field in
// b.cur. It queues the token in b.queue; addQueued indexes the queue when
// it is full and after each value. The queue (an analysis.TermQueue held in
// the Builder) has no pointer, so queuing stores none (no write barrier
// while the collector runs), and a closure rather than a method value
// saves a wrapper call per token. A QueueTokenizer writes into the queue
// itself, and calls b.emitFn only for a term too long for it.
func (b *Builder) emitFunc() func(analysis.Token) {
	return func(tok analysis.Token) {
		if len(tok.Term) == 0 || b.err != nil || !b.queue.Push(tok.Term, tok.Position) {
			b.emitSlow(tok)
		}
	}
}

// emitSlow is b.emitFn for an empty term (dropped), a full queue, a term too
// long for the queue (added directly) or after an error (dropped).
func (b *Builder) emitSlow(tok analysis.Token) {
	if len(tok.Term) == 0 || len(tok.Term) > MaxTermBytes || b.err != nil {
		return
	}
	b.addQueued(b.cur)
	if !b.queue.Push(tok.Term, tok.Position) { // the queue is empty: the term is longer than it
		b.addToken(b.cur, tok.Term, b.cur.posBase+analysis.QueuedPosition(tok.Position))
	}
}

// queuedLookup is what addQueued finds out about a queued token: its
// term's hash and termPrefix, then its slot in the term hash.
type queuedLookup struct {
	hash   uint64
	prefix uint64
	slot   uint64
}

// addQueued indexes the queued tokens of fx, in order, and empties the
// queue. On a large vocabulary each token costs a few cache misses (its
// slot in the term hash, which holds the term's postingState, then the end
// of its postings stream), and one token's misses wait for each other. So
// the work goes in passes over the queue, and what the next pass needs is
// prefetched for the whole queue at once, so that the CPU has many of its
// misses under way at once: hash the terms; prefetch their slots; look
// the terms up; prefetch the ends of the streams (and the bytes of long
// terms; with positions, the termAccs, then the ends of their position
// streams); append.
func (b *Builder) addQueued(fx *fieldIndexer) {
	n := b.queue.N
	b.queue.Reset()
	if b.err != nil || n == 0 {
		return
	}
	ends, qb := b.queue.Ends[:n], b.queue.Bytes[:]
	q := b.lookup[:n]
	h := fx.hash
	h.reserve(n) // the slots stay where they are until the end
	start := uint32(0)
	for k := range q {
		// A term of up to 8 bytes, most of them, is its prefix: one
		// 8-byte load (Bytes has 8 spare bytes at the end), masked.
		end := ends[k]
		w := binary.LittleEndian.Uint64(qb[start : start+8])
		if l := end - start; l <= 8 {
			w &= 1<<(8*l) - 1
			q[k].prefix, q[k].hash = w, h.hashShort(w, int(l))
		} else {
			q[k].prefix, q[k].hash = w, h.hash(qb[start:end], w)
		}
		start = end
	}
	addrs := b.addrs[:n]
	slots := uintptr(unsafe.Pointer(unsafe.SliceData(h.slots)))
	for k := range q {
		addrs[k] = slots + uintptr(q[k].hash&h.mask)*termSlotSize
	}
	prefetch(addrs)
	start = 0
	pool := b.pool
	for k := range q {
		term := qb[start:ends[k]]
		start = ends[k]
		if hv := q[k].hash; len(term) <= 8 {
			// The common case, inline: a short term in its first slot.
			i := hv & h.mask
			if s := &h.slots[i]; s.key == q[k].prefix && s.meta == uint32(hv)&slotHashMask|uint32(len(term))<<slotHashBits {
				q[k].slot = i
				continue
			}
		}
		slot, isNew, ok := h.insert(term, q[k].hash, q[k].prefix, false)
		if !ok {
			b.err = errTermsFull(fx)
			return
		}
		s := &h.slots[slot]
		if isNew {
			if !b.newTerm(fx, s) {
				return
			}
		} else if len(term) > 8 {
			slot |= checkSlot
		}
		q[k].slot = slot
	}
	addrs = b.addrs[:0]
	for k := range q {
		s := &h.slots[q[k].slot&^checkSlot]
		addrs = append(addrs, poolAddr(pool, s.postUpto))
		if q[k].slot&checkSlot != 0 {
			addrs = append(addrs, uintptr(unsafe.Pointer(&h.arena[uint32(s.key)]))) // for isTerm below
		}
	}
	prefetch(addrs)
	if fx.positions {
		addrs = b.addrs[:n]
		for k := range q {
			addrs[k] = uintptr(unsafe.Pointer(fx.terms.at(h.slots[q[k].slot&^checkSlot].id1 - 1)))
		}
		prefetch(addrs)
		for k := range q {
			addrs[k] = poolAddr(pool, fx.terms.at(h.slots[q[k].slot&^checkSlot].id1-1).posUpto)
		}
		prefetch(addrs)
	}
	start = 0
	doc := b.doc
	for k := range q {
		slot := q[k].slot
		if slot&checkSlot != 0 {
			slot &^= checkSlot
			if term := qb[start:ends[k]]; !h.isTerm(&h.slots[slot], term) {
				// Another term with the same length and 56 bits of hash.
				var isNew, ok bool
				slot, isNew, ok = h.addHashed(term, q[k].hash, q[k].prefix)
				if !ok {
					b.err = errTermsFull(fx)
					return
				}
				if isNew && !b.newTerm(fx, &h.slots[slot]) {
					return
				}
			}
		}
		start = ends[k]
		s := &h.slots[slot]
		if fx.positions {
			if !b.addPosting(fx, s, fx.posBase+b.queue.Positions[k]) {
				return
			}
			continue
		}
		// addPosting without positions, inline.
		if s.curDoc == doc && s.freq != 0 {
			s.freq++
			continue
		}
		if s.freq != 0 && !b.flushState(&s.postingState) {
			b.err = errPoolFull(fx)
			return
		}
		s.curDoc, s.freq = doc, 1
	}
	if !fx.positions {
		fx.docTokens += uint32(n)
	}
}

// poolAddr returns the address of the byte at upto in p.
func poolAddr(p *byteBlockPool, upto uint32) uintptr {
	return uintptr(unsafe.Pointer(&p.blocks[upto>>poolBlockShift][upto&poolBlockMask]))
}

// checkSlot marks a queued token's slot as found by insert without
// verify: addQueued checks that it holds the token's term.
const checkSlot = 1 << 63

func (b *Builder) addToken(fx *fieldIndexer, term []byte, pos uint32) {
	h := fx.hash
	slot, isNew, ok := h.addSlot(term)
	if !ok {
		b.err = errTermsFull(fx)
		return
	}
	s := &h.slots[slot]
	if isNew && !b.newTerm(fx, s) {
		return
	}
	b.addPosting(fx, s, pos)
}

// newTerm adds the termAcc of the term just interned in fx.hash, in slot
// s. It returns false, with b.err set, if the pool is full.
func (b *Builder) newTerm(fx *fieldIndexer, s *termSlot) bool {
	var t termAcc
	var ok1, ok2 bool
	t.postStart, ok1 = b.pool.newStream()
	t.posStart, ok2 = t.postStart, true
	if fx.positions {
		t.posStart, ok2 = b.pool.newStream()
	}
	if !ok1 || !ok2 {
		b.err = errPoolFull(fx)
		return false
	}
	t.posUpto = t.posStart
	s.postUpto = t.postStart
	fx.terms.add(t)
	return true
}

// addPosting records one occurrence of the term in slot s at pos in the
// current document. It returns false, with b.err set, if the pool is full.
func (b *Builder) addPosting(fx *fieldIndexer, s *termSlot, pos uint32) bool {
	doc := b.doc
	if s.freq == 0 || s.curDoc != doc {
		if s.freq > 0 && !b.flushState(&s.postingState) {
			b.err = errPoolFull(fx)
			return false
		}
		s.curDoc, s.freq = doc, 0
	}
	s.freq++
	fx.docTokens++
	if fx.positions {
		t := fx.terms.at(s.id1 - 1)
		if s.freq == 1 {
			t.lastPos = 0
		}
		if pos < t.lastPos {
			pos = t.lastPos // tokenizers emit positions in order; never store a negative delta
		}
		if !b.pool.writeUvarint(&t.posUpto, uint64(pos-t.lastPos)) {
			b.err = errPoolFull(fx)
			return false
		}
		t.lastPos = pos
		fx.maxPos = max(fx.maxPos, pos)
	}
	return true
}

// syncTerms copies the postingState of every term from its slot, where
// Add keeps it, into its termAcc, for Build.
func (b *Builder) syncTerms() {
	for _, fx := range b.indexed {
		for i := range fx.hash.slots {
			if s := &fx.hash.slots[i]; s.id1 != 0 {
				fx.terms.at(s.id1 - 1).postingState = s.postingState
			}
		}
	}
}

func errTermsFull(fx *fieldIndexer) error {
	return fmt.Errorf("segment: field %q: more than 4 GiB of distinct terms in one segment", fx.field.Name)
}

// flushState appends the pending (doc, freq) of st to its post stream. It
// returns false if the pool is full.
func (b *Builder) flushState(st *postingState) bool {
	if delta := st.curDoc + 1 - st.prevDoc1; st.freq == 1 && delta < 64 {
		// The common case, one byte: inline, after a check for the
		// end of the stream's slice as writeUvarint does.
		blk := b.pool.blocks[st.postUpto>>poolBlockShift]
		if i := st.postUpto & poolBlockMask; blk[i] == 0 {
			blk[i] = byte(delta<<1 | 1)
			st.postUpto++
			st.prevDoc1 = st.curDoc + 1
			st.freq = 0
			return true
		}
	}
	return b.flushAny(st)
}

// flushAny is flushState for any pending (doc, freq).
func (b *Builder) flushAny(st *postingState) bool {
	delta := uint64(st.curDoc + 1 - st.prevDoc1)
	// Two bytes, most of the rest, in one check and two stores where
	// both are free (zero, so no slice's end marker among them).
	if two, ok := twoBytePosting(delta, st.freq); ok {
		if i := st.postUpto & poolBlockMask; i < poolBlockMask {
			if blk := b.pool.blocks[st.postUpto>>poolBlockShift]; blk[i]|blk[i+1] == 0 {
				blk[i], blk[i+1] = two[0], two[1]
				st.postUpto += 2
				st.prevDoc1 = st.curDoc + 1
				st.freq = 0
				return true
			}
		}
	}
	ok := true
	if st.freq == 1 {
		ok = b.pool.writeUvarint(&st.postUpto, delta<<1|1)
	} else {
		ok = b.pool.writeUvarint(&st.postUpto, delta<<1) && b.pool.writeUvarint(&st.postUpto, uint64(st.freq))
	}
	st.prevDoc1 = st.curDoc + 1
	st.freq = 0
	return ok
}

// twoBytePosting returns the encoding of a posting (doc delta, freq) if
// it takes two bytes with a delta below 8192: uvarint(delta<<1|1) with
// freq 1, or uvarint(delta<<1) uvarint(freq) of one byte each.
func twoBytePosting(delta uint64, freq uint32) ([2]byte, bool) {
	switch {
	case freq == 1 && 64 <= delta && delta < 1<<13:
		return [2]byte{byte(delta<<1|1) | 0x80, byte(delta >> 6)}, true
	case 1 < freq && freq < 0x80 && delta < 64:
		return [2]byte{byte(delta << 1), byte(freq)}, true
	}
	return [2]byte{}, false
}

func errPoolFull(fx *fieldIndexer) error {
	return fmt.Errorf("segment: field %q: more than 4 GiB of postings in one segment", fx.field.Name)
}

// EstimatedMemoryBytes returns the heap the builder holds: the capacities
// of its term arenas, hash tables, postings, norms, fast columns and
// stored-field buffers. It is exact up to allocator rounding and small
// fixed overheads.
func (b *Builder) EstimatedMemoryBytes() int64 {
	n := b.pool.mem() + b.stored.mem() + b.storedB.mem() + b.keys.mem() + int64(cap(b.termBuf)) + int64(cap(b.ordBuf))*8
	for _, fx := range b.indexed {
		n += fx.hash.memBytes() + fx.terms.mem() + int64(cap(fx.norms))
	}
	for _, c := range b.fastL {
		n += c.mem()
	}
	return n
}

// Meta describes a built segment.
type Meta struct {
	ID      ID                    `json:"id"`
	NumDocs uint32                `json:"num_docs"`
	Files   []string              `json:"files"`
	Bytes   int64                 `json:"bytes"` // total size of Files
	Fields  map[string]FieldStats `json:"fields"`
}

// FieldStats are per-field statistics of a segment, for scoring.
type FieldStats struct {
	// DocCount is the number of documents with the field: for indexed
	// fields, with at least one indexed token; otherwise with a value.
	DocCount uint32 `json:"doc_count"`
	// SumTokens is the total number of indexed tokens (values, for
	// keyword and numeric fields) over all documents.
	SumTokens uint64 `json:"sum_tokens"`
	// Terms is the number of distinct terms.
	Terms uint64 `json:"terms"`
}

// metaFile is the JSON payload of the .meta file.
type metaFile struct {
	Version int                   `json:"version"`
	ID      ID                    `json:"id"`
	NumDocs uint32                `json:"num_docs"`
	Schema  *Schema               `json:"schema"`
	Files   map[string]int64      `json:"files"` // name -> size, of every other file
	Fields  map[string]FieldStats `json:"fields"`
}

// segmentWriter owns the open files of a segment being written, and
// removes them all if writing fails.
type segmentWriter struct {
	dir     storage.Directory
	id      ID
	open    map[fileKind]*storage.ChecksumWriter
	created []string
	sizes   map[string]int64
	// keywords gathers the keyword columns while postings are written
	// (nil without fast keyword fields); writeFast writes them.
	keywords *keywordCollector
}

func newSegmentWriter(dir storage.Directory, id ID) *segmentWriter {
	return &segmentWriter{dir: dir, id: id, open: map[fileKind]*storage.ChecksumWriter{}, sizes: map[string]int64{}}
}

func (sw *segmentWriter) create(k fileKind) (*storage.ChecksumWriter, error) {
	name := fileName(sw.id, k)
	f, err := sw.dir.Create(name)
	if err != nil {
		return nil, err
	}
	sw.created = append(sw.created, name)
	w := storage.NewChecksumWriter(f)
	sw.open[k] = w
	return w, nil
}

func (sw *segmentWriter) finish(k fileKind) error {
	w := sw.open[k]
	delete(sw.open, k)
	size := w.Offset() + storage.FooterSize
	if err := w.Finish(k.kind, k.version()); err != nil {
		return err
	}
	sw.sizes[fileName(sw.id, k)] = size
	return nil
}

// abort closes and removes everything written so far.
func (sw *segmentWriter) abort() {
	for _, w := range sw.open {
		_ = w.Abort()
	}
	for _, name := range sw.created {
		_ = sw.dir.Remove(name)
	}
}

// Build writes the segment's files into dir (each fsynced, then the
// directory), and returns its metadata. The builder is unusable afterwards
// and its memory can be collected. On error, the files written so far are
// removed.
func (b *Builder) Build(dir storage.Directory, id ID) (meta *Meta, err error) {
	if b.done {
		return nil, errors.New("segment: Build on a builder that was already built")
	}
	if b.err != nil {
		return nil, b.err
	}
	b.done = true
	sw := newSegmentWriter(dir, id)
	sw.keywords = newKeywordCollector(b.schema, b.numDocs)
	defer func() {
		if err != nil {
			sw.abort()
			meta = nil
		}
		b.release()
	}()

	fieldStats := make(map[string]FieldStats, len(b.schema.fields))
	for ord, f := range b.schema.fields {
		if fx := b.fields[ord]; fx != nil {
			fx.stats.Terms = uint64(fx.hash.len())
			fieldStats[f.Name] = fx.stats
		} else {
			fieldStats[f.Name] = b.stats[ord]
		}
	}
	b.syncTerms()
	if err := b.writePostings(sw); err != nil {
		return nil, err
	}
	if err := b.writeNorms(sw); err != nil {
		return nil, err
	}
	if err := b.writeStored(sw); err != nil {
		return nil, err
	}
	if err := b.writeFast(sw); err != nil {
		return nil, err
	}
	return writeMeta(sw, b.schema, b.numDocs, fieldStats)
}

func writeMeta(sw *segmentWriter, s *Schema, numDocs uint32, fieldStats map[string]FieldStats) (*Meta, error) {
	mf := metaFile{Version: FormatVersion, ID: sw.id, NumDocs: numDocs, Schema: s, Files: sw.sizes, Fields: fieldStats}
	payload, err := json.Marshal(mf)
	if err != nil {
		return nil, err
	}
	w, err := sw.create(kindMeta)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(payload); err != nil {
		return nil, err
	}
	if err := sw.finish(kindMeta); err != nil {
		return nil, err
	}
	if err := sw.dir.SyncDir(); err != nil {
		return nil, err
	}
	m := &Meta{ID: sw.id, NumDocs: numDocs, Files: SegmentFiles(sw.id), Fields: fieldStats}
	for _, size := range sw.sizes {
		m.Bytes += size
	}
	return m, nil
}

func (b *Builder) release() {
	indexed := b.indexed
	b.fields, b.indexed, b.fast, b.fastL = nil, nil, nil, nil
	b.stored, b.termBuf = storedWriter{}, nil
	b.keys = keyColumn{}
	b.storedB.release()
	b.pool.release()
	for _, fx := range indexed {
		fx.hash.release()
		fx.terms.release()
	}
}

// createPostings creates the term dictionary, postings and positions files,
// which Build and Merge write together.
func (sw *segmentWriter) createPostings() (*dictWriter, *postingsWriter, error) {
	dictW, err := sw.create(kindDict)
	if err != nil {
		return nil, nil, err
	}
	postW, err := sw.create(kindPost)
	if err != nil {
		return nil, nil, err
	}
	posW, err := sw.create(kindPos)
	if err != nil {
		return nil, nil, err
	}
	pw := &postingsWriter{post: postW, pos: posW, kw: sw.keywords}
	return &dictWriter{w: dictW, kw: sw.keywords, post: pw}, pw, nil
}

// writePostings writes the term dictionary, postings and positions files.
func (b *Builder) writePostings(sw *segmentWriter) error {
	dw, pw, err := sw.createPostings()
	if err != nil {
		return err
	}
	var keys []prefixedID
	var termBuf [8]byte
	var dec termDecoder
	for _, fx := range b.indexed {
		keys = sortTerms(fx.hash, fx.terms.n, keys)
		if err := dw.startField(fx.ord); err != nil {
			return err
		}
		err := b.writeFieldPostings(pw, &dec, fx, keys, func(k *prefixedID, off uint64) error {
			return dw.add(k.term(fx.hash, &termBuf), off)
		})
		if err != nil {
			return err
		}
		if err := dw.finishField(); err != nil {
			return err
		}
	}
	if err := dw.finish(); err != nil {
		return err
	}
	for _, k := range []fileKind{kindDict, kindPost, kindPos} {
		if err := sw.finish(k); err != nil {
			return err
		}
	}
	return nil
}

// sortedTermIDs returns the field's term ids in the order of their bytes,
// reusing ids' memory (see sortTermIDs).
func (fx *fieldIndexer) sortedTermIDs(ids []uint32) []uint32 {
	return sortTermIDs(fx.hash, fx.terms.n, ids)
}

// writeFieldPostings writes the postings of fx's terms, keys (sorted),
// and hands each term with its postings' offset to added.
//
// Sorted order visits the termAccs, the pool streams and the term bytes
// at random places, a cache miss each, and a term's stream is found from
// its termAcc, a long term's bytes from its end in the term hash. So terms
// go in batches, in a pipeline of prefetches (see prefetch) two batches
// deep: while batch c is written, the streams and term bytes of batch c+1
// are prefetched (their termAccs and term ends arrived meanwhile), and the
// termAccs and term ends of batch c+2, so that the misses of a whole batch
// are under way at once and come in before they are needed.
func (b *Builder) writeFieldPostings(pw *postingsWriter, dec *termDecoder, fx *fieldIndexer, keys []prefixedID, added func(k *prefixedID, off uint64) error) error {
	const batch = 32 // of 16, 32, 64: the fastest
	// b.addrs holds the (at most) 7 addresses a term of the two batches
	// prefetched together: 2 for batch c+2, 5 for batch c+1 (below).
	var _ [len(b.addrs) - 7*batch]struct{}
	chunk := func(c int) []prefixedID {
		lo := c * batch
		if c < 0 || lo >= len(keys) {
			return nil
		}
		return keys[lo:min(lo+batch, len(keys))]
	}
	h, pool := fx.hash, b.pool
	for c := -2; c*batch < len(keys); c++ {
		addrs := b.addrs[:0]
		for _, k := range chunk(c + 2) {
			addrs = append(addrs, uintptr(unsafe.Pointer(fx.terms.at(k.id))))
			if k.len > 8 && k.id > 0 {
				addrs = append(addrs, uintptr(unsafe.Pointer(&h.ends[k.id-1])))
			}
		}
		for _, k := range chunk(c + 1) {
			t := fx.terms.at(k.id)
			// A term with one document has an empty post stream: its
			// doc and freq are pending in its termAcc.
			if t.postStart != t.postUpto {
				// The stream's first slice and its last (upto is inside
				// it): with the first, the whole of a short stream.
				addrs = append(addrs, poolAddr(pool, t.postStart), poolAddr(pool, t.postUpto))
			}
			if fx.positions {
				// Likewise, where a position stream is long.
				addrs = append(addrs, poolAddr(pool, t.posStart), poolAddr(pool, t.posUpto))
			}
			if k.len > 8 {
				addrs = append(addrs, uintptr(unsafe.Pointer(unsafe.SliceData(h.term(k.id)))))
			}
		}
		prefetch(addrs)
		these := chunk(c)
		for i := range these {
			id := these[i].id
			off, err := b.writeTerm(pw, dec, fx, id, fx.terms.at(id))
			if err != nil {
				return err
			}
			if err := added(&these[i], off); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeTerm writes the postings of fx's term id, whose termAcc is t, and
// returns their offset.
func (b *Builder) writeTerm(pw *postingsWriter, dec *termDecoder, fx *fieldIndexer, id uint32, t *termAcc) (uint64, error) {
	if t.postStart == t.postUpto && t.freq > 0 {
		return pw.addSingleTerm(fx.positions, t.curDoc, t.freq, dec.positions(b.pool, t, fx.positions))
	}
	post := dec.postStream(b.pool, t)
	df, ok, err := pw.tailBlock(post, t.prevDoc1, t.curDoc, t.freq)
	if ok {
		return pw.addTail(fx.positions, df, dec.positions(b.pool, t, fx.positions))
	}
	if err != nil {
		return 0, fmt.Errorf("segment: field %q term %q: %w", fx.field.Name, fx.hash.term(id), err)
	}
	pw.startTerm(fx.positions, fx.norms)
	docs, freqs, pos, err := dec.decode(post, b.pool, t, fx.positions)
	if err == nil {
		err = pw.addDocs(docs, freqs, pos)
	}
	if err != nil {
		return 0, fmt.Errorf("segment: field %q term %q: %w", fx.field.Name, fx.hash.term(id), err)
	}
	return pw.finishTerm()
}

// fstOptions builds the term dictionaries without vellum's registry of
// suffix nodes (RegistryTableSize 0), which shares a node with an equal one
// compiled before. A term's postings offset makes most nodes unique, so the
// registry mostly misses, and its lookups (a hash of the node and a
// comparison with a node compiled long before, a cache miss) cost more than
// the rest of the FST. On 20,000 realmix documents (BenchmarkFSTRegistry,
// interleaved, loaded): 1,000 x 1 cells, the setting before December 8,
// 2026 (vellum's default is 10,000 x 2, 3.2x slower), cost 370 CPU ns a
// term and none 288 (0.78x; text terms 0.67x, primary keys 0.87x), for
// FSTs 13.6% larger (1.38 -> 1.57 MB; the .tdict is a tenth of a segment,
// so a segment 1.4% larger). The FST format is unchanged: old readers read
// these and the reader reads the old ones.
var fstOptions = vellum.BuilderOpts{Encoder: 1}

// dictWriter writes one FST per indexed field into the .tdict file,
// followed by a directory of (field ordinal, offset, length). vellum
// writes each FST straight into the file (its addresses are relative to
// the FST's start), so no FST is held in memory or copied.
type dictWriter struct {
	w       *storage.ChecksumWriter
	fst     *vellum.Builder
	ord     int
	start   int64 // offset of the current field's FST
	dir     []byte
	nFields int
	kw      *keywordCollector
	post    *postingsWriter // the postings of these terms, flushed by finish
}

func (d *dictWriter) startField(ord int) error {
	d.kw.startField(ord)
	d.ord = ord
	d.start = d.w.Offset()
	var err error
	if d.fst == nil {
		d.fst, err = vellum.New(d.w, &fstOptions)
	} else {
		err = d.fst.Reset(d.w)
	}
	return err
}

func (d *dictWriter) add(term []byte, off uint64) error {
	d.kw.addTerm(term)
	return d.fst.Insert(term, off)
}

func (d *dictWriter) finishField() error {
	if err := d.fst.Close(); err != nil {
		return err
	}
	d.dir = binary.AppendUvarint(d.dir, uint64(d.ord))
	d.dir = binary.AppendUvarint(d.dir, uint64(d.start))
	d.dir = binary.AppendUvarint(d.dir, uint64(d.w.Offset()-d.start))
	d.nFields++
	return nil
}

// finish writes the directory, and what the postings writer created with
// d still buffers, so that the three files can be finished.
func (d *dictWriter) finish() error {
	if d.post != nil {
		if err := d.post.flush(); err != nil {
			return err
		}
	}
	dirOff := d.w.Offset()
	tail := binary.AppendUvarint(nil, uint64(d.nFields))
	tail = append(tail, d.dir...)
	tail = binary.LittleEndian.AppendUint64(tail, uint64(dirOff))
	_, err := d.w.Write(tail)
	return err
}

// writeNorms writes the .norm file: for each indexed text field, one code
// per document.
func (b *Builder) writeNorms(sw *segmentWriter) error {
	var ords []int
	var norms [][]byte
	for _, fx := range b.indexed {
		if fx.field.Type == TypeText {
			ords = append(ords, fx.ord)
			norms = append(norms, fx.norms)
		}
	}
	return writeNormsFile(sw, b.numDocs, ords, norms)
}

func (b *Builder) writeStored(sw *segmentWriter) error {
	w, err := sw.create(kindStore)
	if err != nil {
		return err
	}
	// Blocks compressed so far are in memory; the rest go straight to disk.
	for _, chunk := range b.storedB.chunks {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
	b.storedB.release()
	b.stored.write = func(p []byte) error {
		_, err := w.Write(p)
		return err
	}
	if err := b.stored.finish(); err != nil {
		return err
	}
	return sw.finish(kindStore)
}

func (b *Builder) writeFast(sw *segmentWriter) error {
	w, err := sw.create(kindFast)
	if err != nil {
		return err
	}
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(len(b.fastL)))); err != nil {
		return err
	}
	for _, c := range b.fastL {
		if _, err := writeFastColumn(w, c.ord, c.typ, b.numDocs, c.values); err != nil {
			return err
		}
	}
	if err := writeKeySection(w, b.schema.primary, b.numDocs, b.keys.keys); err != nil {
		return err
	}
	if err := writeKeywordSection(w, sw.keywords); err != nil {
		return err
	}
	return sw.finish(kindFast)
}
