package index

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/hermes-search/hermes-go/internal/pages"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

// Keys is the one owner of a writer's operation state: the sequence number
// of every add and delete (tantivy's opstamps), the deletes not committed yet
// (its delete queue), the primary keys with operations since the last commit,
// and the bloom filter over the committed segments' keys (pk_bloom.bin).
// Together they enforce primary-key uniqueness at intake: a key is a
// duplicate if a live add of it is pending, or if a committed segment holds
// it and no pending delete freed it. In upsert mode a duplicate is no error:
// the add replaces the older document, and Keys logs the delete for it.
//
// Intake stays open during a commit, so a commit takes a Cut: the operations
// numbered up to a point. Committed or Aborted settles only those; the rest
// wait for the next commit.
//
// What is durable when:
//   - Nothing Keys holds in memory is durable by itself. The adds and deletes
//     of a Cut are durable once the commit that carries it has written its
//     metadata (the segments and deletes files are fsynced before
//     metadata.json names them); the writer calls Committed only then.
//   - Sequence numbers are not persisted. They order one writer's
//     operations since its last commit (a delete removes from this commit's
//     segments only documents numbered before it), and each writer starts
//     again from 1.
//   - The filter file is a cache, saved off the commit path. A missing,
//     stale or corrupt one is rebuilt from the segments; until a filter is
//     published, lookups ask the segments' term dictionaries, and a positive
//     is always confirmed there, so the filter never makes a duplicate.
//
// Its methods are safe for concurrent use. Add and Delete, and Cut, must be
// ordered by the caller (the writer's intake lock: adds and deletes hold it
// shared, a cut exclusively), so that a cut follows every operation
// numbered before it.
type Keys struct {
	key      segment.Field // the primary key; Name "" without one
	upsert   bool
	dir      storage.Directory
	segments SegmentSource
	logger   *slog.Logger

	seq atomic.Uint64 // the last number given; taken under the key's shard lock

	// The keys with operations since the last commit. Every keyed add
	// passes here, from many goroutines: the keys are spread over shards,
	// each with its own lock, so that adds of different keys rarely wait
	// for each other.
	hash   func(key []byte) uint64 // maphash with a seed; tests force collisions
	shards [keyShards]keyShard
	// askedCommitted, if set (by tests), runs when Add has asked the
	// committed segments about key, before it takes the shard's lock again.
	askedCommitted func(key []byte)

	deletesMu sync.Mutex
	deletes   []*messages.DeleteOp // since the last cut; a key's in order

	// The filter and the committed state it is brought up to.
	meta        atomic.Pointer[storage.Metadata]
	filter      atomic.Pointer[keyFilter]
	filterMu    sync.Mutex // one filter update at a time
	filterDirty bool       // changed since it was last saved; under filterMu

	bgMu    sync.Mutex     // orders bg.Add against Close's bg.Wait
	bg      sync.WaitGroup // filter updates, off the intake and commit paths
	closing bool           // under bgMu: no update starts after Close began
}

// SegmentSource opens committed segments for the filter's sync (Segments is
// one).
type SegmentSource interface {
	Acquire(info storage.SegmentInfo) (*segment.Reader, error)
	Release(info storage.SegmentInfo, r *segment.Reader)
}

// KeysConfig is what Keys is made of.
type KeysConfig struct {
	Dir storage.Directory
	// Key is the schema's primary key; without one (Name ""), Keys only
	// numbers adds.
	Key segment.Field
	// Upsert makes an add of a key already in the index replace it.
	Upsert bool
	// Segments opens the committed segments, Metadata names them.
	Segments SegmentSource
	Metadata *storage.Metadata
	Logger   *slog.Logger
}

const keyShards = 16

