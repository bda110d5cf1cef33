package hermes

import (
	"strconv"
	"sync"

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

	mu      sync.Mutex
	pending map[string]struct{} // added since the last commit
	gone    map[string]struct{} // deleted since the last commit
}

func newKeySet(field segment.Field, upsert bool, committed func([]byte) (bool, error)) *keySet {
	return &keySet{field: field, upsert: upsert, committed: committed,
		pending: make(map[string]struct{}), gone: make(map[string]struct{})}
}

// reserve registers key. It reports whether the key is already in the index
// (only in upsert mode; otherwise that is a *DuplicateKeyError).
func (k *keySet) reserve(key []byte) (replaces bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, dup := k.pending[string(key)]
	if !dup {
		if _, deleted := k.gone[string(key)]; !deleted {
			if dup, err = k.committed(key); err != nil {
				return false, err
			}
		}
	}
	if dup && !k.upsert {
		return false, k.duplicate(key)
	}
	k.pending[string(key)] = struct{}{}
	return dup, nil
}

// deleted records a delete: the key is free again.
func (k *keySet) deleted(key []byte) {
	k.mu.Lock()
	delete(k.pending, string(key))
	k.gone[string(key)] = struct{}{}
	k.mu.Unlock()
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
// now answer for them) or an abort (they were discarded).
func (k *keySet) reset() {
	k.mu.Lock()
	k.pending = make(map[string]struct{})
	k.gone = make(map[string]struct{})
	k.mu.Unlock()
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
