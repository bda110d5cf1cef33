package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/blevesearch/vellum"
	"github.com/hermes-search/hermes-go/storage"
)

// ErrEmptyMerge is returned by Merge when its sources hold no live
// documents (or there are no sources). Nothing is written; the caller
// simply drops the sources.
var ErrEmptyMerge = errors.New("segment: merge has no live documents")

// mergeCheckEvery is how many terms (or stored blocks) Merge handles
// between checks of its context.
const mergeCheckEvery = 256

// mergeReleaseEvery is how many bytes of its sources' mapped files (their
// postings, positions and fast columns, with the dictionaries walked
// alongside) a merge reads between releases of their pages (see
// merger.release). A variable for tests.
var mergeReleaseEvery int64 = 1 << 20

// mergeReleaseOff turns releasing off, for a benchmark's comparison.
var mergeReleaseOff = false

// mergeSource is one source of a merge and where its documents go.
type mergeSource struct {
	r       *Reader
	numDocs uint32
	base    uint32   // new id of the source's first live document
	docMap  []uint32 // old id -> new id, NoMoreDocs if deleted; nil when nothing is deleted

	postName, posName string

	// Where the merge has read the postings and positions up to: the
	// offsets of the last term copied.
	postAt uint64
	posAt  int64
}

// newDoc maps a source doc id (< numDocs) to its merged id, or NoMoreDocs
// for a deleted document.
func (s *mergeSource) newDoc(doc uint32) uint32 {
	if s.docMap == nil {
		return s.base + doc
	}
	return s.docMap[doc]
}

// wrap attributes an error met while reading the source to it.
func (s *mergeSource) wrap(err error) error {
	return fmt.Errorf("source segment %s: %w", s.r.core.id, err)
}

// MergePacer paces a merge (mergepolicy.Pacer): Merge reports each stretch
// of its work to Pace, every mergeCheckEvery terms or stored blocks, and
// goes on when Pace returns (an error stops the merge).
type MergePacer interface {
	Pace(ctx context.Context, worked time.Duration) error
}

// MergeOption adjusts a Merge.
type MergeOption func(*merger)

// PacedBy makes a merge report its work to p, which may make it sleep so
// that merges leave the CPU to indexing.
func PacedBy(p MergePacer) MergeOption {
	return func(m *merger) { m.pacer = p }
}

type merger struct {
	ctx     context.Context
	pacer   MergePacer // nil: unpaced
	lastRun time.Time  // when the merge last went on after pacing
	schema  *Schema
	sources []*mergeSource
	numDocs uint32
	norms   [][]byte // by ordinal: merged norm codes of indexed text fields
	stats   map[string]FieldStats
	ticks   int
	keyErr  error // a source's key column was corrupt
	// unreleased counts the bytes of the sources' mapped files read since
	// their pages were last released.
	unreleased int64
}

// tick checks the context every mergeCheckEvery calls, and reports the
// work since the last report to the pacer.
func (m *merger) tick() error {
	m.ticks++
	if m.ticks%mergeCheckEvery != 0 {
		return nil
	}
	if m.pacer == nil {
		return m.ctx.Err()
	}
	now := time.Now()
	err := m.pacer.Pace(m.ctx, now.Sub(m.lastRun))
	m.lastRun = time.Now()
	return err
}