// keyShard holds the pending keys whose hash falls in it. They are kept
// compactly, because a long commit holds one per document added since the
// last one, outside the builders' budget, and in memory the collector does
// not scan: each key's bytes are appended to arena, its place there and its
// operations to entries (both grow without copying: keystore.go), and
// slots is an open-addressing table (linear probing) over entries by the
// key's 64-bit hash; a slot keeps the hash's high 32 bits, which also
// place it, so the table grows without hashing the keys again. A lookup
// confirms the key's bytes, so keys whose hashes collide are told apart.
// Keys are only added between commits; a commit or abort rebuilds the
// shard with the keys that stay (see settle). The rare key longer than an arena segment (64
// KiB), or past the arena's 32-bit positions, goes to overflow; a key is in
// one place, never two.
type keyShard struct {
	mu       sync.Mutex
	slots    []uint64 // 0 empty; else the entry's index+1, the hash's high 32 bits above
	entries  entryLog
	arena    keyArena // the keys' bytes; never changed once written
	overflow map[string]keyOps
	held     atomic.Int64 // what the four hold; written under mu
	_        [64]byte     // its own cache line: the next shard's lock is another's
}

// pendingKey is a pending key's bytes, arena[off:off+len], and operations,
// in 24 bytes: keyOps.added is len's top bit.
type pendingKey struct {
	off, len            uint32
	lastAdd, lastDelete uint64
}

const addedBit = 1 << 31

func (e *pendingKey) key(arena *keyArena) []byte {
	return arena.get(e.off, e.len&^addedBit)
}

func (e *pendingKey) ops() keyOps {
	return keyOps{lastAdd: e.lastAdd, lastDelete: e.lastDelete, added: e.len&addedBit != 0}
}

func (e *pendingKey) setOps(ops keyOps) {
	e.lastAdd, e.lastDelete = ops.lastAdd, ops.lastDelete
	e.len &^= addedBit
	if ops.added {
		e.len |= addedBit
	}
}

// overflowKeyBytes is what a key in overflow costs besides its bytes: a map
// slot (string header, keyOps) and the string's allocation header.
const overflowKeyBytes = 80

func (k *Keys) shard(h uint64) *keyShard {
	return &k.shards[h%keyShards]
}

// slot returns where key, whose hash is h, is in slots, or the empty slot
// where it would go (-1 with no table); call with sh.mu held.
func (sh *keyShard) slot(h uint64, key []byte) (i int, found bool) {
	if len(sh.slots) == 0 {
		return -1, false
	}
	mask := uint64(len(sh.slots) - 1)
	tag := h >> 32 << 32
	for p := h >> 32 & mask; ; p = (p + 1) & mask {
		s := sh.slots[p]
		if s == 0 {
			return int(p), false
		}
		if s>>32<<32 == tag {
			e := sh.entries.at(uint32(s) - 1)
			if bytes.Equal(e.key(&sh.arena), key) {
				return int(p), true
			}
		}
	}
}

// locate finds key, whose hash is h, with one probe: its place and its
// pending operations, if any (known). Call with sh.mu held, and pass the
// place to set before anything else changes the shard.
func (sh *keyShard) locate(h uint64, key []byte) (p keyPlace, ops keyOps, known bool) {
	i, found := sh.slot(h, key)
	p.slot = i
	if found {
		p.entry = sh.entries.at(uint32(sh.slots[i]) - 1)
		return p, p.entry.ops(), true
	}
	if len(sh.overflow) > 0 {
		ops, known = sh.overflow[string(key)]
	}
	return p, ops, known
}

// keyPlace is where locate found a key: its entry, or else the empty slot
// where it would go (-1 with no table yet).
type keyPlace struct {
	slot  int
	entry *pendingKey
}

