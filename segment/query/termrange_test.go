package query

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// numDoc is a document of the indexed-numbers test: each value may be
// missing.
type numDoc struct {
	id         string
	i          int64
	u          uint64
	f          float64
	hasI, hasU bool
	hasF       bool
	tag        string
}

// TestIndexedNumericRangesAndExists checks ranges on numeric fields that
// are indexed but not fast (run over the term dictionary) and Exists on
// every kind of field, parsed from query strings, against brute force on
// real segments.
func TestIndexedNumericRangesAndExists(t *testing.T) {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "i", Type: segment.TypeI64, Indexed: true},
		segment.Field{Name: "u", Type: segment.TypeU64, Indexed: true},
		segment.Field{Name: "f", Type: segment.TypeF64, Indexed: true},
		segment.Field{Name: "tag", Type: segment.TypeKeyword, Indexed: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(5))
	dir := storage.NewMem()
	var docs []numDoc
	var readers []*segment.Reader
	for seg := 0; seg < 3; seg++ {
		b := segment.NewBuilder(s, nil)
		for j := 0; j < 150; j++ {
			d := numDoc{id: fmt.Sprintf("d%d", len(docs)), i: int64(r.Intn(41) - 20), u: uint64(r.Intn(30)),
				f: float64(r.Intn(21)-10) / 4, hasI: r.Intn(5) > 0, hasU: r.Intn(5) > 0, hasF: r.Intn(5) > 0}
			if r.Intn(3) == 0 {
				d.tag = []string{"red", "green", "blue"}[r.Intn(3)]
			}
			doc := (&segment.Document{}).AddString("id", d.id)
			if d.hasI {
				doc.AddI64("i", d.i)
			}
			if d.hasU {
				doc.AddU64("u", d.u)
			}
			if d.hasF {
				doc.AddF64("f", d.f)
			}
			if d.tag != "" {
				doc.AddString("tag", d.tag)
			}
			if err := b.Add(doc); err != nil {
				t.Fatal(err)
			}
			docs = append(docs, d)
		}
		readers = append(readers, buildAndOpen(t, dir, s, b, seg+1))
	}
	searcher := NewSearcher(readers, s, nil)
	bound := func(inc bool, v string) (string, string) {
		if inc {
			return "[" + v, v + "]"
		}
		return "{" + v, v + "}"
	}
	check := func(in string, want func(d numDoc) bool) {
		t.Helper()
		checkAgainst(t, searcher, in, docs, func(d numDoc) string { return d.id }, want)
	}
	for n := 0; n < 60; n++ {
		loInc, hiInc := r.Intn(2) == 0, r.Intn(2) == 0
		lo, hi := r.Intn(41)-20, r.Intn(41)-20
		l, _ := bound(loInc, fmt.Sprint(lo))
		_, h := bound(hiInc, fmt.Sprint(hi))
		in := func(v float64, has bool, lo, hi float64) bool {
			return has && (v > lo || loInc && v == lo) && (v < hi || hiInc && v == hi)
		}
		check(fmt.Sprintf("i:%s TO %s", l, h), func(d numDoc) bool { return in(float64(d.i), d.hasI, float64(lo), float64(hi)) })
		check(fmt.Sprintf("u:%s TO %s", l, h), func(d numDoc) bool { return in(float64(d.u), d.hasU, float64(lo), float64(hi)) })
		flo, fhi := float64(lo)/4, float64(hi)/4
		l, _ = bound(loInc, fmt.Sprint(flo))
		_, h = bound(hiInc, fmt.Sprint(fhi))
		check(fmt.Sprintf("f:%s TO %s", l, h), func(d numDoc) bool { return in(d.f, d.hasF, flo, fhi) })
		check(fmt.Sprintf("i:%d", lo), func(d numDoc) bool { return d.hasI && d.i == int64(lo) })
		check(fmt.Sprintf("f:>=%v", flo), func(d numDoc) bool { return in(d.f, d.hasF, flo, math.Inf(1)) || d.hasF && d.f == flo })
	}
	check("i:[* TO *]", func(d numDoc) bool { return d.hasI })
	check("_exists_:i", func(d numDoc) bool { return d.hasI })
	check("_exists_:u", func(d numDoc) bool { return d.hasU })
	check("_exists_:f", func(d numDoc) bool { return d.hasF })
	check("_exists_:tag", func(d numDoc) bool { return d.tag != "" })
	check("tag:*", func(d numDoc) bool { return d.tag != "" })
	check("tag:r*d", func(d numDoc) bool { return d.tag == "red" })
	check("tag:/g.*|b.*/", func(d numDoc) bool { return d.tag == "green" || d.tag == "blue" })
	check("tag:gren~1", func(d numDoc) bool { return d.tag == "green" })
	check("tag:bleu~1", func(d numDoc) bool { return d.tag == "blue" })
	check("u:[5 TO 3]", func(numDoc) bool { return false })
}

// buildAndOpen writes b as the segment numbered n in dir and opens it.
func buildAndOpen(t *testing.T, dir storage.Directory, s *segment.Schema, b *segment.Builder, n int) *segment.Reader {
	t.Helper()
	id := segment.ID{15: byte(n)}
	if _, err := b.Build(dir, id); err != nil {
		t.Fatal(err)
	}
	rd, err := segment.Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// searchIDs runs the query in (default field id) over searcher for its k
// best hits and returns it with their ids, sorted.
func searchIDs(t *testing.T, searcher *Searcher, in string, k int) (Query, []string) {
	t.Helper()
	q, err := searcher.Parse(in, []string{"id"})
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	hits, err := searcher.Search(context.Background(), q, k)
	if err != nil {
		t.Fatalf("Search(%s): %v", q, err)
	}
	var ids []string
	for _, h := range hits {
		doc, err := searcher.Document(h)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := doc.Get("id")
		ids = append(ids, v.Str)
	}
	slices.Sort(ids)
	return q, ids
}

// checkAgainst searches in and fails t unless it finds exactly the ids of
// the docs that want accepts (by brute force).
func checkAgainst[D any](t *testing.T, searcher *Searcher, in string, docs []D, id func(D) string, want func(D) bool) {
	t.Helper()
	q, got := searchIDs(t, searcher, in, len(docs)+1)
	var exp []string
	for _, d := range docs {
		if want(d) {
			exp = append(exp, id(d))
		}
	}
	slices.Sort(exp)
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("%q (%s): got %d docs %v\nbrute force %d docs %v", in, q, len(got), got, len(exp), exp)
	}
}
