package analysis

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// corpusPath is the project's shared benchmark corpus (see DESIGN.md).
const corpusPath = "../../../shared/corpus/realmix.jsonl.gz"

// benchBytes is how much document text the benchmarks read from the corpus:
// the first ~20 MB, a mix of dictionary entries, glosses and technical text.
const benchBytes = 20 << 20

// corpusCache keeps the largest prefix read so far.
var corpusCache struct {
	mu   sync.Mutex
	docs []string
	size int64
	full bool // the whole file was read
}

// loadCorpus returns the "text" fields of the first documents of the corpus,
// about limit bytes of them. It skips the caller if the corpus is absent.
func loadCorpus(tb testing.TB, limit int64) ([]string, int64) {
	tb.Helper()
	c := &corpusCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size < limit && !c.full {
		docs, size, full, err := readCorpus(limit)
		if os.IsNotExist(err) {
			tb.Skipf("corpus not available: %v", err)
		}
		if err != nil {
			tb.Fatalf("reading %s: %v", corpusPath, err)
		}
		c.docs, c.size, c.full = docs, size, full
	}
	docs, size := c.docs, int64(0)
	for i, d := range docs {
		if size >= limit {
			docs = docs[:i]
			break
		}
		size += int64(len(d))
	}
	return docs, size
}

func readCorpus(limit int64) (docs []string, size int64, full bool, err error) {
	f, err := os.Open(corpusPath)
	if err != nil {
		return nil, 0, false, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, 0, false, err
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for size < limit {
		if !sc.Scan() {
			return docs, size, true, sc.Err()
		}
		var d struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, 0, false, fmt.Errorf("line %d: %w", len(docs)+1, err)
		}
		docs = append(docs, d.Text)
		size += int64(len(d.Text))
	}
	return docs, size, false, nil
}

func benchTokenizer(b *testing.B, name string) {
	docs, size := loadCorpus(b, benchBytes)
	tok, err := NewRegistry().Get(name)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var tokens int
	count := func(Token) { tokens++ }
	b.ResetTimer()
	for b.Loop() {
		for _, d := range docs {
			tok.Tokenize(d, count)
		}
	}
	b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
}

func BenchmarkSimple(b *testing.B)      { benchTokenizer(b, "simple") }
func BenchmarkWhitespace(b *testing.B)  { benchTokenizer(b, "whitespace") }
func BenchmarkRawCI(b *testing.B)       { benchTokenizer(b, "raw_ci") }
func BenchmarkEnglishStop(b *testing.B) { benchTokenizer(b, "en_stop") }
func BenchmarkEnglishStem(b *testing.B) { benchTokenizer(b, "en_stem") }
func BenchmarkEnglish(b *testing.B)     { benchTokenizer(b, "en") }

// multilingual is text where most words are not ASCII, so SimpleTokenizer
// spends its time in the general UAX #29 segmenter rather than the ASCII
// fast path.
const multilingual = "Привет, мир! Москва — столица России; в ней живут 13 миллионов человек. " +
	"Le café naïf de la rue Saint-Étienne ouvre à 7 h. Größere Häuser kosten mehr Geld. " +
	"東京タワーは東京都港区にある電波塔です。 Ελληνικά γράμματα και αριθμοί 3,14. "

func BenchmarkSimpleMultilingual(b *testing.B) {
	text := strings.Repeat(multilingual, (1<<20)/len(multilingual))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var tokens int
	for b.Loop() {
		SimpleTokenizer{}.Tokenize(text, func(Token) { tokens++ })
	}
	b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
}
