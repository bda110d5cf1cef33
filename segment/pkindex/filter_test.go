package pkindex

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// randomKeys returns n distinct keys of 1 to 40 bytes. Each starts with a
// one-byte tag (and its index) so that key sets with different tags never
// overlap.
func randomKeys(rng *rand.Rand, n int, tag byte) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		k := make([]byte, 0, 48)
		k = append(k, tag)
		k = binary.AppendUvarint(k, uint64(i))
		var r [40]byte
		for j := 0; j < len(r); j += 8 {
			binary.LittleEndian.PutUint64(r[j:], rng.Uint64())
		}
		keys[i] = append(k, r[:rng.IntN(36)]...)
	}
	return keys
}

func TestNoFalseNegatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := randomKeys(rng, 100_000, 'a')
	for _, expected := range []uint{100_000, 1000} { // sized right, and far too small (layers)
		t.Run(fmt.Sprint(expected), func(t *testing.T) {
			f := New(expected)
			for _, k := range keys {
				f.Add(k)
			}
			for i, k := range keys {
				if !f.MayContain(k) {
					t.Fatalf("key %d (%x) added but MayContain is false", i, k)
				}
			}
			st := f.Stats()
			// Distinct keys are counted, less those that were false
			// positives when added: under 1% for one layer, and under 1%
			// per full layer when layered (7 layers here).
			minKeys := uint64(len(keys)) * 99 / 100
			if st.Layers > 1 {
				minKeys = uint64(len(keys)) * 95 / 100
			}
			if st.Keys > uint64(len(keys)) || st.Keys < minKeys {
				t.Errorf("Stats.Keys = %d (%d layers), want %d to %d", st.Keys, st.Layers, minKeys, len(keys))
			}
			if expected == 1000 && st.Layers < 2 {
				t.Errorf("100k keys in a filter for 1000: %d layers, want growth", st.Layers)
			}
		})
	}
}

// fpRate returns the share of probes (never added) that f reports.
func fpRate(f *Filter, probes [][]byte) float64 {
	fp := 0
	for _, k := range probes {
		if f.MayContain(k) {
			fp++
		}
	}
	return float64(fp) / float64(len(probes))
}

// theoreticalFP is the false-positive rate of a bloom filter with m bits
// and k hash functions holding n keys: (1 - e^(-kn/m))^k.
func theoreticalFP(m, k, n float64) float64 {
	return math.Pow(1-math.Exp(-k*n/m), k)
}

func TestFalsePositiveRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const capacity = 100_000
	keys := randomKeys(rng, capacity, 'a')
	probes := randomKeys(rng, 100_000, 'b')

	f := New(capacity / 2) // capacity 2 * expected
	for _, k := range keys[:capacity/2] {
		f.Add(k)
	}
	// At the expected load: 20 bits per key.
	half := fpRate(f, probes)
	if want := theoreticalFP(20, NumHashes, 1); half > 5*want {
		t.Errorf("at expected load: false positives %.4f%%, theory %.4f%%", 100*half, 100*want)
	}
	for _, k := range keys[capacity/2:] {
		f.Add(k)
	}
	if st := f.Stats(); st.Layers != 1 || st.Capacity != capacity {
		t.Fatalf("filled to capacity: %+v, want one layer of capacity %d", st, capacity)
	}
	// At capacity, 10 bits per key: theory says 0.82%. The upper bound is
	// the contract; the lower bound shows the bits are not oversized.
	full := fpRate(f, probes)
	want := theoreticalFP(BitsPerKey, NumHashes, 1)
	t.Logf("false positives: %.4f%% at expected load, %.3f%% at capacity (theory %.3f%%)", 100*half, 100*full, 100*want)
	if full >= 0.02 || full < want/2 {
		t.Errorf("at capacity: false positives %.3f%%, want near %.3f%% and under 2%%", 100*full, 100*want)
	}

	// Past capacity a second layer opens; the rate stays bounded.
	for _, k := range randomKeys(rng, capacity, 'c') {
		f.Add(k)
	}
	if over := fpRate(f, probes); over >= 0.02 {
		t.Errorf("at twice the capacity (layered): false positives %.3f%%, want under 2%%", 100*over)
	}
}

func TestCovers(t *testing.T) {
	f := New(10)
	if got := f.Covers(); len(got) != 0 {
		t.Fatalf("new filter covers %v", got)
	}
	f.MarkCovered("b", "a")
	f.MarkCovered("c", "a")
	if got, want := fmt.Sprint(f.Covers()), "[a b c]"; got != want {
		t.Fatalf("Covers = %s, want %s", got, want)
	}
}

// TestConcurrentAddMayContain runs writers and readers together (run under
// -race): every key a writer finished adding must be found by any reader.
func TestConcurrentAddMayContain(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const writers, perWriter = 4, 5000
	keys := randomKeys(rng, writers*perWriter, 'a')
	f := New(1000) // small, so the writers also grow it
	var progress [writers]struct {
		mu   sync.Mutex
		done int // keys[w*perWriter : w*perWriter+done] are added
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				f.Add(keys[w*perWriter+i])
				progress[w].mu.Lock()
				progress[w].done = i + 1
				progress[w].mu.Unlock()
				if i%1000 == 0 {
					f.MarkCovered(fmt.Sprintf("w%d-%d", w, i))
				}
			}
		})
	}
	errs := make(chan string, writers)
	for r := range writers {
		wg.Go(func() {
			for i := 0; i < 20_000; i++ {
				w := (r + i) % writers
				progress[w].mu.Lock()
				done := progress[w].done
				progress[w].mu.Unlock()
				if done == 0 {
					continue
				}
				if k := keys[w*perWriter+(i%done)]; !f.MayContain(k) {
					errs <- fmt.Sprintf("key %x added before the check is missing", k)
					return
				}
				if i%5000 == 0 {
					_ = f.Covers()
					_ = f.Stats()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for i, k := range keys {
		if !f.MayContain(k) {
			t.Fatalf("key %d missing after all adds", i)
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	keys := randomKeys(rand.New(rand.NewPCG(1, 1)), 1<<16, 'a')
	f := New(1 << 20)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.Add(keys[i&(1<<16-1)])
		i++
	}
}

func BenchmarkMayContain(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	keys := randomKeys(rng, 1<<16, 'a')
	misses := randomKeys(rng, 1<<16, 'b')
	f := New(1 << 16)
	for _, k := range keys {
		f.Add(k)
	}
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f.MayContain(keys[i&(1<<16-1)])
			i++
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f.MayContain(misses[i&(1<<16-1)])
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				f.MayContain(keys[i&(1<<16-1)])
				i++
			}
		})
	})
}
