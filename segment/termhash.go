package segment

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"sync"
	"unsafe"
	"weak"

	"github.com/hermes-search/hermes-go/internal/pages"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// termHash interns term bytes into one arena and maps them to dense ids
// 0, 1, 2, ... (Lucene's BytesRefHash). Compared with a Go map of strings
// it makes no allocation per term and its memory is exactly the sum of a
// few slice capacities, which keeps EstimatedMemoryBytes honest.
//
// A slot holds a term of up to 8 bytes (most words) and its length beside
// its id, so that looking it up reads one slot and never the arena: on a
// large vocabulary that saves the two cache misses (the term's end, then
// its bytes) that dominated indexing. A longer term's slot holds the
// start of its bytes in the arena, so that checking it costs one miss.
// The slot also keeps the low 24 bits of the hash, the bits that pick its
// place in a table of up to 2^24 slots, so growing moves slots without
// reading terms.
type termHash struct {
	seed  maphash.Seed
	seed0 uint64 // seeds of the hash of short terms; seed1 is odd
	seed1 uint64
	slots []termSlot // len is a power of 2
	arena []byte     // all term bytes, back to back
	ends  []uint32   // ends[id] is the end of term id in arena; its start is ends[id-1] (0 for id 0)
	mask  uint64
	// hashedMask is the largest mask whose index bits the slots keep
	// (slotHashMask); tests lower it to take the re-hashing path.
	hashedMask uint64
	field      string               // for freeTermTables
	owner      weak.Pointer[Schema] // the builder's schema, for freeTables.hint
}

// termSlot is one place of the table; id1 == 0 marks it empty. Beside the
// term it holds the hot part of the term's postings state (see termAcc):
// a token then touches one cache line after hashing, its slot (32 bytes,
// aligned), instead of a slot and then a termAcc elsewhere.
//
// key identifies the term with meta: a term of up to 8 bytes by its bytes
// (termPrefix); a longer one by the high 32 bits of its hash and the start
// of its bytes in the arena (longKey), so that checking a match reads the
// arena once, at a known place, rather than ends and then the arena.
type termSlot struct {
	key  uint64
	meta uint32 // hash & slotHashMask | min(len, 255)<<24
	id1  uint32 // id + 1
	postingState
}

// longKey is the key of a term of more than 8 bytes, of hash hv, whose
// bytes start at start in the arena.
func longKey(hv uint64, start uint32) uint64 { return hv>>32<<32 | uint64(start) }

// postingState is what a token of the term reads and writes when
// positions are off: see termAcc, where Build finds it (syncTerms).
type postingState struct {
	postUpto uint32 // the post stream's next write
	prevDoc1 uint32 // previous flushed doc + 1 (0 before the first)
	curDoc   uint32 // document the pending freq belongs to
	freq     uint32 // pending freq; 0 = nothing pending
}

const (
	slotHashBits = 24
	slotHashMask = 1<<slotHashBits - 1
	termSlotSize = unsafe.Sizeof(termSlot{}) // 32
)

// termTables is the memory of a released termHash, for the next one.
type termTables struct {
	slots []termSlot // all empty
	arena []byte
	ends  []uint32
}

// freeTermTables holds, by field name, what released term hashes leave
// for the next term hash of the same field (a *freeTables each): a
// worker's next segment reuses the memory of its last (no growing and
// re-hashing from 16 slots again, no fresh pages to fault in) instead of
// leaving it to the collector. By field, so that a small field does not
// hold on to the large table of another.
var freeTermTables sync.Map

// freeTables are the released tables of one field, held weakly: tables
// that no term hash takes before the next collection are freed, as a
// sync.Pool would free them. (A sync.Pool keeps an item in the private
// slot of the P that put it, out of reach of every other P: a worker that
// ran on another P for its next segment found no tables for most fields,
// and grew and re-hashed them from 16 slots, 4% of a realmix run's CPU.)
// If the tables were freed, the next term hash is sized for the terms
// and term bytes of the last one released, if that was a builder's of the
// same schema: of the same writer, so under the same memory budget. A
// process may hold writers with budgets far apart whose schemas share
// field names, and a hint does not pass from one to another, or a small
// writer's first builder would hold a large one's tables for good (its own
// release keeps their slots) and, counting them in EstimatedMemoryBytes,
// write a segment every few documents.
//
// So only the first builder of each worker grows its tables from 16 slots
// (in hermes bench, termHash.grow's 0.1-0.2 s of CPU, nearly all of it
// the page faults of the new tables' first writes). Sizing those tables
// right from the start would not save it: with every field's table made
// its final size at once (an oracle, December 8, 2026), 8 interleaved
// runs used as much CPU (paired ratio 1.03, within the noise), the faults
// moving to the first writes into the large tables, and the memory of the
// grown-out ones going on to serve other allocations.
type freeTables struct {
	mu        sync.Mutex
	tables    []weak.Pointer[termTables] // the last released at the end
	hint      termTablesHint
	hintOwner weak.Pointer[Schema] // whose builder left hint
}

