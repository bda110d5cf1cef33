package index

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// keysModel is the pending keys as a plain map, with the semantics Keys had
// before its compact tables: what Keys must still answer.
type keysModel struct {
	upsert  bool
	seq     uint64
	pending map[string]modelOps
	deletes []string // key@seq, since the last cut
}

type modelOps struct{ lastAdd, lastDelete uint64 }

func (m *keysModel) add(key string) (uint64, bool) {
	ops, known := m.pending[key]
	replaces := false
	switch {
	case known && ops.lastAdd > ops.lastDelete:
		if !m.upsert {
			return 0, false
		}
		replaces = true
	}
	m.seq++
	ops.lastAdd = m.seq
	m.pending[key] = ops
	if replaces {
		m.deletes = append(m.deletes, fmt.Sprintf("%s@%d", key, m.seq))
	}
	return m.seq, true
}

func (m *keysModel) delete(key string) uint64 {
	m.seq++
	ops := m.pending[key]
	ops.lastDelete = m.seq
	m.pending[key] = ops
	m.deletes = append(m.deletes, fmt.Sprintf("%s@%d", key, m.seq))
	return m.seq
}

func (m *keysModel) reject(key string, seq uint64) {
	if ops, ok := m.pending[key]; ok && ops.lastAdd == seq {
		ops.lastAdd = 0
		m.pending[key] = ops
	}
}

func (m *keysModel) settle(cut uint64, aborted bool) {
	for key, ops := range m.pending {
		if aborted && ops.lastDelete != 0 && ops.lastDelete <= cut && ops.lastAdd > cut {
			m.deletes = append(m.deletes, fmt.Sprintf("%s@%d", key, ops.lastAdd))
		}
		if ops.lastAdd <= cut {
			ops.lastAdd = 0
		}
		if ops.lastDelete <= cut {
			ops.lastDelete = 0
		}
		if ops.lastAdd == 0 && ops.lastDelete == 0 {
			delete(m.pending, key)
		} else {
			m.pending[key] = ops
		}
	}
}

var longPrefix = strings.Repeat("x", int(segmentSize(lastDoubling, firstArenaBytes)))

// TestKeysMatchAMapModel runs seeded sequences of adds, deletes, rejects,
// cuts, commits and aborts, with adds and deletes also between a cut and
// its settling, over enough keys that the shards' tables grow several
// times, with a real hash and with one of few values (nearly every key
// collides), and checks each answer against keysModel: the numbers, the
// duplicates, each cut's deletes, and that nothing is held once nothing is
// pending.
func TestKeysMatchAMapModel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		upsert bool
		keys   int
		hash   func([]byte) uint64
		// longEvery: every longEvery-th key is longer than an arena
		// segment, so it goes to the shard's overflow map.
		longEvery int
	}{
		{"real hash", false, 5000, nil, 0},
		{"real hash, upsert", true, 5000, nil, 0},
		{"colliding hash", false, 400, func(key []byte) uint64 { return uint64(len(key)) % 5 }, 0},
		{"colliding hash, upsert", true, 400, func(key []byte) uint64 { return uint64(key[len(key)-1]) << 33 }, 0},
		{"long keys, upsert", true, 400, nil, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newTestKeys(t, tc.upsert)
			if tc.hash != nil {
				k.hash = tc.hash
			}
			m := &keysModel{upsert: tc.upsert, pending: map[string]modelOps{}}
			rng := rand.New(rand.NewPCG(7, uint64(tc.keys)))
			lastAdd := map[string]uint64{}
			var cut *Cut
			var modelCut uint64
			var modelCutDeletes []string
			for step := range 20_000 {
				i := rng.IntN(tc.keys)
				key := fmt.Sprintf("k%d", i)
				if tc.longEvery > 0 && i%tc.longEvery == 0 {
					key = longPrefix + key
				}
				switch op := rng.IntN(100); {
				case op < 60:
					seq, err := k.Add([]byte(key), nil)
					want, ok := m.add(key)
					if (err == nil) != ok || seq != want || (err != nil && !errors.Is(err, ErrDuplicateKey)) {
						t.Fatalf("step %d: Add(%s) = %d, %v; model %d, ok %v", step, key, seq, err, want, ok)
					}
					if ok {
						lastAdd[key] = seq
					}
				case op < 80:
					if seq, want := k.Delete([]byte(key)), m.delete(key); seq != want {
						t.Fatalf("step %d: Delete(%s) = %d, model %d", step, key, seq, want)
					}
				case op < 90:
					k.Reject([]byte(key), lastAdd[key])
					m.reject(key, lastAdd[key])
				case cut == nil:
					c := k.Cut()
					cut = &c
					modelCut, modelCutDeletes, m.deletes = m.seq, m.deletes, nil
					// Aborted logs in the order of its table walk, the model in
					// its map's: compare as sets (a key has at most one such
					// delete, numbered after its others).
					got := slices.Sorted(slices.Values(deletes(c)))
					if c.Seq != modelCut || !slices.Equal(got, slices.Sorted(slices.Values(modelCutDeletes))) {
						t.Fatalf("step %d: cut at %d deletes %v; model at %d %v", step, c.Seq, got, modelCut, modelCutDeletes)
					}
				default:
					aborted := op < 95
					if aborted {
						k.Aborted(*cut)
					} else {
						k.Committed(*cut, nil)
					}
					m.settle(modelCut, aborted)
					cut = nil
					c := k.Cut()
					got := slices.Sorted(slices.Values(deletes(c)))
					want := slices.Sorted(slices.Values(m.deletes))
					k.Uncut(c)
					if !slices.Equal(got, want) {
						t.Fatalf("step %d: after settling, deletes %v; model %v", step, got, want)
					}
					if held := k.PendingBytes(); (held == 0) != (len(m.pending) == 0) {
						t.Fatalf("step %d: %d keys pending, %d bytes held", step, len(m.pending), held)
					}
				}
			}
		})
	}
}
