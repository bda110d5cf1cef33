package query

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// These tests run the engine over real segments built by segment.Builder
// from the first documents of the shared realmix corpus.

const realmixPath = "/work/shared/corpus/realmix.jsonl.gz"

// loadRealmix reads the first n documents of the corpus, adding seeded
// year and price values and marking about 7% of them deleted. Without the corpus it falls back to generated
// Zipfian text, so the tests still run (and say so).
func loadRealmix(tb testing.TB, n int, seed int64) []tdoc {
	tb.Helper()
	r := rand.New(rand.NewSource(seed))
	f, err := os.Open(realmixPath)
	if err != nil {
		tb.Logf("corpus unavailable (%v): using generated text", err)
		return zipfCorpus(seed, []int{n})[0]
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var docs []tdoc
	for len(docs) < n && sc.Scan() {
		var j struct{ ID, Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			tb.Fatalf("%s line %d: %v", realmixPath, len(docs)+1, err)
		}
		docs = append(docs, tdoc{id: j.ID, title: j.Title, body: j.Text,
			year: uint64(1900 + r.Intn(125)), hasYear: r.Intn(10) > 0, price: float64(r.Intn(100000)) / 100,
			deleted: r.Intn(14) == 0})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return docs
}

// split cuts docs into segments of the given sizes (the last takes the rest).
func split(docs []tdoc, sizes ...int) [][]tdoc {
	var out [][]tdoc
	for _, n := range sizes {
		n = min(n, len(docs))
		out = append(out, docs[:n])
		docs = docs[n:]
	}
	return append(out, docs)
}

func tokenizers(tb testing.TB, s *segment.Schema) map[string]analysis.Tokenizer {
	tb.Helper()
	toks, err := segment.ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return toks
}

// buildReal writes each group of docs as a segment and opens them, with
// the docs marked deleted deleted (Reader.WithDeletes).
func buildReal(tb testing.TB, segs [][]tdoc, s *segment.Schema, toks map[string]analysis.Tokenizer) []*segment.Reader {
	tb.Helper()
	dir := storage.NewMem()
	var readers []*segment.Reader
	for i, docs := range segs {
		b := segment.NewBuilder(s, toks)
		for _, d := range docs {
			doc := (&segment.Document{}).AddString("id", d.id).AddString("body", d.body).AddF64("price", d.price)
			if d.title != "" {
				doc.AddString("title", d.title)
			}
			if d.hasYear {
				doc.AddU64("year", d.year)
			}
			if err := b.Add(doc); err != nil {
				tb.Fatalf("segment %d: add %s: %v", i, d.id, err)
			}
		}
		id := segment.ID{15: byte(i + 1)}
		if _, err := b.Build(dir, id); err != nil {
			tb.Fatalf("segment %d: build: %v", i, err)
		}
		r, err := segment.Open(dir, id, s)
		if err != nil {
			tb.Fatalf("segment %d: open: %v", i, err)
		}
		deleted := roaring.New()
		for j, d := range docs {
			if d.deleted {
				deleted.Add(uint32(j))
			}
		}
		if !deleted.IsEmpty() {
			r = r.WithDeletes(deleted)
		}
		readers = append(readers, r)
	}
	return readers
}

type realFixture struct {
	s *Searcher
	m *model
}

var (
	realOnce sync.Once
	realFix  realFixture
)

// realSearcher builds (once per test binary) five segments, one of them
// empty and one holding a single document, from the first 3,000 corpus docs.
func realSearcher(t *testing.T) realFixture {
	realOnce.Do(func() {
		docs := loadRealmix(t, 3000, 7)
		segs := split(docs, 1100, 1, 0, 1500)
		schema := testSchema()
		toks := tokenizers(t, schema)
		readers := buildReal(t, segs, schema, toks)
		realFix = realFixture{
			s: NewSearcher(readers, schema, toks),
			m: newModel(segs, toks["title"], segment.QuantizeNorm),
		}
	})
	if realFix.s == nil {
		t.Fatal("real fixture failed to build")
	}
	return realFix
}

func TestRealDisjunctionsPrunedEqualsExhaustiveAndModel(t *testing.T) {
	f := realSearcher(t)
	g := &queryGen{r: rand.New(rand.NewSource(11)), m: f.m}
	for i := 0; i < 150; i++ {
		q := g.disjunction()
		k := []int{1, 5, 10, 100}[i%4]
		hits := searchBoth(t, f.s, q, k)
		checkAgainstModel(t, f.m, q, k, hits)
	}
}

func TestRealBooleansMatchModel(t *testing.T) {
	f := realSearcher(t)
	checkMixedQueries(t, f.s, f.m, 12, 150)
}

func TestRealParsedQueries(t *testing.T) {
	f := realSearcher(t)
	g := &queryGen{r: rand.New(rand.NewSource(13)), m: f.m}
	for i := 0; i < 100; i++ {
		// Build a query string from corpus words and operators.
		in := ""
		for j := 0; j < 1+g.r.Intn(4); j++ {
			w := g.word("body")
			switch g.r.Intn(8) {
			case 0:
				w = "+" + w
			case 1:
				w = "-" + w
			case 2:
				w = "title:" + g.word("title")
			case 3:
				w = fmt.Sprintf("year:[%d TO %d]", 1900+g.r.Intn(100), 1950+g.r.Intn(100))
			}
			in += w + " "
		}
		q, err := f.s.Parse(in, []string{"title", "body"})
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		hits := searchBoth(t, f.s, q, 10)
		checkAgainstModel(t, f.m, q, 10, hits)
	}
}

func TestRealDocument(t *testing.T) {
	f := realSearcher(t)
	want := f.m.segs[3][17]
	hits, err := f.s.Search(context.Background(), Term{Field: "id", Term: want.id}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Segment != 3 || hits[0].Doc != 17 {
		t.Fatalf("id lookup %q: %+v, want segment 3 doc 17", want.id, hits)
	}
	d, err := f.s.Document(hits[0])
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Get("title"); v.Str != want.title {
		t.Errorf("Document title %q, want %q", v.Str, want.title)
	}
}

func TestRealConcurrentSearches(t *testing.T) {
	// A Searcher is shared by goroutines: each must see the results a lone
	// search gets.
	f := realSearcher(t)
	g := &queryGen{r: rand.New(rand.NewSource(14)), m: f.m}
	ctx := context.Background()
	var queries []Query
	var want [][]Hit
	for i := 0; i < 16; i++ {
		q := g.disjunction()
		if i%2 == 1 {
			q = g.boolean(1)
		}
		hits, err := f.s.Search(ctx, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		queries, want = append(queries, q), append(want, hits)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range queries {
				j := (i + w) % len(queries)
				hits, err := f.s.Search(ctx, queries[j], 10)
				if err == nil && fmt.Sprint(hits) != fmt.Sprint(want[j]) {
					err = fmt.Errorf("%s: concurrent search got %v, alone %v", queries[j], hits, want[j])
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
