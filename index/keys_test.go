package index

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/pkindex"
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

// TestKeysHashCollisionsChangeNothing runs one seeded sequence of adds,
// deletes, rejects, commits and aborts on two writers' keys, one with a
// hash of three values, so that nearly every key shares its hash with
// others, and checks that both answer alike: duplicates are found exactly
// by the key's bytes, not its hash.
func TestKeysHashCollisionsChangeNothing(t *testing.T) {
	for _, upsert := range []bool{false, true} {
		real, tiny := newTestKeys(t, upsert), newTestKeys(t, upsert)
		tiny.hash = func(key []byte) uint64 { return uint64(len(key)) % 3 }
		rng := rand.New(rand.NewPCG(13, 0))
		lastAdd := map[string]uint64{}
		sorted := func(c Cut) []string { return slices.Sorted(slices.Values(deletes(c))) }
		for step := range 5000 {
			key := []byte(fmt.Sprintf("k%d", rng.IntN(300)))
			switch op := rng.IntN(20); {
			case op < 12:
				s1, err1 := real.Add(key, nil)
				s2, err2 := tiny.Add(key, nil)
				if s1 != s2 || (err1 == nil) != (err2 == nil) {
					t.Fatalf("step %d: Add(%s) = %d, %v with a real hash; %d, %v with collisions", step, key, s1, err1, s2, err2)
				}
				if err1 == nil {
					lastAdd[string(key)] = s1
				}
			case op < 16:
				if s1, s2 := real.Delete(key), tiny.Delete(key); s1 != s2 {
					t.Fatalf("step %d: Delete(%s) = %d, %d", step, key, s1, s2)
				}
			case op < 18:
				real.Reject(key, lastAdd[string(key)])
				tiny.Reject(key, lastAdd[string(key)])
			default:
				c1, c2 := real.Cut(), tiny.Cut()
				if d1, d2 := sorted(c1), sorted(c2); c1.Seq != c2.Seq || !slices.Equal(d1, d2) {
					t.Fatalf("step %d: cut %d %v with a real hash; %d %v with collisions", step, c1.Seq, d1, c2.Seq, d2)
				}
				if op == 18 {
					real.Committed(c1, nil)
					tiny.Committed(c2, nil)
				} else {
					real.Aborted(c1)
					tiny.Aborted(c2)
				}
			}
		}
		if real.PendingBytes() == 0 || tiny.PendingBytes() == 0 {
			t.Fatalf("pending keys count %d and %d bytes, want more", real.PendingBytes(), tiny.PendingBytes())
		}
	}
}

// committedKeys writes a segment holding keys under the "id" field of
// newTestKeys and opens it, as a writer's view holds a committed segment.
func committedKeys(t testing.TB, keys ...string) []*segment.Reader {
	return committedSegment(t, segment.ID{15: 1}, keys...)
}

