package hermes

import (
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/hermes-search/hermes-go/segment"
)

// keySet enforces primary-key uniqueness at intake: a key is a duplicate if
// it is among the keys added since the last commit, or in a committed
// segment (asked of the segments' term dictionaries) and not deleted since.
// In upsert mode a duplicate is no error: it replaces the older document.
type keySet struct {
	field     segment.Field
	upsert    bool
	committed func(key []byte) (bool, error)
	seq       *atomic.Uint64 // the writer's: numbers are taken under mu, so
	// the operations on one key are numbered in the order they happen

	mu      sync.Mutex
	pending map[string]struct{} // added since the last commit
	gone    map[string]struct{} // deleted since the last commit
}

func newKeySet(field segment.Field, upsert bool, seq *atomic.Uint64, committed func([]byte) (bool, error)) *keySet {
	return &keySet{field: field, upsert: upsert, seq: seq, committed: committed,
		pending: make(map[string]struct{}), gone: make(map[string]struct{})}
}

// reserve registers key, which the caller hands over (it must not change
// afterwards), and numbers the add. It reports whether the key is already in
// the index (only in upsert mode; otherwise that is a *DuplicateKeyError).
func (k *keySet) reserve(key []byte) (seq uint64, replaces bool, err error) {
	// The map keeps the key's bytes without a copy, and the common case, a
	// new key, costs one map operation: insert, and see whether it grew.
	s := unsafe.String(unsafe.SliceData(key), len(key))
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(k.pending)
	k.pending[s] = struct{}{}
	if len(k.pending) == n { // added since the last commit
		if !k.upsert {
			return 0, false, k.duplicate(key)
		}
		return k.seq.Add(1), true, nil
	}
	if _, deleted := k.gone[s]; deleted {
		return k.seq.Add(1), false, nil
	}
	dup, err := k.committed(key)
	if err != nil || (dup && !k.upsert) {
		delete(k.pending, s)
		if err != nil {
			return 0, false, err
		}
		return 0, false, k.duplicate(key)
	}
	return k.seq.Add(1), dup, nil
}

// deleted records a delete, and numbers it: the key is free again.
func (k *keySet) deleted(key []byte) (seq uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.pending, string(key))
	k.gone[string(key)] = struct{}{}
	return k.seq.Add(1)
}

// release frees keys of documents that were not indexed (rejected).
func (k *keySet) release(keys ...[]byte) {
	k.mu.Lock()
	for _, key := range keys {
		delete(k.pending, string(key))
	}
	k.mu.Unlock()
}

// reset forgets every pending key and delete: after a commit (the segments
// now answer for them) or an abort (they were discarded). It returns the
// keys that were pending.
func (k *keySet) reset() map[string]struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	pending := k.pending
	k.pending = make(map[string]struct{})
	k.gone = make(map[string]struct{})
	return pending
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
