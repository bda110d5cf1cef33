package hermes

import (
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/hermes-search/hermes-go/segment"
)

// keySet enforces primary-key uniqueness at intake: a key is a duplicate if
// a live add of it is pending (since the last commit), or if a committed
// segment holds it (asked of the segments' term dictionaries) and no
// pending delete freed it. In upsert mode a duplicate is no error: it
// replaces the older document.
//
// Intake stays open during a commit, so each key remembers the numbers of
// its pending operations: a commit or an abort settles only those numbered
// up to its cut, and the rest wait for the next commit.
//
// Every keyed add passes here, from many goroutines: the keys are spread
// over shards, each with its own lock, so that adds of different keys
// rarely wait for each other.
type keySet struct {
	field     segment.Field
	upsert    bool
	committed func(key []byte) (bool, error)
	seq       *atomic.Uint64 // the writer's: numbers are taken under the
	// key's shard lock, so the operations on one key are numbered in the
	// order they happen

	seed   maphash.Seed
	shards [keyShards]keyShard
}

const keyShards = 16

// keyShard holds the keys with operations since the last commit whose
// hash falls in it.
type keyShard struct {
	mu   sync.Mutex
	keys map[string]keyOps
	_    [64]byte // its own cache line: the next shard's lock is another's
}

// keyOps are a key's pending operations, by sequence number (0: none).
type keyOps struct {
	firstAdd   uint64 // the first add since the last commit
	lastAdd    uint64 // the last add; live if after lastDelete
	lastDelete uint64 // the last delete
}

func newKeySet(field segment.Field, upsert bool, seq *atomic.Uint64, committed func([]byte) (bool, error)) *keySet {
	k := &keySet{field: field, upsert: upsert, seq: seq, committed: committed, seed: maphash.MakeSeed()}
	for i := range k.shards {
		k.shards[i].keys = make(map[string]keyOps)
	}
	return k
}

func (k *keySet) shard(key string) *keyShard {
	return &k.shards[maphash.String(k.seed, key)%keyShards]
}

// reserve registers key, which the caller hands over (it must not change
// afterwards), and numbers the add. It reports whether the key is already in
// the index (only in upsert mode; otherwise that is a *DuplicateKeyError).
func (k *keySet) reserve(key []byte) (seq uint64, replaces bool, err error) {
	// The map keeps the key's bytes without a copy.
	s := unsafe.String(unsafe.SliceData(key), len(key))
	sh := k.shard(s)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ops, known := sh.keys[s]
	switch {
	case known && ops.lastAdd > ops.lastDelete: // a live add is pending
		if !k.upsert {
			return 0, false, k.duplicate(key)
		}
		replaces = true
	case known && ops.lastDelete > 0: // deleted since the last commit
	default:
		dup, err := k.committed(key)
		if err != nil {
			return 0, false, err
		}
		if dup && !k.upsert {
			return 0, false, k.duplicate(key)
		}
		replaces = dup
	}
	seq = k.seq.Add(1)
	if ops.firstAdd == 0 {
		ops.firstAdd = seq
	}
	ops.lastAdd = seq
	sh.keys[s] = ops
	return seq, replaces, nil
}

// deleted records a delete, and numbers it: the key is free again.
func (k *keySet) deleted(key []byte) (seq uint64) {
	sh := k.shard(string(key))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	seq = k.seq.Add(1)
	ops := sh.keys[string(key)]
	ops.lastDelete = seq
	sh.keys[string(key)] = ops
	return seq
}

// release frees the key of a document that was not indexed (rejected),
// unless the key was added again since.
func (k *keySet) release(key []byte, seq uint64) {
	sh := k.shard(string(key))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if ops, ok := sh.keys[string(key)]; ok && ops.lastAdd == seq {
		ops.lastAdd = 0
		sh.keys[string(key)] = ops
	}
}

// commit settles the operations numbered up to cut, now committed (the
// segments answer for their keys), and returns the keys added up to cut,
// for the filter.
func (k *keySet) commit(cut uint64) map[string]struct{} {
	added := make(map[string]struct{})
	for i := range k.shards {
		sh := &k.shards[i]
		sh.mu.Lock()
		for key, ops := range sh.keys {
			if ops.firstAdd != 0 && ops.firstAdd <= cut {
				added[key] = struct{}{}
			}
			sh.settle(key, ops, cut)
		}
		sh.mu.Unlock()
	}
	return added
}

// abort settles the operations numbered up to cut, discarded. It returns
// the keys whose later add relied on a discarded delete: that add must now
// replace the committed document, or the key would be in the index twice.
func (k *keySet) abort(cut uint64) (replace map[string]uint64) {
	for i := range k.shards {
		sh := &k.shards[i]
		sh.mu.Lock()
		for key, ops := range sh.keys {
			if ops.lastDelete != 0 && ops.lastDelete <= cut && ops.lastAdd > cut {
				if replace == nil {
					replace = map[string]uint64{}
				}
				replace[key] = ops.lastAdd
			}
			sh.settle(key, ops, cut)
		}
		sh.mu.Unlock()
	}
	return replace
}

// settle forgets a key's operations numbered up to cut; call with mu held.
func (sh *keyShard) settle(key string, ops keyOps, cut uint64) {
	if ops.lastAdd <= cut {
		ops.lastAdd = 0
	}
	if ops.lastDelete <= cut {
		ops.lastDelete = 0
	}
	if ops.lastAdd != 0 {
		// Its first add after the cut is not known: cut+1 is a lower
		// bound, and the next commit gives the filter the key anyway.
		ops.firstAdd = cut + 1
	} else {
		ops.firstAdd = 0
	}
	if ops.lastAdd == 0 && ops.lastDelete == 0 {
		delete(sh.keys, key)
		return
	}
	sh.keys[key] = ops
}

func (k *keySet) duplicate(key []byte) error {
	return &DuplicateKeyError{Field: k.field.Name, Key: displayKey(k.field, key)}
}

// displayKey renders a primary key's indexed bytes as the user wrote it.
func displayKey(f segment.Field, key []byte) string {
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
