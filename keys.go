package hermes

import (
	"strconv"
	"sync"

	"github.com/hermes-search/hermes-go/segment"
)

// keySet enforces primary-key uniqueness at intake: a key is a duplicate if
// it is among the keys added since the last commit, or in a committed
// segment (asked of the segments' term dictionaries).
type keySet struct {
	field     segment.Field
	committed func(key []byte) (bool, error)

	mu      sync.Mutex
	pending map[string]struct{}
}

func newKeySet(field segment.Field, committed func([]byte) (bool, error)) *keySet {
	return &keySet{field: field, committed: committed, pending: make(map[string]struct{})}
}

// reserve registers key, or reports it as a duplicate.
func (k *keySet) reserve(key []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, dup := k.pending[string(key)]; dup {
		return k.duplicate(key)
	}
	found, err := k.committed(key)
	if err != nil {
		return err
	}
	if found {
		return k.duplicate(key)
	}
	k.pending[string(key)] = struct{}{}
	return nil
}

// release rolls back keys whose add failed or whose document was rejected.
func (k *keySet) release(keys ...[]byte) {
	k.mu.Lock()
	for _, key := range keys {
		delete(k.pending, string(key))
	}
	k.mu.Unlock()
}

// reset forgets every pending key: after a commit (the segments now answer
// for them) or an abort (they were discarded).
func (k *keySet) reset() {
	k.mu.Lock()
	k.pending = make(map[string]struct{})
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