// set sets the operations pending for key, whose hash is h, at the place
// locate returned, copying the key if it is new; call with sh.mu held.
func (sh *keyShard) set(p keyPlace, h uint64, key []byte, ops keyOps) {
	if p.entry != nil {
		p.entry.setOps(ops)
		return
	}
	_, inOverflow := sh.overflow[string(key)]
	before := sh.tableBytes()
	var off uint32
	fits := !inOverflow && len(key) < addedBit && sh.entries.n < math.MaxUint32-1
	if fits {
		off, fits = sh.arena.put(key)
	}
	if !fits {
		if sh.overflow == nil {
			sh.overflow = map[string]keyOps{}
		}
		if !inOverflow {
			sh.held.Add(overflowKeyBytes + int64(len(key)))
		}
		sh.overflow[string(key)] = ops
		return
	}
	i := p.slot
	if (int(sh.entries.n)+1)*4 > len(sh.slots)*3 { // at most 3/4 full
		sh.grow()
		i, _ = sh.slot(h, key)
	}
	e := pendingKey{off: off, len: uint32(len(key))}
	e.setOps(ops)
	j := sh.entries.push(e)
	sh.slots[i] = h>>32<<32 | uint64(j+1)
	if grown := sh.tableBytes() - before; grown != 0 {
		sh.held.Add(grown)
	}
}

// store sets the operations pending for key, whose hash is h; call with
// sh.mu held.
func (sh *keyShard) store(h uint64, key []byte, ops keyOps) {
	p, _, _ := sh.locate(h, key)
	sh.set(p, h, key, ops)
}