// Merge writes one new segment, id, holding the live documents of sources
// in order: source 0's live documents first (in their order), then source
// 1's, and so on. Deleted documents (Reader.IsDeleted) are dropped and
// the others renumbered densely. A single source with deletes is a valid
// rewrite that reclaims their space.
//
// Merge copies postings, positions, norms, stored fields and fast fields
// from the readers without re-analysing any text, so the result is the
// segment Build would write for the same live documents, byte for byte
// apart from its id and its store, whose blocks may be copied still
// compressed (see writeStored): the same records, in blocks bounded as
// the sources' were, compressed by the build that wrote them. Memory
// stays bounded by what Build's writers need:
// a doc-id map per source with deletes, one norm byte per document and
// indexed text field, and one term's postings block at a time. The pages
// of the sources' mapped files it reads leave the process's resident set
// behind it, every MiB read (see merger.release), and the checksums are
// verified through ReadAt, so a merge of large segments does not make the
// process as large as its sources.
//
// Every source must have been opened with a schema equal to schema (it
// may have been built with an older one, see Open) and stay open during
// the call; the sources are not changed. Ancestry (which
// segments the result replaces) is the caller's to record. If the sources
// hold no live documents, Merge writes nothing and returns ErrEmptyMerge.
//
// Each file is fsynced, then the directory, as by Build. If ctx is
// cancelled before the segment is complete, or any I/O fails, Merge
// removes every file it wrote and returns the error, which names the file
// concerned; a corrupt source gives an error wrapping storage.ErrCorrupt
// that names the source segment and its file. Every source's checksums
// are verified (CheckIntegrity) before anything is written. PacedBy paces
// the copying (not the verification).
func Merge(ctx context.Context, dir storage.Directory, schema *Schema, id ID, sources []*Reader, opts ...MergeOption) (meta *Meta, err error) {
	m, err := newMerger(ctx, schema, id, sources)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(m)
	}
	// Open does not hash the files it maps; a merge must not copy damage
	// into a new segment with a fresh, valid checksum (Lucene's
	// checkIntegrity).
	for _, r := range sources {
		if err := r.checkIntegrity(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("segment: merge into %s: %w", id, err)
			}
			return nil, fmt.Errorf("segment: merge into %s: source %w", id, err)
		}
	}
	if m.numDocs == 0 {
		return nil, ErrEmptyMerge
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("segment: merge into %s: %w", id, err)
	}
	m.lastRun = time.Now()
	sw := newSegmentWriter(dir, id)
	sw.keywords = newKeywordCollector(m.schema, m.numDocs)
	defer func() {
		if err != nil {
			sw.abort()
			meta = nil
			err = fmt.Errorf("segment: merge into %s: %w", id, err)
		}
	}()
	m.mergeNorms()
	m.release(kindNorm)
	if err := m.writePostings(sw); err != nil {
		return nil, err
	}
	var ords []int
	var norms [][]byte
	for ord, n := range m.norms {
		if n != nil {
			ords, norms = append(ords, ord), append(norms, n)
		}
	}
	if err := writeNormsFile(sw, m.numDocs, ords, norms); err != nil {
		return nil, err
	}
	m.norms = nil
	if err := m.writeStored(sw); err != nil {
		return nil, err
	}
	if err := m.writeFast(sw); err != nil {
		return nil, err
	}
	// The last chance to stop: once the meta file exists the segment is
	// complete.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return writeMeta(sw, schema, m.numDocs, m.stats)
}

// newMerger checks the sources and numbers their live documents.
func newMerger(ctx context.Context, schema *Schema, id ID, sources []*Reader) (*merger, error) {
	m := &merger{ctx: ctx, schema: schema, stats: make(map[string]FieldStats, len(schema.fields))}
	total := uint64(0)
	for i, r := range sources {
		if r == nil {
			return nil, fmt.Errorf("segment: merge into %s: source %d is nil", id, i)
		}
		if r.closed.Load() {
			return nil, fmt.Errorf("segment: merge into %s: source %d (segment %s) is closed", id, i, r.core.id)
		}
		if r.core.id == id {
			return nil, fmt.Errorf("segment: merge into %s: the new segment has the id of source %d", id, i)
		}
		if !r.core.schema.Equal(schema) {
			return nil, fmt.Errorf("segment: merge into %s: source %d (segment %s) has a different schema", id, i, r.core.id)
		}
		s := &mergeSource{r: r, numDocs: r.core.numDocs, base: uint32(total),
			postName: fileName(r.core.id, kindPost), posName: fileName(r.core.id, kindPos)}
		if r.live < r.core.numDocs {
			s.docMap = make([]uint32, s.numDocs)
			next := s.base
			for doc := range s.docMap {
				if r.deleted.Contains(uint32(doc)) {
					s.docMap[doc] = NoMoreDocs
				} else {
					s.docMap[doc] = next
					next++
				}
			}
		}
		total += uint64(r.live)
		if total > uint64(maxDocs) {
			return nil, fmt.Errorf("segment: merge into %s: %d live documents is more than a segment can hold", id, total)
		}
		m.sources = append(m.sources, s)
	}
	m.numDocs = uint32(total)
	return m, nil
}