func committedSegment(t testing.TB, id segment.ID, keys ...string) []*segment.Reader {
	t.Helper()
	s, err := segment.NewSchema(segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	toks, err := segment.ResolveTokenizers(s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := segment.NewBuilder(s, toks)
	for _, key := range keys {
		if err := b.Add(new(segment.Document).AddString("id", key)); err != nil {
			t.Fatal(err)
		}
	}
	dir := storage.NewMem()
	if _, err := b.Build(dir, id); err != nil {
		t.Fatal(err)
	}
	r, err := segment.Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return []*segment.Reader{r}
}

// Add asks the committed segments without its shard's lock; an add of the
// same key that comes in meanwhile counts as one that came before: the
// later add is a duplicate of it or, upserting, replaces it.
func TestKeysAnAddWhileTheSegmentsAreAskedComesFirst(t *testing.T) {
	committed := committedKeys(t, "old")
	for _, upsert := range []bool{false, true} {
		for _, key := range []string{"old", "new"} {
			k := newTestKeys(t, upsert)
			var inner uint64
			var innerErr error
			k.askedCommitted = func(asked []byte) {
				k.askedCommitted = nil // the add below asks too
				inner, innerErr = k.Add(asked, committed)
			}
			outer, outerErr := k.Add([]byte(key), committed)
			switch {
			case upsert:
				if innerErr != nil || outerErr != nil || inner != 1 || outer != 2 {
					t.Fatalf("upsert %s: adds numbered %d (%v), then %d (%v); want 1 and 2", key, inner, innerErr, outer, outerErr)
				}
				want := []string{key + "@2"}
				if key == "old" {
					want = []string{"old@1", "old@2"}
				}
				wantDeletes(t, k.Cut(), want...)
			case key == "old":
				if !errors.Is(innerErr, ErrDuplicateKey) || !errors.Is(outerErr, ErrDuplicateKey) {
					t.Fatalf("adds of a committed key: %v, %v; want two duplicates", innerErr, outerErr)
				}
			default:
				if innerErr != nil || inner != 1 || !errors.Is(outerErr, ErrDuplicateKey) {
					t.Fatalf("adds of a new key: %d (%v), then %v; want 1, then a duplicate", inner, innerErr, outerErr)
				}
			}
		}
	}
}

// The filter lets an add skip only the committed segments it covers: a key
// it rules out is still found in a segment it does not cover, whichever
// committed segments the add is given.
func TestKeysSkipOnlyTheSegmentsTheFilterCovers(t *testing.T) {
	k := newTestKeys(t, false)
	covered := committedSegment(t, segment.ID{14: 1, 15: 1}, "a")
	uncovered := committedSegment(t, segment.ID{14: 2, 15: 1}, "b")
	f := pkindex.New(10)
	f.Add([]byte("a"))
	f.MarkCovered(covered[0].ID().String())
	k.filterMu.Lock()
	k.publish(f)
	k.filterMu.Unlock()
	both := append(slices.Clone(covered), uncovered...)
	for _, tc := range []struct {
		committed []*segment.Reader
		key       string
		dup       bool
	}{
		{both, "a", true}, // the filter may hold it: the dictionary says yes
		{both, "b", true}, // ruled out, but its segment is not covered
		{both, "c", false},
		{covered, "b", false},
		{uncovered, "b", true},
		{both, "b", true},
		{nil, "d", false},
	} {
		_, err := k.Add([]byte(tc.key), tc.committed)
		if got := errors.Is(err, ErrDuplicateKey); got != tc.dup || (err != nil && !got) {
			t.Fatalf("Add(%s) over %d segments: %v, want duplicate %v", tc.key, len(tc.committed), err, tc.dup)
		}
		if err == nil {
			k.Reject([]byte(tc.key), k.seq.Load()) // free it for the next case
		}
	}
}

// A first commit of more keys than the empty filter holds leaves one
// filter sized for them, in one layer, with every key and the commit's
// segments covered, and saves it so: nothing is left to rebuild.
func TestKeysFirstCommitSizesTheFilterForItsKeys(t *testing.T) {
	k := newTestKeys(t, false)
	k.Start()
	k.Settle() // the empty filter, of the smallest capacity
	kf := k.filter.Load()
	if kf == nil {
		t.Fatal("no filter after Start")
	}
	n := 3 * int(kf.f.Stats().Capacity)
	for i := range n {
		mustAdd(t, k, fmt.Sprintf("key-%d", i))
	}
	k.Committed(k.Cut(), []string{segment.ID{15: 1}.String()})
	k.Settle()
	check := func(what string, f *pkindex.Filter) {
		t.Helper()
		if st := f.Stats(); st.Layers != 1 || st.Capacity < uint64(n) || st.Covered != 1 {
			t.Fatalf("%s: %+v; want one layer for %d keys, covering the segment", what, st, n)
		}
		for i := range n {
			if key := fmt.Sprintf("key-%d", i); !f.MayContain([]byte(key)) {
				t.Fatalf("%s lacks %s", what, key)
			}
		}
	}
	check("the published filter", k.filter.Load().f)
	saved, err := pkindex.Load(k.dir)
	if err != nil {
		t.Fatal(err)
	}
	check("the saved filter", saved)
}
