package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hermes-search/hermes-go/cmd/hermes/internal/jsonl"
)

// BenchmarkIndexInput is what hermes index spends outside its workers, on
// all of realmix: "read" gunzips the input and splits it into batches of
// lines (feed); "decode" also decodes them into documents on the decoding
// goroutines and hands them over in input order, as the indexing loop
// takes them (decode), with no Writer. cpu-ns/doc is the process's CPU time
// (every goroutine's, the collector's included) per document; gc/op the
// collections it caused.
func BenchmarkIndexInput(b *testing.B) {
	path := realmixFile(b)
	schema := benchSchema(false)
	for _, stage := range []string{"read", "decode"} {
		b.Run(stage, func(b *testing.B) {
			b.ReportAllocs()
			var docs int
			var cpu float64
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			gcs := ms.NumGC
			for b.Loop() {
				in, err := jsonl.Open(path, nil)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				cpu0 := processCPUSeconds()
				lines := feed(ctx, in, nil)
				if stage == "read" {
					for l := range lines {
						docs += l.len()
						putLineBuf(l.data)
					}
				} else {
					for d := range decode(ctx, lines, schema, 0) {
						<-d.done
						for _, err := range d.errs {
							if err != nil {
								b.Fatal(err)
							}
						}
						docs += len(d.docs)
						d.release()
					}
				}
				cpu += processCPUSeconds() - cpu0
				cancel()
				in.Close()
			}
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
			b.ReportMetric(cpu*1e9/float64(docs), "cpu-ns/doc")
			b.ReportMetric(float64(ms.NumGC-gcs)/float64(b.N), "gc/op")
		})
	}
}

// realmixFile finds shared/corpus/realmix.jsonl.gz in a parent of the
// working directory, or skips the benchmark.
func realmixFile(b *testing.B) string {
	dir, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "corpus", "realmix.jsonl.gz")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(dir) == dir {
			b.Skip("benchmark corpus shared/corpus/realmix.jsonl.gz not found in a parent directory")
		}
		dir = filepath.Dir(dir)
	}
}
