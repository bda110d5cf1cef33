package node

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/shipping"
	"github.com/hermes-search/hermes-go/storage"
)

// BenchmarkShipSegment measures pulling an 8 MiB segment from a node
// process over loopback into an index directory on disk (every file and
// the directory fsynced, every footer verified), by window size. The
// node's copy is restored before each run: a fetch releases it.
func BenchmarkShipSegment(b *testing.B) {
	n, sys := startNode(b), writer()
	h, err := Connect(sys, n.addr, "host-bench", writerActor(b, sys), testTimeout)
	if err != nil {
		b.Fatal(err)
	}
	seg, err := buildBig(h.Scratch, 8000)
	if err != nil {
		b.Fatal(err)
	}
	saved := map[string][]byte{}
	for _, f := range seg.Files {
		if saved[f.Name], err = os.ReadFile(filepath.Join(h.Scratch, f.Name)); err != nil {
			b.Fatal(err)
		}
	}
	for _, window := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			b.SetBytes(seg.Bytes)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// The previous run's release reaches the file server before
				// this request (one connection, in order): wait for both.
				if _, err := sys.Root.RequestFuture(h.Files, &messages.ReadChunk{File: "sync", Length: 1}, testTimeout).Result(); err != nil {
					b.Fatal(err)
				}
				for name, data := range saved {
					if err := os.WriteFile(filepath.Join(h.Scratch, name), data, 0o644); err != nil {
						b.Fatal(err)
					}
				}
				index, err := storage.NewFS(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				fetcher := sys.Root.Spawn(shipping.NewFetcher(shipping.FetcherConfig{Dir: index, Window: window}))
				b.StartTimer()
				res, err := sys.Root.RequestFuture(fetcher, &messages.FetchSegment{Segment: seg, Source: h.Files}, testTimeout).Result()
				b.StopTimer()
				_ = sys.Root.StopFuture(fetcher).Wait()
				if err != nil || res.(*messages.SegmentInstalled).Error != "" {
					b.Fatal(res, err)
				}
				b.StartTimer()
			}
		})
	}
}
