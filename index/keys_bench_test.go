package index

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

// BenchmarkKeysPending adds 600k keyed documents in one commit, each key in
// its own allocation as a decoded document's would be, and reports the live
// heap the pending keys hold after a collection (pending-B/key), which is
// what a long commit costs past the indexing budget.
func BenchmarkKeysPending(b *testing.B) {
	const n = 600_000
	var perKey, counted float64
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		k := NewKeys(KeysConfig{
			Dir:      storage.NewMem(),
			Key:      segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true},
			Metadata: &storage.Metadata{Generation: 1},
		})
		for i := range n {
			key := strconv.AppendInt(append(make([]byte, 0, 16), "doc-"...), int64(i), 10)
			if _, err := k.Add(key, nil); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perKey = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
		counted = float64(k.PendingBytes()) / n
		runtime.KeepAlive(k)
		k.Close()
	}
	b.ReportMetric(perKey, "pending-B/key")
	b.ReportMetric(counted, "counted-B/key")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/add")
}

// BenchmarkKeysAddCommitted adds new keys to a writer whose index holds 20
// committed segments, all covered by the primary-key filter: what the
// duplicate check costs an add once commits have been made (the filter
// rules each key out, so no dictionary is asked).
func BenchmarkKeysAddCommitted(b *testing.B) {
	const segments, perSegment = 20, 1000
	k := NewKeys(KeysConfig{
		Dir:      storage.NewMem(),
		Key:      segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true},
		Metadata: &storage.Metadata{Generation: 1},
	})
	defer k.Close()
	f := pkindex.New(segments * perSegment)
	var committed []*segment.Reader
	for s := range segments {
		keys := make([]string, perSegment)
		for i := range keys {
			keys[i] = fmt.Sprintf("old-%d-%d", s, i)
			f.Add([]byte(keys[i]))
		}
		r := committedSegment(b, segment.ID{14: byte(s), 15: 1}, keys...)
		f.MarkCovered(r[0].ID().String())
		committed = append(committed, r...)
	}
	k.filterMu.Lock()
	k.publish(f)
	k.filterMu.Unlock()
	keys := make([][]byte, b.N)
	for i := range keys {
		keys[i] = strconv.AppendInt([]byte("new-"), int64(i), 10)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := k.Add(keys[i], committed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeysCommitted is the first commit of a new index with 265k keyed
// documents (realmix's count): Committed settles the pending keys and gives
// them to the primary-key filter, and the background save (or rebuild)
// that follows is waited for. It reports the CPU of that, per key.
func BenchmarkKeysCommitted(b *testing.B) {
	const n = 265_441
	for range b.N {
		b.StopTimer()
		k := NewKeys(KeysConfig{
			Dir:      storage.NewMem(),
			Key:      segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true},
			Metadata: &storage.Metadata{Generation: 1},
		})
		k.Start()
		k.Settle()
		for i := range n {
			key := strconv.AppendInt(append(make([]byte, 0, 16), "doc-"...), int64(i), 10)
			if _, err := k.Add(key, nil); err != nil {
				b.Fatal(err)
			}
		}
		c := k.Cut()
		b.StartTimer()
		k.Committed(c, []string{segment.ID{15: 1}.String()})
		k.Settle()
		b.StopTimer()
		k.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
}
