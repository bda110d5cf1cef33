package segment

import (
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/segment/analysis"
)

// BenchmarkBuilderAdd measures a worker's in-memory indexing alone: Add of
// the BenchmarkBuild documents into a fresh builder, without Build. Its
// "tokenize" sub-benchmark runs the same tokenizer over the same text with a
// callback that only counts, the floor that Add's own work comes on top of.
// Metrics: MB/s of title+text, and wall and process CPU ns per token (the
// CPU figure, which counts the collector's work too, is the one to compare
// on a shared machine).
func BenchmarkBuilderAdd(b *testing.B) {
	recs := benchRecords(b)
	s := benchSchema(b)
	docs, size := benchDocuments(b)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	tokens := 0
	count := func(analysis.Token) { tokens++ }
	for _, r := range recs {
		toks["title"].Tokenize(r[1], count)
		toks["text"].Tokenize(r[2], count)
	}
	perToken := func(b *testing.B, cpu time.Duration) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens), "ns/token")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*tokens), "CPU-ns/token")
	}
	// addAll adds every document to a builder of schema s, once a loop.
	addAll := func(s *Schema) func(*testing.B) {
		return func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				bl := NewBuilder(s, toks)
				for _, d := range docs {
					if err := bl.Add(d); err != nil {
						b.Fatal(err)
					}
				}
				bl.release()
			}
			perToken(b, processCPU()-cpu0)
		}
	}
	b.Run("add", addAll(s))
	// The indexing path alone: the same fields indexed and not stored,
	// without and with positions on the text.
	for _, positions := range []bool{false, true} {
		name := "index"
		if positions {
			name = "index-positions"
		}
		s, err := NewSchema(
			Field{Name: "id", Type: TypeKeyword, Indexed: true, Primary: true},
			Field{Name: "title", Type: TypeText, Indexed: true},
			Field{Name: "text", Type: TypeText, Indexed: true, Positions: positions},
		)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, addAll(s))
	}
	b.Run("tokenize", func(b *testing.B) {
		b.SetBytes(size)
		n := 0
		count := func(analysis.Token) { n++ }
		cpu0 := processCPU()
		for b.Loop() {
			for _, r := range recs {
				toks["title"].Tokenize(r[1], count)
				toks["text"].Tokenize(r[2], count)
			}
		}
		perToken(b, processCPU()-cpu0)
	})
}
