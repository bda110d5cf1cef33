package remote

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/internal/corpus"
	"github.com/hermes-search/hermes-go/storage"
)

// BenchmarkRealmixRemote indexes the first 50,000 realmix documents through
// 2 local workers and through 1 local + 1 remote worker (a node process on
// 127.0.0.1), into a file-system directory, commit included. It reports
// docs/s, the bytes shipped from the node per run, and the node's peak RSS
// (VmHWM), and the writer's, the test process's (the corpus included).
// Run the two alternately, each in its own process, to compare them on a
// shared machine.
func BenchmarkRealmixRemote(b *testing.B) {
	s := corpus.Schema(true)
	docs, bytes := corpus.Realmix(b, s, 50_000)
	for _, remote := range []bool{false, true} {
		name := "local=2"
		if remote {
			name = "local=1,remote=1"
		}
		b.Run(name, func(b *testing.B) {
			var nodes []string
			var n *nodeProcess
			workers := 2
			if remote {
				n = startNode(b)
				nodes, workers = []string{n.addr}, 1
			}
			shipped := &shippedBytes{}
			b.SetBytes(bytes)
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				dir, err := storage.NewFS(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				cfg := hermes.Config{Workers: workers, Logger: slog.New(shipped)}
				if remote {
					cfg.Nodes, cfg.ActorSystem = nodes, writer()
				}
				w, err := hermes.Create(ctx, dir, s, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if remote {
					waitStarted(b, w, 2) // the remote worker starts once its node answers
				}
				for _, d := range docs {
					if err := w.AddDocumentWait(ctx, d); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Commit(ctx); err != nil {
					b.Fatal(err)
				}
				w.Close()
			}
			b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
			b.ReportMetric(float64(shipped.total())/float64(b.N), "shipped-B/op")
			if n != nil {
				b.ReportMetric(float64(peakRSS(b, n.Cmd.Process.Pid)), "node-peak-RSS-B")
			}
			// The whole test process's, corpus included: run one case per
			// process (-bench 'RealmixRemote/local=2$') to compare them.
			b.ReportMetric(float64(peakRSS(b, os.Getpid())), "writer-peak-RSS-B")
		})
	}
}

// shippedBytes sums the bytes of installed segments, from the writer's logs.
type shippedBytes struct {
	mu sync.Mutex
	n  int64
}

func (c *shippedBytes) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (c *shippedBytes) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "segment installed" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "bytes" {
				c.mu.Lock()
				c.n += a.Value.Int64()
				c.mu.Unlock()
			}
			return true
		})
	}
	return nil
}
func (c *shippedBytes) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *shippedBytes) WithGroup(string) slog.Handler      { return c }

func (c *shippedBytes) total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// peakRSS reads a process's peak resident set (Linux), 0 elsewhere.
func peakRSS(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