// live calls fn with each live document of s and its new id.
func (s *mergeSource) live(fn func(old, doc uint32)) {
	for old := uint32(0); old < s.numDocs; old++ {
		if doc := s.newDoc(old); doc != NoMoreDocs {
			fn(old, doc)
		}
	}
}

// mergeNorms gathers the norm codes of the live documents, which the
// postings writer needs for its block bounds.
func (m *merger) mergeNorms() {
	m.norms = make([][]byte, len(m.schema.fields))
	for ord, f := range m.schema.fields {
		if !f.Indexed || f.Type != TypeText {
			continue
		}
		out := make([]byte, 0, m.numDocs)
		for _, s := range m.sources {
			src := s.r.core.fields[ord].norms // numDocs long, checked by Open
			if s.docMap == nil {
				out = append(out, src...)
				continue
			}
			s.live(func(old, _ uint32) { out = append(out, src[old]) })
		}
		m.norms[ord] = out
	}
}

// termCursor walks one source's terms of a field in byte order.
type termCursor struct {
	src   *mergeSource
	rf    *readerField
	it    vellum.Iterator
	term  []byte // valid until the next call to next
	off   uint64
	ended bool // next found no more terms
}

func (m *merger) writePostings(sw *segmentWriter) error {
	dw, pw, err := sw.createPostings()
	if err != nil {
		return err
	}
	seen := make([]uint64, (m.numDocs+63)/64) // docs with a token in the field
	p := new(Postings)                        // reused for every term
	var short shortTerm                       // likewise
	var term []byte
	var cursors, cohort []*termCursor
	for ord, f := range m.schema.fields {
		if !f.Indexed {
			continue
		}
		clear(seen)
		var st FieldStats
		cursors = cursors[:0]
		for _, s := range m.sources {
			c, err := newTermCursor(s, s.r.core.fields[ord])
			if err != nil {
				return err
			}
			if c != nil {
				cursors = append(cursors, c)
			}
		}
		if err := dw.startField(ord); err != nil {
			return err
		}
		for len(cursors) > 0 {
			if err := m.tick(); err != nil {
				return err
			}
			// The cursors on the smallest term, found with one comparison
			// a cursor; the cursors stay in source order, so the cohort's
			// documents are added in merged order.
			cohort = append(cohort[:0], cursors[0])
			for _, c := range cursors[1:] {
				switch cmp := bytes.Compare(c.term, cohort[0].term); {
				case cmp < 0:
					cohort = append(cohort[:0], c)
				case cmp == 0:
					cohort = append(cohort, c)
				}
			}
			term = append(term[:0], cohort[0].term...)
			copied, err := m.copyShort(pw, dw, cohort, term, f.Positions, m.norms[ord], &st, seen, &short)
			if err != nil {
				return err
			}
			if !copied {
				pw.startTerm(f.Positions, m.norms[ord])
				for _, c := range cohort {
					if err := copyPostings(pw, p, c, &st, seen); err != nil {
						return fmt.Errorf("field %q term %q: %w", f.Name, term, err)
					}
					m.readPostings(c.src, len(term), c.off, p.posStart)
				}
				if pw.df > 0 { // else every document of the term was deleted
					off, err := pw.finishTerm()
					if err != nil {
						return err
					}
					if err := dw.add(term, off); err != nil {
						return err
					}
					st.Terms++
				}
			}
			if m.unreleased >= mergeReleaseEvery {
				m.release(kindDict, kindPost, kindPos, kindNorm)
			}
			ended := false
			for _, c := range cohort {
				ok, err := c.next()
				if err != nil {
					return err
				}
				if !ok {
					c.ended, ended = true, true
				}
			}
			if ended {
				cursors = slices.DeleteFunc(cursors, func(c *termCursor) bool { return c.ended })
			}
		}
		if err := dw.finishField(); err != nil {
			return err
		}
		for _, w := range seen {
			st.DocCount += uint32(bits.OnesCount64(w))
		}
		m.stats[f.Name] = st
	}
	m.release(kindDict, kindPost, kindPos, kindNorm) // the norms for block bounds
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

// shortTerm holds a term's documents gathered by copyShort, renumbered,
// with their positions as the pos file holds them; reused from term to
// term.
type shortTerm struct {
	docs, freqs []uint32
	pos         []byte
	posStarts   []uint64 // per source with the term: where its positions start
}

// copyShort copies term, the current term of each cursor of cohort, when
// each of their sources holds it in one tail block (fewer than blockSize
// documents): most terms (a term of one
// document is 72% of a realmix segment's), which it decodes from their
// records in one pass and writes as Build does, without setting up a
// Postings per source (which costs more than the copy). It returns false,
// having written nothing, for other terms and for a record it cannot read,
// which copyPostings then reports.
func (m *merger) copyShort(pw *postingsWriter, dw *dictWriter, cohort []*termCursor, term []byte, positions bool, norms []byte, st *FieldStats, seen []uint64, t *shortTerm) (bool, error) {
	t.docs, t.freqs, t.pos, t.posStarts = t.docs[:0], t.freqs[:0], t.pos[:0], t.posStarts[:0]
	for _, c := range cohort {
		// A source whose field has positions and a schema's without (or
		// the reverse) go through copyPostings.
		if c.rf.field.Positions != positions {
			return false, nil
		}
		posStart, ok := readTailRecord(c.src, c.off, positions, t)
		if !ok {
			return false, nil
		}
		t.posStarts = append(t.posStarts, posStart)
	}
	// Recorded only now that every source's record was read: on false,
	// copyPostings reads and records them.
	for k, c := range cohort {
		m.readPostings(c.src, len(term), c.off, int64(t.posStarts[k]))
	}
	if len(t.docs) == 0 {
		return true, nil // every document of the term was deleted
	}
	for i, doc := range t.docs {
		st.SumTokens += uint64(t.freqs[i])
		seen[doc/64] |= 1 << (doc % 64)
	}
	var off uint64
	var err error
	if len(t.docs) == 1 {
		off, err = pw.addSingleTerm(positions, t.docs[0], t.freqs[0], t.pos)
	} else {
		pw.startTerm(positions, norms)
		if err = pw.addDocs(t.docs, t.freqs, t.pos); err == nil {
			off, err = pw.finishTerm()
		}
	}
	if err != nil {
		return true, err
	}
	st.Terms++
	return true, dw.add(term, off)
}

// readTailRecord appends to t the live documents of source s's term record
// at off (see FORMAT.md, post), renumbered, with their freqs and, with
// positions, their positions, if the record is one tail block (fewer than
// blockSize documents); it returns where the term's positions start. ok is
// false for any other record and for one that is not well formed; t may
// then hold some of its documents.
func readTailRecord(s *mergeSource, off uint64, positions bool, t *shortTerm) (posStart uint64, ok bool) {
	post, pos := s.r.core.post, s.r.core.pos
	if off >= uint64(len(post)) {
		return 0, false
	}
	b := post[off:]
	df, n := binary.Uvarint(b)
	if n <= 0 || df == 0 || df >= blockSize {
		return 0, false
	}
	b = b[n:]
	if positions {
		if posStart, n = binary.Uvarint(b); n <= 0 || posStart > uint64(len(pos)) {
			return 0, false
		}
		b = b[n:]
		pos = pos[posStart:]
	}
	// Per doc: its delta from the previous doc (-1 before the first) minus
	// one, shifted left by one, the low bit set for freq 1, else the freq
	// after it.
	next := uint64(0) // the previous doc + 1
	for range df {
		v, n := binary.Uvarint(b)
		if n <= 0 || v>>1 >= uint64(s.numDocs) {
			return 0, false
		}
		b = b[n:]
		f := uint64(1)
		if v&1 == 0 {
			if f, n = binary.Uvarint(b); n <= 0 || f == 0 || f > math.MaxUint32 {
				return 0, false
			}
			b = b[n:]
		}
		doc := next + v>>1
		if doc >= uint64(s.numDocs) {
			return 0, false
		}
		next = doc + 1
		var docPos []byte
		if positions {
			k := skipUvarints(pos, f)
			if k < 0 {
				return 0, false
			}
			docPos, pos = pos[:k], pos[k:]
		}
		if d := s.newDoc(uint32(doc)); d != NoMoreDocs {
			t.docs, t.freqs = append(t.docs, d), append(t.freqs, uint32(f))
			t.pos = append(t.pos, docPos...)
		}
	}
	return posStart, true
}

// readPostings records that the merge has read s's postings up to the term
// at post in the postings file (pos in the positions file), and the term,
// of n bytes, from its dictionary (counted as n+8 bytes: an FST stores at
// most a few bytes a character and a few more a term).
func (m *merger) readPostings(s *mergeSource, n int, post uint64, pos int64) {
	m.unreleased += int64(n) + 8
	if post > s.postAt {
		m.unreleased += int64(post - s.postAt)
	}
	if pos > s.posAt {
		m.unreleased += pos - s.posAt
	}
	s.postAt, s.posAt = post, pos
}

// release drops the pages of the sources' mapped files of the given kinds
// from the process's resident set (storage.ReleasePages). A merge reads
// each source once, front to back; without this, every page it read would
// stay resident until the sources close, as large as the sources (more than
// 100 MiB at 4x realmix). The page cache keeps the pages, so a search of
// the same segments meanwhile maps them again as it reads them; what the
// merge still walks (a dictionary's upper nodes) comes back the same way.
func (m *merger) release(kinds ...fileKind) {
	m.unreleased = 0
	if mergeReleaseOff {
		return
	}
	for _, s := range m.sources {
		for _, of := range s.r.core.files {
			if of.data != nil && slices.Contains(kinds, of.kind) {
				// A hint: if it fails, the pages just stay resident.
				_ = storage.ReleasePages(of.f, 0, int64(len(of.data)))
			}
		}
	}
}

// newTermCursor returns a cursor on the first term of rf in source s, or
// nil if the field has no terms there.
func newTermCursor(s *mergeSource, rf *readerField) (c *termCursor, err error) {
	c = &termCursor{src: s, rf: rf}
	defer c.recover(&err)
	it, err := rf.fst.Iterator(nil, nil)
	if errors.Is(err, vellum.ErrIteratorDone) {
		return nil, nil
	}
	if err != nil {
		return nil, c.corrupt(err)
	}
	c.it = it
	c.term, c.off = it.Current()
	return c, nil
}

// next moves to the next term; false at the end.
func (c *termCursor) next() (ok bool, err error) {
	defer c.recover(&err)
	err = c.it.Next()
	if errors.Is(err, vellum.ErrIteratorDone) {
		return false, nil
	}
	if err != nil {
		return false, c.corrupt(err)
	}
	c.term, c.off = c.it.Current()
	return true, nil
}

func (c *termCursor) corrupt(err error) error {
	return c.src.wrap(corrupt(fileName(c.src.r.core.id, kindDict), "field %q: %v", c.rf.field.Name, err))
}

// recover turns a panic of vellum, which trusts its input, into a
// corruption error naming the source's dictionary.
func (c *termCursor) recover(err *error) {
	if p := recover(); p != nil {
		*err = c.corrupt(fmt.Errorf("unreadable FST: %v", p))
	}
}

// copyPostings adds the live documents of the cursor's current term to pw,
// renumbered, with their positions copied as stored.
func copyPostings(pw *postingsWriter, p *Postings, c *termCursor, st *FieldStats, seen []uint64) error {
	s := c.src
	if err := p.reset(s.r, c.rf, c.off, s.postName, s.posName); err != nil {
		return s.wrap(err)
	}
	for old := p.Doc(); old != NoMoreDocs; old = p.Next() {
		if old >= s.numDocs {
			return s.wrap(corrupt(p.postName, "doc id %d in the postings of a segment of %d documents", old, s.numDocs))
		}
		doc := s.newDoc(old)
		if doc == NoMoreDocs {
			continue
		}
		freq := p.Freq()
		if freq == 0 { // a 32-bit packed freq-1 that wrapped
			return s.wrap(corrupt(p.postName, "doc %d with frequency 0", old))
		}
		var pos []byte
		if p.positions {
			if pos = p.rawPositions(); pos == nil {
				break // p.Err says why
			}
		}
		if err := pw.addDoc(doc, freq, pos); err != nil {
			return err
		}
		st.SumTokens += uint64(freq)
		seen[doc/64] |= 1 << (doc % 64)
	}
	if err := p.Err(); err != nil {
		return s.wrap(err)
	}
	return nil
}

// writeStored copies the stored records of the live documents, block by
// block, without decoding their values. Walking each record checks it and
// counts the documents of fields that only the store knows about. When the
// schema has no such field, a block whose documents are all live, of a
// source with the schema's codec, is copied still compressed (Lucene's
// bulk merge of stored fields): recompressing took most of a merge's CPU,
// and the sources' checksums were verified before the merge began. Blocks
// of another codec (a segment written before the schema's codec changed,
// or a version 2 store) are recompressed.
func (m *merger) writeStored(sw *segmentWriter) error {
	w, err := sw.create(kindStore)
	if err != nil {
		return err
	}
	stw := storedWriter{codec: m.schema.compression, write: func(p []byte) error {
		_, err := w.Write(p)
		return err
	}}
	// Fields that are neither indexed nor fast: their doc count comes
	// from the store.
	counts := make([]uint32, len(m.schema.fields))
	lastDoc := make([]uint32, len(m.schema.fields)) // doc+1 last counted
	copyBlocks := true
	for _, f := range m.schema.fields {
		if f.Stored && !f.Indexed && !f.Fast {
			copyBlocks = false
		}
	}
	var raw, comp, remapped []byte
	for _, s := range m.sources {
		sr := s.r.core.store
		for b := range sr.first {
			if err := m.tick(); err != nil {
				return err
			}
			end := s.numDocs
			if b+1 < len(sr.first) {
				end = sr.first[b+1]
			}
			if s.docMap != nil && !s.anyLive(sr.first[b], end) {
				continue
			}
			if copyBlocks && sr.codec == stw.codec && s.r.core.identity && (s.docMap == nil || s.allLive(sr.first[b], end)) {
				if comp, err = sr.readCompressed(b, comp); err != nil {
					return s.wrap(err)
				}
				if err := stw.addCompressed(comp, end-sr.first[b]); err != nil {
					return err
				}
				continue
			}
			raw, comp, err = sr.readBlock(b, raw, comp)
			if err != nil {
				return s.wrap(err)
			}
			recs, err := splitStoredBlock(raw, int(end-sr.first[b]))
			if err != nil {
				return s.wrap(corrupt(sr.name, "stored block %d: %v", b, err))
			}
			for i, rec := range recs {
				old := sr.first[b] + uint32(i)
				doc := s.newDoc(old)
				if doc == NoMoreDocs {
					continue
				}
				if !s.r.core.identity { // built without some fields: renumber
					if remapped, err = remapStored(s.r.core.built, s.r.core.viewOrd, rec, remapped[:0]); err != nil {
						return s.wrap(corrupt(sr.name, "doc %d: %v", old, err))
					}
					rec = remapped
				}
				err := walkStored(m.schema, rec, func(ord int) {
					if lastDoc[ord] != doc+1 {
						lastDoc[ord] = doc + 1
						counts[ord]++
					}
				})
				if err != nil {
					return s.wrap(corrupt(sr.name, "doc %d: %v", old, err))
				}
				if err := stw.addDoc(rec); err != nil {
					return err
				}
			}
		}
	}
	if err := stw.finish(); err != nil {
		return err
	}
	for ord, f := range m.schema.fields {
		if !f.Indexed && !f.Fast {
			m.stats[f.Name] = FieldStats{DocCount: counts[ord]}
		}
	}
	return sw.finish(kindStore)
}

// allLive reports whether all of the documents [from, to) are live.
func (s *mergeSource) allLive(from, to uint32) bool {
	for d := from; d < to; d++ {
		if s.docMap[d] == NoMoreDocs {
			return false
		}
	}
	return true
}

// anyLive reports whether any of the documents [from, to) is live.
func (s *mergeSource) anyLive(from, to uint32) bool {
	for d := from; d < to; d++ {
		if s.docMap[d] != NoMoreDocs {
			return true
		}
	}
	return false
}

// splitStoredBlock cuts a decompressed stored block into its n records.
func splitStoredBlock(raw []byte, n int) ([][]byte, error) {
	d := decoder{b: raw}
	if got := d.uvarint(); got != uint64(n) {
		return nil, fmt.Errorf("holds %d documents, the index says %d", got, n)
	}
	if n > len(raw) {
		return nil, errors.New("malformed header")
	}
	lens := make([]int, n)
	total := 0
	for i := range lens {
		lens[i] = d.length()
		total += lens[i]
	}
	if d.bad || total != len(raw)-d.p {
		return nil, errors.New("record lengths do not match the block")
	}
	recs := make([][]byte, n)
	for i, l := range lens {
		recs[i] = d.bytes(l)
	}
	return recs, nil
}

// remapStored appends to buf the stored record rec of a segment built with
// s, its field ordinals i replaced by viewOrd[i]: the record as a segment
// of the schema the segment was opened with holds it.
func remapStored(s *Schema, viewOrd []int, rec, buf []byte) ([]byte, error) {
	d := decoder{b: rec}
	n := d.uvarint()
	if n > uint64(len(rec)) {
		return nil, errors.New("bad value count")
	}
	buf = binary.AppendUvarint(buf, n)
	for i := uint64(0); i < n && !d.bad; i++ {
		ord := d.uvarint()
		if ord >= uint64(len(s.fields)) {
			return nil, fmt.Errorf("field ordinal %d out of range", ord)
		}
		buf = binary.AppendUvarint(buf, uint64(viewOrd[ord]))
		start := d.p
		if err := skipStored(&d, kindFor(s.fields[ord].Type)); err != nil {
			return nil, err
		}
		buf = append(buf, rec[start:d.p]...)
	}
	if d.bad || d.p != len(rec) {
		return nil, errors.New("malformed record")
	}
	return buf, nil
}

// walkStored checks one stored record (see appendStoredValue) and calls fn
// with the ordinal of each value.
func walkStored(s *Schema, rec []byte, fn func(ord int)) error {
	d := decoder{b: rec}
	n := d.uvarint()
	if n > uint64(len(rec)) {
		return errors.New("bad value count")
	}
	for i := uint64(0); i < n && !d.bad; i++ {
		ord := d.uvarint()
		if ord >= uint64(len(s.fields)) || !s.fields[ord].Stored {
			return fmt.Errorf("value of field ordinal %d, which is not a stored field", ord)
		}
		switch kindFor(s.fields[ord].Type) {
		case KindString, KindBytes:
			d.bytes(d.length())
		case KindU64, KindI64:
			d.uvarint()
		case KindF64:
			d.bytes(8)
		}
		fn(int(ord))
	}
	if d.bad || d.p != len(rec) {
		return errors.New("malformed record")
	}
	return nil
}

// readFast counts n bytes read from the sources' fast files, releasing
// their pages every mergeReleaseEvery bytes.
func (m *merger) readFast(n int64) {
	m.unreleased += n
	if m.unreleased >= mergeReleaseEvery {
		m.release(kindFast)
	}
}

// writeFast writes the fast columns of the live documents, streaming each
// source column (see writeFastColumn).
func (m *merger) writeFast(sw *segmentWriter) error {
	w, err := sw.create(kindFast)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range m.schema.fields {
		if f.FastNumeric() {
			n++
		}
	}
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(n))); err != nil {
		return err
	}
	for ord, f := range m.schema.fields {
		if !f.FastNumeric() {
			continue
		}
		if err := m.ctx.Err(); err != nil {
			return err
		}
		vals := func(yield func(uint64, bool) bool) {
			for _, s := range m.sources {
				col := s.r.core.fast[ord]
				for old := uint32(0); old < s.numDocs; old++ {
					if s.docMap != nil && s.docMap[old] == NoMoreDocs {
						continue
					}
					if !yield(col.raw(old)) {
						return
					}
					m.readFast(8)
				}
			}
		}
		count, err := writeFastColumn(w, ord, f.Type, m.numDocs, vals)
		if err != nil {
			return err
		}
		if !f.Indexed {
			m.stats[f.Name] = FieldStats{DocCount: count}
		}
	}
	keys := func(yield func([]byte) bool) {
		for _, s := range m.sources {
			col := s.r.core.keys
			for old := uint32(0); old < s.numDocs; old++ {
				if s.docMap != nil && s.docMap[old] == NoMoreDocs {
					continue
				}
				k, err := col.key(old)
				if err != nil {
					m.keyErr = s.wrap(err)
					return
				}
				if !yield(k) {
					return
				}
				m.readFast(int64(len(k)) + 4)
			}
		}
	}
	err = writeKeySection(w, m.schema.primary, m.numDocs, keys)
	if m.keyErr != nil {
		return m.keyErr // a corrupt source stopped the keys early
	}
	if err != nil {
		return err
	}
	m.release(kindFast)
	if err := writeKeywordSection(w, sw.keywords); err != nil {
		return err
	}
	return sw.finish(kindFast)
}