// termTablesHint is the size of a released term hash.
type termTablesHint struct{ terms, arena, slots int }

// hintOf is the size that sizes the next term hash of h's field when h's
// tables are gone: the slots its terms need, with room for a queue of
// tokens (addQueued reserves that many), at most what it has, so that
// after a small segment the next new table is small again.
func hintOf(h *termHash) termTablesHint {
	slots := min(slotsFor(len(h.ends)+analysis.QueueTokens), len(h.slots))
	return termTablesHint{terms: len(h.ends), arena: len(h.arena), slots: slots}
}

// maxFreeTables bounds the weak pointers a field keeps.
const maxFreeTables = 8

func freeTablesOf(field string) *freeTables {
	if f, ok := freeTermTables.Load(field); ok {
		return f.(*freeTables)
	}
	f, _ := freeTermTables.LoadOrStore(field, new(freeTables))
	return f.(*freeTables)
}

// get returns released tables that are still there, or nil and the
// size of the last released if a builder of owner released it.
func (f *freeTables) get(owner weak.Pointer[Schema]) (*termTables, termTablesHint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := len(f.tables); n > 0; n-- {
		t := f.tables[n-1].Value()
		f.tables = f.tables[:n-1]
		if t != nil {
			return t, termTablesHint{}
		}
	}
	if f.hintOwner != owner {
		return nil, termTablesHint{}
	}
	return nil, f.hint
}

func (f *freeTables) put(t *termTables, hint termTablesHint, owner weak.Pointer[Schema]) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.tables) == maxFreeTables {
		f.tables = append(f.tables[:0], f.tables[1:]...)
	}
	f.tables = append(f.tables, weak.Make(t))
	f.hint, f.hintOwner = hint, owner
}

// newOwnedTermHash returns an empty term hash for the named field of a
// builder of schema owner, on released tables if there are some, else
// sized like the last released by a builder of owner (see freeTables).
func newOwnedTermHash(owner *Schema, field string) *termHash {
	wo := weak.Make(owner)
	t, hint := freeTablesOf(field).get(wo)
	if t == nil && hint.slots > 0 {
		t = &termTables{
			slots: make([]termSlot, hint.slots),
			arena: make([]byte, 0, hint.arena),
			ends:  make([]uint32, 0, hint.terms),
		}
		pages.TouchForWrite(t.slots) // insert reads slots before writing them
	}
	h := newTermHashOn(field, t)
	h.owner = wo
	return h
}

// slotsFor returns the slots reserve grows a new table to for n terms.
func slotsFor(n int) int {
	slots := 16
	for overFull(n, slots) {
		slots *= 2
	}
	return slots
}

// overFull reports whether terms terms fill more than 3/4 of slots slots,
// the most reserve lets a table hold.
func overFull(terms, slots int) bool { return uint64(terms)*4 > uint64(slots)*3 }

// newTermHashOn returns an empty term hash on the memory of t (empty
// slots), or on new memory if t is nil.
func newTermHashOn(field string, t *termTables) *termHash {
	h := &termHash{seed: maphash.MakeSeed(), hashedMask: slotHashMask, field: field}
	h.seed0, h.seed1 = rand.Uint64(), rand.Uint64()|1
	if t != nil {
		h.slots, h.arena, h.ends = t.slots, t.arena[:0], t.ends[:0]
	} else {
		h.slots = make([]termSlot, 16)
	}
	h.mask = uint64(len(h.slots) - 1)
	return h
}

func (h *termHash) len() int { return len(h.ends) }

func (h *termHash) term(id uint32) []byte {
	start := uint32(0)
	if id > 0 {
		start = h.ends[id-1]
	}
	return h.arena[start:h.ends[id]]
}

// termPrefix returns term's first 8 bytes as a little-endian integer,
// zero-padded.
func termPrefix(term []byte) uint64 {
	if len(term) >= 8 {
		return binary.LittleEndian.Uint64(term)
	}
	var p uint64
	for i := len(term) - 1; i >= 0; i-- {
		p = p<<8 | uint64(term[i])
	}
	return p
}

// addSlot returns the slot of term, interning it if new (isNew true),
// after growing the table if need be. ok is false only when the arena
// would pass 4 GiB.
func (h *termHash) addSlot(term []byte) (slot uint64, isNew, ok bool) {
	prefix := termPrefix(term)
	h.reserve(1)
	return h.addHashed(term, h.hash(term, prefix), prefix)
}