// grow doubles slots, placing the entries again by the hash bits their
// slots hold (a key's place in a table of any size is its hash's high 32
// bits, masked), so that no key is hashed again; call with sh.mu held.
func (sh *keyShard) grow() {
	old := sh.slots
	sh.slots = make([]uint64, max(2*len(old), 64))
	pages.TouchForWrite(sh.slots) // the loop below reads slots before writing them
	mask := uint64(len(sh.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		p := s >> 32 & mask
		for sh.slots[p] != 0 {
			p = (p + 1) & mask
		}
		sh.slots[p] = s
	}
}

// tableBytes is what slots, entries and arena hold.
func (sh *keyShard) tableBytes() int64 {
	return int64(8*cap(sh.slots)) + sh.entries.held + sh.arena.held
}

// keyOps are a key's pending operations, by sequence number (0: none).
type keyOps struct {
	lastAdd    uint64 // the last add; live if after lastDelete
	lastDelete uint64 // the last delete
	// added: an add since the last commit. The commit gives the key to
	// the filter even if its adds came after the cut: one commit early, a
	// false positive that the dictionary lookup behind it corrects.
	added bool
}

// keyFilter is the filter with the committed segments it covers, published
// together so that intake reads a consistent pair. covered is by the
// segments' IDs, not their names, so that an add looks up each committed
// segment without formatting its name.
type keyFilter struct {
	f       *pkindex.Filter
	covered map[segment.ID]bool
	// uncovered is, for the committed segments an add last asked about
	// (a writer passes the same ones until a commit or merge), those the
	// filter does not cover: an add then compares pointers instead of
	// looking each segment up.
	uncovered atomic.Pointer[uncoveredSegments]
}

type uncoveredSegments struct {
	of, not []*segment.Reader
}

// notCovered returns the segments of committed that the filter does not
// cover.
func (kf *keyFilter) notCovered(committed []*segment.Reader) []*segment.Reader {
	if u := kf.uncovered.Load(); u != nil && slices.Equal(u.of, committed) {
		return u.not
	}
	u := &uncoveredSegments{of: slices.Clone(committed)}
	for _, r := range committed {
		if !kf.covered[r.ID()] {
			u.not = append(u.not, r)
		}
	}
	kf.uncovered.Store(u)
	return u.not
}

// covers reports whether the filter covers the segment named id.
func (kf *keyFilter) covers(id string) bool {
	parsed, err := segment.ParseID(id)
	return err == nil && kf.covered[parsed]
}

// NewKeys returns the state of a writer that starts on cfg.Metadata, with
// nothing pending. Start brings the filter up to date.
func NewKeys(cfg KeysConfig) *Keys {
	k := &Keys{key: cfg.Key, upsert: cfg.Upsert, dir: cfg.Dir, segments: cfg.Segments, logger: cfg.Logger}
	seed := maphash.MakeSeed()
	k.hash = func(key []byte) uint64 { return maphash.Bytes(seed, key) }
	if k.logger == nil {
		k.logger = slog.New(slog.DiscardHandler)
	}
	k.meta.Store(cfg.Metadata)
	return k
}

// ErrDuplicateKey is wrapped by DuplicateKeyError.
var ErrDuplicateKey = errors.New("hermes: duplicate primary key")

// DuplicateKeyError reports a document whose primary key is already in the
// index or among the documents added since the last commit.
type DuplicateKeyError struct {
	Field string
	Key   string
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("hermes: duplicate primary key: field %q already holds %q", e.Field, e.Key)
}

// Unwrap makes errors.Is(err, ErrDuplicateKey) true.
func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

// Add numbers an add of a document with primary key key (nil without a
// primary key), which the caller hands over: it must not change afterwards.
// committed are the committed segments, open and unchanged for the call.
// It returns a *DuplicateKeyError if the key is in the index or pending
// (unless in upsert mode: then the older document is deleted at commit).
func (k *Keys) Add(key []byte, committed []*segment.Reader) (seq uint64, err error) {
	if k.key.Name == "" {
		return k.seq.Add(1), nil
	}
	h := k.hash(key)
	sh := k.shard(h)
	var inCommitted, asked bool
	for {
		sh.mu.Lock()
		p, ops, known := sh.locate(h, key)
		var replaces bool
		switch {
		case known && ops.lastAdd > ops.lastDelete: // a live add is pending
			if !k.upsert {
				sh.mu.Unlock()
				return 0, k.duplicate(key)
			}
			replaces = true
		case known && ops.lastDelete > 0: // deleted since the last commit
		case len(committed) > 0 && !asked:
			// The committed segments are asked without the shard's lock,
			// so that the filter's hashing and a dictionary lookup hold up
			// no add of the shard's other keys. They do not change during
			// the call; the key's pending operations may, so they are
			// looked up again.
			sh.mu.Unlock()
			if inCommitted, err = k.committedHas(key, committed); err != nil {
				return 0, err
			}
			asked = true
			if k.askedCommitted != nil {
				k.askedCommitted(key)
			}
			continue
		default:
			if inCommitted && !k.upsert {
				sh.mu.Unlock()
				return 0, k.duplicate(key)
			}
			replaces = inCommitted
		}
		seq = k.seq.Add(1)
		ops.added = true
		ops.lastAdd = seq
		sh.set(p, h, key, ops)
		if replaces {
			// A copy: key may share the memory of many documents (the
			// writer's intake carves a batch's wire forms from one slab),
			// and the delete log keeps it until the commit.
			k.logDelete(slices.Clone(key), seq)
		}
		sh.mu.Unlock()
		return seq, nil
	}
}

// Delete numbers and logs a delete of the document with primary key key,
// committed or pending: the key is free again.
func (k *Keys) Delete(key []byte) (seq uint64) {
	h := k.hash(key)
	sh := k.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	seq = k.seq.Add(1)
	p, ops, _ := sh.locate(h, key)
	ops.lastDelete = seq
	sh.set(p, h, key, ops)
	k.logDelete(key, seq)
	return seq
}

// logDelete appends to the delete log; call with the key's shard lock held,
// so that one key's deletes are logged in the order they are numbered.
func (k *Keys) logDelete(key []byte, seq uint64) {
	k.deletesMu.Lock()
	k.deletes = append(k.deletes, &messages.DeleteOp{Key: key, Seq: seq})
	k.deletesMu.Unlock()
}

// Reject frees the key of a document numbered seq that was not indexed,
// unless the key was added again since.
func (k *Keys) Reject(key []byte, seq uint64) {
	if k.key.Name == "" {
		return
	}
	h := k.hash(key)
	sh := k.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p, ops, ok := sh.locate(h, key); ok && ops.lastAdd == seq {
		ops.lastAdd = 0
		sh.set(p, h, key, ops)
	}
}

// Cut is a commit's share of the operations: those numbered up to Seq, with
// the deletes among them in order.
type Cut struct {
	Seq     uint64
	Deletes []*messages.DeleteOp
}

// Unreplace drops the delete that the add numbered seq logged of its key's
// older document (an upsert, or an add after a delete that an abort
// discarded), because that add was rejected: not indexed, it replaces
// nothing, and the older document stays.
func (c *Cut) Unreplace(key []byte, seq uint64) {
	c.Deletes = slices.DeleteFunc(c.Deletes, func(op *messages.DeleteOp) bool {
		return op.Seq == seq && bytes.Equal(op.Key, key)
	})
}

// Cut takes the operations numbered so far for a commit. No Add or Delete
// may run meanwhile (see Keys).
func (k *Keys) Cut() Cut {
	k.deletesMu.Lock()
	defer k.deletesMu.Unlock()
	c := Cut{Seq: k.seq.Load(), Deletes: k.deletes}
	k.deletes = nil
	return c
}

// Uncut gives back a cut whose commit was not prepared: its deletes go to
// the next cut, before the ones logged since.
func (k *Keys) Uncut(c Cut) {
	k.deletesMu.Lock()
	defer k.deletesMu.Unlock()
	k.deletes = append(c.Deletes, k.deletes...)
}

// Committed settles the operations of c, now durable: the segments answer
// for their keys. The filter learns the keys added up to the cut, and covers
// segments (the commit's new ones), without reading them back. Call it once
// the writer's view holds those segments.
func (k *Keys) Committed(c Cut, segments []string) {
	if k.key.Name == "" {
		return
	}
	// Into the shards' old arenas, which settle leaves as they are; sized
	// for every pending key (adds may come in meanwhile: a hint).
	var pending int
	for i := range k.shards {
		sh := &k.shards[i]
		sh.mu.Lock()
		pending += int(sh.entries.n) + len(sh.overflow)
		sh.mu.Unlock()
	}
	added := make([][]byte, 0, pending)
	k.settle(c.Seq, func(key []byte, ops keyOps) {
		if ops.added {
			added = append(added, key)
		}
	})
	k.addToFilter(added, segments)
}

// Aborted settles the operations of c, discarded with their deletes. An add
// numbered after the cut on the strength of a discarded delete of its key
// now replaces the committed document (a delete is logged for it), so that
// the key stays unique.
func (k *Keys) Aborted(c Cut) {
	if k.key.Name == "" {
		return
	}
	k.settle(c.Seq, func(key []byte, ops keyOps) {
		if ops.lastDelete != 0 && ops.lastDelete <= c.Seq && ops.lastAdd > c.Seq {
			k.logDelete(slices.Clone(key), ops.lastAdd)
		}
	})
}

// settle forgets the operations numbered up to cut, after showing each
// pending key to saw (with its shard's lock held). Each shard starts a new
// arena and map with the keys that stay, so that a commit gives back what
// its keys held (a Go map never shrinks).
func (k *Keys) settle(cut uint64, saw func(key []byte, ops keyOps)) {
	for i := range k.shards {
		sh := &k.shards[i]
		sh.mu.Lock()
		entries, arena, overflow := sh.entries, sh.arena, sh.overflow
		sh.slots, sh.entries, sh.arena, sh.overflow = nil, entryLog{}, keyArena{}, nil
		sh.held.Store(0)
		keep := func(key []byte, ops keyOps) {
			saw(key, ops)
			if ops, ok := settled(ops, cut); ok {
				sh.store(k.hash(key), key, ops)
			}
		}
		for j := range entries.n {
			e := entries.at(j)
			keep(e.key(&arena), e.ops())
		}
		for key, ops := range overflow {
			keep([]byte(key), ops)
		}
		sh.mu.Unlock()
	}
}

// settled returns a key's operations without those numbered up to cut, and
// whether any are left.
func settled(ops keyOps, cut uint64) (keyOps, bool) {
	if ops.lastAdd <= cut {
		ops.lastAdd = 0
	}
	if ops.lastDelete <= cut {
		ops.lastDelete = 0
	}
	ops.added = ops.lastAdd != 0
	return ops, ops.lastAdd != 0 || ops.lastDelete != 0
}

// PendingBytes returns what the keys with operations since the last commit
// hold in memory: the capacities of the shards' tables and arenas (about 40
// bytes plus the key's length per document added since the last commit,
// BenchmarkKeysPending measures it). A commit or abort gives back what its
// keys held.
func (k *Keys) PendingBytes() int64 {
	var n int64
	for i := range k.shards {
		n += k.shards[i].held.Load()
	}
	return n
}

func (k *Keys) duplicate(key []byte) error {
	return &DuplicateKeyError{Field: k.key.Name, Key: DisplayKey(k.key, key)}
}

// DisplayKey renders a primary key's indexed bytes as the user wrote it.
func DisplayKey(f segment.Field, key []byte) string {
	if len(key) == 8 {
		v := uint64(key[0])<<56 | uint64(key[1])<<48 | uint64(key[2])<<40 | uint64(key[3])<<32 |
			uint64(key[4])<<24 | uint64(key[5])<<16 | uint64(key[6])<<8 | uint64(key[7])
		switch f.Type {
		case segment.TypeU64:
			return strconv.FormatUint(v, 10)
		case segment.TypeI64:
			return strconv.FormatInt(int64(v^(1<<63)), 10)
		}
	}
	return string(key)
}

// Start brings the filter up to the committed state in the background: the
// persisted one reused or extended, or rebuilt. Lookups ask the segments
// until it is done.
func (k *Keys) Start() {
	if k.key.Name != "" {
		k.refresh()
	}
}

// Published takes a new committed state (after a commit or a merge): a
// merged segment whose sources the filter covered is covered too.
func (k *Keys) Published(meta *storage.Metadata) {
	k.meta.Store(meta)
	if k.key.Name != "" {
		k.coverMerged(meta)
	}
}

// Settle waits for the filter's background updates started so far (its
// save among them). bgMu keeps new ones from starting meanwhile; they take
// no bgMu themselves.
func (k *Keys) Settle() {
	k.bgMu.Lock()
	defer k.bgMu.Unlock()
	k.bg.Wait()
}

// Close waits for the filter's background updates; none starts after it.
// The segments must stay open until it returns.
func (k *Keys) Close() {
	k.bgMu.Lock()
	k.closing = true
	k.bgMu.Unlock()
	k.bg.Wait()
}

// committedHas reports whether a committed segment holds a live document
// with this primary key. Segments the filter covers are skipped when it
// rules the key out, so a new key costs no dictionary lookup; a positive is
// confirmed in the term dictionary, so there is never a false duplicate.
func (k *Keys) committedHas(key []byte, committed []*segment.Reader) (bool, error) {
	if len(committed) == 0 {
		return false, nil
	}
	if kf := k.filter.Load(); kf != nil && !kf.f.MayContain(key) {
		committed = kf.notCovered(committed)
	}
	for _, r := range committed {
		if live, err := hasLiveKey(r, k.key.Name, key); err != nil || live {
			return live, err
		}
	}
	return false, nil
}

func hasLiveKey(r *segment.Reader, field string, key []byte) (bool, error) {
	p, err := r.Postings(field, key)
	if err != nil || p == nil {
		return false, err
	}
	for d := p.Doc(); d != segment.NoMoreDocs; d = p.Next() {
		if !r.IsDeleted(d) {
			return true, nil
		}
	}
	return false, p.Err()
}
