package index

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
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
