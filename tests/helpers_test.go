package tests

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/query"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// seeds returns the seeds chaos tests run with: HERMES_SEEDS="1,2,3" or a
// fixed default, so a failure is reproduced by its seed.
func seeds(t *testing.T) []uint64 {
	env := os.Getenv("HERMES_SEEDS")
	if env == "" {
		return []uint64{1, 2, 3}
	}
	var out []uint64
	for _, s := range strings.Split(env, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			t.Fatalf("HERMES_SEEDS: %v", err)
		}
		out = append(out, v)
	}
	return out
}

func schema(t testing.TB, tokenizer string) *hermes.Schema {
	t.Helper()
	s, err := schemaErr(tokenizer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func schemaErr(tokenizer string) (*hermes.Schema, error) {
	return segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: tokenizer},
		segment.Field{Name: "n", Type: segment.TypeU64, Indexed: true, Stored: true, Fast: true},
	)
}

var vocabulary = strings.Fields(`time person year way day thing man world life hand part child eye woman
place work week case point government company number group problem fact be have do say get make go
know take see come think look want give use find tell ask seem feel try leave call good new first last
long great little own other old right big high different small large next early young important few`)

// text makes a seeded document body of a few dozen Zipf-like words.
func text(rnd *rand.Rand) string {
	n := 5 + rnd.IntN(40)
	var b strings.Builder
	for i := 0; i < n; i++ {
		r := rnd.Float64()
		b.WriteString(vocabulary[int(r*r*float64(len(vocabulary)))])
		b.WriteByte(' ')
	}
	return b.String()
}

func newDoc(id string, n uint64, body string) *hermes.Document {
	return new(hermes.Document).AddString("id", id).AddString("body", body).AddU64("n", n)
}

// chaos is a tokenizer that panics on documents holding "POISON" and, with
// probability p, at random (seeded).
type chaos struct {
	inner analysis.Tokenizer
	mu    sync.Mutex
	rnd   *rand.Rand
	p     float64
}

func newChaos(t testing.TB, seed uint64, p float64) *chaos {
	inner, err := analysis.NewRegistry().Get("simple")
	if err != nil {
		t.Fatal(err)
	}
	return &chaos{inner: inner, rnd: rand.New(rand.NewPCG(seed, 99)), p: p}
}

func (c *chaos) Tokenize(text string, emit func(analysis.Token)) {
	if strings.Contains(text, "POISON") {
		panic("chaos: poison document")
	}
	c.mu.Lock()
	boom := c.rnd.Float64() < c.p
	c.mu.Unlock()
	if boom {
		panic("chaos: random failure")
	}
	c.inner.Tokenize(text, emit)
}

// logger logs to stderr at debug level when HERMES_DEBUG is set.
func logger() *slog.Logger {
	if os.Getenv("HERMES_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func registry(t testing.TB, c *chaos) *analysis.Registry {
	reg := analysis.NewRegistry()
	if err := reg.Register("chaos", c); err != nil {
		t.Fatal(err)
	}
	return reg
}

// allIDs lists every id in the reader, with how often it occurs.
func allIDs(t testing.TB, r *hermes.Reader) map[string]int {
	t.Helper()
	hits, err := r.SearchQuery(context.Background(), query.All{}, r.NumDocs()+10)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]int, len(hits))
	for _, h := range hits {
		if h.Key.Field != "id" {
			t.Fatalf("hit %s/%d has no primary key", h.Segment, h.DocID)
		}
		out[h.Key.Str]++
	}
	return out
}

func readerIDs(t testing.TB, w *hermes.Writer) map[string]int {
	t.Helper()
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return allIDs(t, r)
}

// checkExactly fails unless the index holds exactly want, each once.
func checkExactly(t testing.TB, got map[string]int, want map[string]bool, when string) {
	t.Helper()
	for id, n := range got {
		if n != 1 {
			t.Fatalf("%s: %s indexed %d times", when, id, n)
		}
		if !want[id] {
			t.Fatalf("%s: %s is in the index but was never committed", when, id)
		}
	}
	if len(got) != len(want) {
		missing := []string{}
		for id := range want {
			if got[id] == 0 && len(missing) < 5 {
				missing = append(missing, id)
			}
		}
		t.Fatalf("%s: index holds %d documents, want %d (missing e.g. %v)", when, len(got), len(want), missing)
	}
}

func add(t testing.TB, w *hermes.Writer, d *hermes.Document) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.AddDocumentWait(ctx, d); err != nil {
		t.Fatal(err)
	}
}

func id(prefix string, i int) string { return fmt.Sprintf("%s-%06d", prefix, i) }
