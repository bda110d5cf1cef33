package query

import (
	"fmt"
	"sort"
	"strings"

	"github.com/blevesearch/vellum"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// This file holds an in-memory segmentSource, written as plainly as
// possible, so the query algorithms can be tested on their own (with tiny
// blocks, to exercise block-max skipping hard), and the test corpus.

// tdoc is one test document.
type tdoc struct {
	id      string
	title   string
	body    string
	year    uint64
	hasYear bool
	price   float64
	deleted bool
}

// tok is one analysed token.
type tok struct {
	term string
	pos  int
}

func analyze(tk analysis.Tokenizer, text string) []tok {
	var out []tok
	tk.Tokenize(text, func(t analysis.Token) { out = append(out, tok{string(t.Term), t.Position}) })
	return out
}

// testSchema is the schema every engine test uses: title with positions,
// body without, fast numbers.
func testSchema() *segment.Schema {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true},
		segment.Field{Name: "year", Type: segment.TypeU64, Fast: true, Stored: true},
		segment.Field{Name: "price", Type: segment.TypeF64, Fast: true},
	)
	if err != nil {
		panic(err)
	}
	return s
}

var textFields = []string{"title", "body"}

func (d *tdoc) text(field string) string {
	switch field {
	case "title":
		return d.title
	case "body":
		return d.body
	case "id":
		return d.id
	}
	return ""
}

type memPosting struct {
	doc  uint32
	freq uint32
	pos  []uint32
}

type memSegment struct {
	blockSize int
	docs      []tdoc
	postings  map[string]map[string][]memPosting // field -> term -> postings
	norms     map[string][]uint32
}

func newMemSegment(docs []tdoc, tk analysis.Tokenizer, blockSize int) *memSegment {
	m := &memSegment{blockSize: blockSize, docs: docs,
		postings: map[string]map[string][]memPosting{}, norms: map[string][]uint32{}}
	for _, f := range append([]string{"id"}, textFields...) {
		m.postings[f] = map[string][]memPosting{}
		m.norms[f] = make([]uint32, len(docs))
		for i := range docs {
			var toks []tok
			if f == "id" {
				toks = []tok{{docs[i].id, 0}}
			} else {
				toks = analyze(tk, docs[i].text(f))
			}
			m.norms[f][i] = uint32(len(toks))
			byTerm := map[string][]uint32{}
			for _, t := range toks {
				byTerm[t.term] = append(byTerm[t.term], uint32(t.pos))
			}
			for term, ps := range byTerm {
				m.postings[f][term] = append(m.postings[f][term], memPosting{doc: uint32(i), freq: uint32(len(ps)), pos: ps})
			}
		}
	}
	return m
}

func (m *memSegment) NumDocs() uint32                     { return uint32(len(m.docs)) }
func (m *memSegment) IsDeleted(doc uint32) bool           { return m.docs[doc].deleted }
func (m *memSegment) FieldNorm(f string, d uint32) uint32 { return m.norms[f][d] }
func (m *memSegment) FieldStats(field string) (uint64, uint64) {
	var dc, sum uint64
	for _, n := range m.norms[field] {
		if n > 0 {
			dc++
			sum += uint64(n)
		}
	}
	return dc, sum
}
func (m *memSegment) DocFreq(field string, term []byte) (uint32, error) {
	return uint32(len(m.postings[field][string(term)])), nil
}
func (m *memSegment) Postings(field string, term []byte) (postingsIterator, error) {
	ps := m.postings[field][string(term)]
	if len(ps) == 0 {
		return nil, nil
	}
	return &memIter{m: m, field: field, ps: ps}, nil
}
func (m *memSegment) Terms(field string, prefix []byte, fn func([]byte) bool) error {
	var terms []string
	for t := range m.postings[field] {
		if strings.HasPrefix(t, string(prefix)) {
			terms = append(terms, t)
		}
	}
	sort.Strings(terms)
	for _, t := range terms {
		if !fn([]byte(t)) {
			break
		}
	}
	return nil
}
func (m *memSegment) TermsMatching(field string, a vellum.Automaton, start, end []byte, fn func([]byte) bool) error {
	var terms []string
	for t := range m.postings[field] {
		if (start == nil || t >= string(start)) && (end == nil || t < string(end)) && accepts(a, t) {
			terms = append(terms, t)
		}
	}
	sort.Strings(terms)
	for _, t := range terms {
		if !fn([]byte(t)) {
			break
		}
	}
	return nil
}

// accepts runs a over t. (vellum.AutomatonContains mistakes an automaton
// state numbered 1 for its "no state" and cannot be used.)
func accepts(a vellum.Automaton, t string) bool {
	s := a.Start()
	for i := 0; i < len(t); i++ {
		if !a.CanMatch(s) {
			return false
		}
		s = a.Accept(s, t[i])
	}
	return a.IsMatch(s)
}

func (m *memSegment) Fast(field string) (fastColumn, error) {
	if field != "year" && field != "price" {
		return nil, fmt.Errorf("no fast column %q", field)
	}
	return memColumn{m: m, field: field}, nil
}

type memColumn struct {
	m     *memSegment
	field string
}

func (c memColumn) U64(d uint32) (uint64, bool) {
	return c.m.docs[d].year, c.field == "year" && c.m.docs[d].hasYear
}
func (c memColumn) I64(d uint32) (int64, bool) { return 0, false }
func (c memColumn) F64(d uint32) (float64, bool) {
	return c.m.docs[d].price, c.field == "price"
}

type memIter struct {
	m     *memSegment
	field string
	ps    []memPosting
	i     int
}

func (it *memIter) Doc() uint32 {
	if it.i >= len(it.ps) {
		return noMoreDocs
	}
	return it.ps[it.i].doc
}
func (it *memIter) Next() uint32 { it.i++; return it.Doc() }
func (it *memIter) Advance(target uint32) uint32 {
	for it.i < len(it.ps) && it.ps[it.i].doc < target {
		it.i++
	}
	return it.Doc()
}
func (it *memIter) Freq() uint32 { return it.ps[it.i].freq }
func (it *memIter) Positions(buf []uint32) []uint32 {
	return append(buf[:0], it.ps[it.i].pos...)
}
func (it *memIter) BlockMax(target uint32) (uint32, uint32, uint32, bool) {
	i := sort.Search(len(it.ps), func(i int) bool { return it.ps[i].doc >= target })
	if i == len(it.ps) {
		return 0, 0, 0, false
	}
	start := i / it.m.blockSize * it.m.blockSize
	end := min(start+it.m.blockSize, len(it.ps))
	var maxFreq uint32
	minNorm := ^uint32(0)
	for _, p := range it.ps[start:end] {
		maxFreq = max(maxFreq, p.freq)
		minNorm = min(minNorm, it.m.norms[it.field][p.doc])
	}
	return it.ps[end-1].doc, maxFreq, minNorm, true
}

// memSearcher builds a Searcher over in-memory segments.
func memSearcher(segs [][]tdoc, tk analysis.Tokenizer, blockSize int) *Searcher {
	var srcs []segmentSource
	var ids []segment.ID
	for i, docs := range segs {
		srcs = append(srcs, newMemSegment(docs, tk, blockSize))
		var id segment.ID
		id[15] = byte(i + 1)
		ids = append(ids, id)
	}
	doc := func(seg int, d uint32) (*segment.Document, error) {
		x := segs[seg][d]
		return (&segment.Document{}).AddString("id", x.id).AddString("title", x.title), nil
	}
	return newSearcher(srcs, ids, testSchema(), doc, nil)
}