// reserve grows the table, if need be, so that n more terms keep it at
// most 3/4 full: addHashed does not grow it, so that the slot indexes it
// returns stay valid until the next reserve. 3/4 rather than 1/2 keeps
// the 32-byte slots to 43-85 bytes a term; most lookups still end in
// their first slot or the next, in the same or the next cache line.
func (h *termHash) reserve(n int) {
	for overFull(len(h.ends)+n, len(h.slots)) {
		h.grow()
	}
}

// hash returns the hash of term, whose termPrefix is prefix. A term of up
// to 8 bytes, most of them, is hashed by one seeded 64x64->128-bit
// multiply of its prefix (wyhash's mix), cheaper than a call to maphash.
func (h *termHash) hash(term []byte, prefix uint64) uint64 {
	if len(term) > 8 {
		return maphash.Bytes(h.seed, term)
	}
	return h.hashShort(prefix, len(term))
}

// hashShort is hash for a term of n <= 8 bytes.
func (h *termHash) hashShort(prefix uint64, n int) uint64 {
	hi, lo := bits.Mul64(prefix^h.seed0, h.seed1^uint64(n)<<56)
	return hi ^ lo
}

// addHashed returns the index of term's slot, interning the term if new
// (isNew true, with a zero postingState), given prefix = termPrefix(term)
// and hv = h.hash(term, prefix). The caller has reserved room for it. ok
// is false only when the arena would pass 4 GiB.
func (h *termHash) addHashed(term []byte, hv, prefix uint64) (slot uint64, isNew, ok bool) {
	return h.insert(term, hv, prefix, true)
}

// insert is addHashed; with verify false, a term of more than 8 bytes is
// found on a slot that matches its length and 56 bits of its hash without
// reading the arena, and the caller checks the match later (isTerm), when
// the bytes it touched meanwhile are in the cache.
func (h *termHash) insert(term []byte, hv, prefix uint64, verify bool) (slot uint64, isNew, ok bool) {
	meta := uint32(hv)&slotHashMask | uint32(min(len(term), 255))<<slotHashBits
	long := len(term) > 8
	key := prefix
	if long {
		key = longKey(hv, 0)
	}
	i := hv & h.mask
	for {
		s := &h.slots[i]
		if s.id1 == 0 {
			break
		}
		if s.meta == meta {
			if !long {
				if s.key == key {
					return i, false, true
				}
			} else if s.key>>32 == key>>32 && (!verify || h.isTerm(s, term)) {
				return i, false, true
			}
		}
		i = (i + 1) & h.mask
	}
	if uint64(len(h.arena))+uint64(len(term)) > 1<<32-1 {
		return 0, false, false
	}
	if long {
		key = longKey(hv, uint32(len(h.arena)))
	}
	id := uint32(len(h.ends))
	h.arena = append(h.arena, term...)
	h.ends = append(h.ends, uint32(len(h.arena)))
	h.slots[i] = termSlot{key: key, meta: meta, id1: id + 1}
	return i, true, true
}

// isTerm reports whether s, a slot of a term of more than 8 bytes whose
// meta matches term's (so, if shorter than 255 bytes, of its length),
// holds term.
func (h *termHash) isTerm(s *termSlot, term []byte) bool {
	start := uint32(s.key)
	if len(term) >= 255 && h.ends[s.id1-1]-start != uint32(len(term)) {
		return false
	}
	return string(h.arena[start:start+uint32(len(term))]) == string(term)
}

func (h *termHash) grow() {
	old := h.slots
	h.slots = make([]termSlot, len(old)*2)
	pages.TouchForWrite(h.slots) // the loop below reads slots before writing them
	h.mask = uint64(len(h.slots) - 1)
	for _, s := range old {
		if s.id1 == 0 {
			continue
		}
		var i uint64
		if h.mask <= h.hashedMask {
			i = uint64(s.meta) & h.mask
		} else {
			t := h.term(s.id1 - 1)
			i = h.hash(t, s.key) & h.mask // the key is the prefix of a short term
		}
		for h.slots[i].id1 != 0 {
			i = (i + 1) & h.mask
		}
		h.slots[i] = s
	}
}

// release empties h and hands its memory over to the next newOwnedTermHash;
// h is unusable afterwards.
func (h *termHash) release() {
	clear(h.slots)
	freeTablesOf(h.field).put(&termTables{slots: h.slots, arena: h.arena, ends: h.ends}, hintOf(h), h.owner)
	*h = termHash{}
}

func (h *termHash) memBytes() int64 {
	return int64(cap(h.slots))*int64(termSlotSize) + int64(cap(h.arena)) + int64(cap(h.ends))*4
}
