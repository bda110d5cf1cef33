package index

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// newTestKeys returns the state of a writer on an empty index with a
// keyword primary key "id".
func newTestKeys(t *testing.T, upsert bool) *Keys {
	t.Helper()
	k := NewKeys(KeysConfig{
		Dir:      storage.NewMem(),
		Key:      segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true},
		Upsert:   upsert,
		Metadata: &storage.Metadata{Generation: 1},
	})
	t.Cleanup(k.Close)
	return k
}

func mustAdd(t *testing.T, k *Keys, key string) uint64 {
	t.Helper()
	seq, err := k.Add([]byte(key), nil)
	if err != nil {
		t.Fatalf("Add(%s): %v", key, err)
	}
	return seq
}

func deletes(c Cut) []string {
	var out []string
	for _, op := range c.Deletes {
		out = append(out, fmt.Sprintf("%s@%d", op.Key, op.Seq))
	}
	return out
}

func wantDeletes(t *testing.T, c Cut, want ...string) {
	t.Helper()
	if got := deletes(c); !slices.Equal(got, want) {
		t.Fatalf("cut at %d deletes %v, want %v", c.Seq, got, want)
	}
}

func TestKeysNumberEveryOperationInOrder(t *testing.T) {
	k := newTestKeys(t, false)
	if a, b := mustAdd(t, k, "a"), k.Delete([]byte("a")); a != 1 || b != 2 {
		t.Fatalf("numbers %d, %d; want 1, 2", a, b)
	}
	if seq := mustAdd(t, k, "a"); seq != 3 {
		t.Fatalf("an add after a delete of its key: number %d, want 3", seq)
	}
	c := k.Cut()
	if c.Seq != 3 {
		t.Fatalf("cut at %d, want 3", c.Seq)
	}
	wantDeletes(t, c, "a@2")
	wantDeletes(t, k.Cut()) // taken once

	plain := NewKeys(KeysConfig{Metadata: &storage.Metadata{}})
	defer plain.Close()
	for want := uint64(1); want <= 3; want++ {
		if seq, err := plain.Add(nil, nil); err != nil || seq != want {
			t.Fatalf("without a primary key: Add = %d, %v; want %d", seq, err, want)
		}
	}
}

func TestKeysRefuseAPendingKeyUnlessDeletedOrRejected(t *testing.T) {
	k := newTestKeys(t, false)
	seq := mustAdd(t, k, "a")
	_, err := k.Add([]byte("a"), nil)
	var dup *DuplicateKeyError
	if !errors.Is(err, ErrDuplicateKey) || !errors.As(err, &dup) || dup.Field != "id" || dup.Key != "a" {
		t.Fatalf("second add of a: %v, want a *DuplicateKeyError for id a", err)
	}
	k.Reject([]byte("a"), seq) // not indexed: free again
	mustAdd(t, k, "a")
	k.Delete([]byte("a"))
	mustAdd(t, k, "a")
}

func TestKeysUpsertLogsTheDeleteOfTheOlderDocument(t *testing.T) {
	k := newTestKeys(t, true)
	mustAdd(t, k, "a")
	seq := mustAdd(t, k, "a")
	wantDeletes(t, k.Cut(), fmt.Sprintf("a@%d", seq))
}

func TestKeysUncutKeepsDeletesInOrder(t *testing.T) {
	k := newTestKeys(t, false)
	k.Delete([]byte("a"))
	c := k.Cut()
	k.Delete([]byte("b"))
	k.Uncut(c) // the prepare failed
	wantDeletes(t, k.Cut(), "a@1", "b@2")
}

func TestKeysCommittedForgetsOnlyOperationsUpToTheCut(t *testing.T) {
	k := newTestKeys(t, false)
	mustAdd(t, k, "a")
	c := k.Cut()
	mustAdd(t, k, "b") // after the cut: waits for the next commit
	k.Committed(c, nil)
	// a is the committed segments' to answer for now (none here, so it is
	// free); b is still pending.
	mustAdd(t, k, "a")
	if _, err := k.Add([]byte("b"), nil); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("b, added after the cut, was forgotten by the commit: %v", err)
	}
}

func TestKeysAbortMakesALaterAddReplace(t *testing.T) {
	k := newTestKeys(t, false)
	k.Delete([]byte("a")) // of a committed document
	c := k.Cut()
	seq := mustAdd(t, k, "a") // allowed: the delete freed the key
	k.Aborted(c)              // the delete is discarded: the add must replace
	wantDeletes(t, k.Cut(), fmt.Sprintf("a@%d", seq))
	if _, err := k.Add([]byte("a"), nil); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("a third add of a: %v, want a duplicate", err)
	}
}
