package segment

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// corpusSchema is the schema the tests build real text with: every field
// type and option appears.
func corpusSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := NewSchema(
		Field{Name: "id", Type: TypeKeyword, Indexed: true, Stored: true, Primary: true},
		Field{Name: "title", Type: TypeText, Indexed: true, Stored: true, Positions: true},
		Field{Name: "text", Type: TypeText, Indexed: true, Stored: true, Positions: true},
		Field{Name: "source", Type: TypeKeyword, Indexed: true, Fast: true},
		Field{Name: "tag", Type: TypeKeyword, Indexed: true, Stored: true, Fast: true},
		Field{Name: "len", Type: TypeU64, Indexed: true, Stored: true, Fast: true},
		Field{Name: "delta", Type: TypeI64, Fast: true},
		Field{Name: "score", Type: TypeF64, Indexed: true, Stored: true, Fast: true},
		Field{Name: "raw", Type: TypeBytes, Stored: true},
		Field{Name: "when", Type: TypeDate, Indexed: true, Stored: true, Fast: true},
		Field{Name: "flag", Type: TypeBool, Indexed: true, Stored: true, Fast: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readRealmix reads up to n documents of a realmix JSONL file.
func readRealmix(t testing.TB, path string, n int) [][3]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	var out [][3]string
	for len(out) < n && sc.Scan() {
		var d struct{ ID, Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, [3]string{d.ID, d.Title, d.Text})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// corpusDocs turns realmix records into documents using every field kind,
// with seeded extras: some fields missing, some repeated.
func corpusDocs(recs [][3]string, seed uint64) []*Document {
	rng := rand.New(rand.NewPCG(seed, 1))
	docs := make([]*Document, 0, len(recs))
	for i, r := range recs {
		d := new(Document).AddString("id", r[0]).AddString("title", r[1]).AddString("text", r[2])
		if src, _, ok := strings.Cut(r[0], ":"); ok {
			d.AddString("source", src)
		}
		for j := rng.IntN(4); j > 0; j-- {
			d.AddString("tag", fmt.Sprintf("t%d", rng.IntN(20)))
		}
		if rng.IntN(10) == 0 {
			d.AddString("title", "second title "+r[1]) // multi-valued text
		}
		d.AddU64("len", uint64(len(r[2])))
		if i%3 != 0 {
			d.AddI64("delta", int64(rng.IntN(2000))-1000)
		}
		if rng.IntN(5) != 0 {
			d.AddF64("score", rng.NormFloat64()*100)
		}
		if rng.IntN(4) == 0 {
			b := make([]byte, rng.IntN(20))
			for k := range b {
				b[k] = byte(rng.Uint32())
			}
			d.AddBytes("raw", b)
		}
		if rng.IntN(3) != 0 {
			d.AddI64("when", 1_700_000_000_000+rng.Int64N(1<<36)) // epoch millis, 2023-2025
		}
		if rng.IntN(4) != 0 {
			d.AddBool("flag", rng.IntN(2) == 0)
		}
		docs = append(docs, d)
	}
	return docs
}

// generatedDocs makes seeded synthetic documents over a Zipf vocabulary,
// so some terms have thousands of postings (many blocks) and large freqs.
func generatedDocs(n int, seed uint64) []*Document {
	rng := rand.New(rand.NewPCG(seed, 2))
	zipf := rand.NewZipf(rng, 1.1, 2, 5000)
	docs := make([]*Document, n)
	for i := range docs {
		var sb strings.Builder
		words := rng.IntN(300)
		if rng.IntN(50) == 0 {
			words = 3000 // long documents: norms past the exact range
		}
		for w := 0; w < words; w++ {
			fmt.Fprintf(&sb, "w%d ", zipf.Uint64())
		}
		d := new(Document).AddString("id", fmt.Sprintf("g%06d", i)).AddString("text", sb.String())
		if rng.IntN(3) == 0 {
			d.AddString("title", fmt.Sprintf("w%d w%d", rng.IntN(5), rng.IntN(5)))
		}
		d.AddU64("len", rng.Uint64()>>uint(rng.IntN(64)))
		d.AddI64("delta", rng.Int64()-math.MaxInt64/2)
		docs[i] = d
	}
	return docs
}

// model is a brute-force inverted index built straight from documents.
type model struct {
	numDocs  int
	postings map[string]map[string][]mposting // field -> term -> postings
	norms    map[string][]uint32              // field -> doc -> token count
	stats    map[string]FieldStats
}

type mposting struct {
	doc  uint32
	freq uint32
	pos  []uint32
}

func buildModel(t testing.TB, s *Schema, docs []*Document) *model {
	t.Helper()
	reg := analysis.NewRegistry()
	m := &model{numDocs: len(docs), postings: map[string]map[string][]mposting{}, norms: map[string][]uint32{}, stats: map[string]FieldStats{}}
	for _, f := range s.Fields() {
		if f.Indexed {
			m.postings[f.Name] = map[string][]mposting{}
		}
		if f.Indexed && f.Type == TypeText {
			m.norms[f.Name] = make([]uint32, len(docs))
		}
	}
	for di, d := range docs {
		doc := uint32(di)
		type occ struct {
			freq uint32
			pos  []uint32
		}
		perField := map[string]map[string]*occ{}
		tokens := map[string]uint32{}
		has := map[string]bool{}
		nextBase := map[string]uint32{}
		for _, v := range d.Values {
			f, _ := s.Field(v.Field)
			has[f.Name] = true
			if !f.Indexed {
				continue
			}
			if perField[f.Name] == nil {
				perField[f.Name] = map[string]*occ{}
			}
			add := func(term string, pos uint32) {
				o := perField[f.Name][term]
				if o == nil {
					o = &occ{}
					perField[f.Name][term] = o
				}
				o.freq++
				if f.Positions {
					o.pos = append(o.pos, pos)
				}
				tokens[f.Name]++
			}
			if f.Type == TypeText {
				tok, err := reg.Get(f.TokenizerName())
				if err != nil {
					t.Fatal(err)
				}
				base, last := nextBase[f.Name], uint32(0)
				any := false
				tok.Tokenize(v.Str, func(tk analysis.Token) {
					p := base + uint32(tk.Position)
					add(string(tk.Term), p)
					last, any = p, true
				})
				if any || base > 0 {
					nextBase[f.Name] = max(last, base) + 1 + positionGap
				}
				continue
			}
			add(string(indexedTerm(nil, &v)), 0)
		}
		for name, terms := range perField {
			for term, o := range terms {
				m.postings[name][term] = append(m.postings[name][term], mposting{doc, o.freq, o.pos})
			}
		}
		for _, f := range s.Fields() {
			st := m.stats[f.Name]
			if f.Indexed {
				if tokens[f.Name] > 0 {
					st.DocCount++
					st.SumTokens += uint64(tokens[f.Name])
				}
			} else if has[f.Name] {
				st.DocCount++
			}
			m.stats[f.Name] = st
			if norms := m.norms[f.Name]; norms != nil {
				norms[doc] = tokens[f.Name]
			}
		}
	}
	for name, terms := range m.postings {
		st := m.stats[name]
		st.Terms = uint64(len(terms))
		m.stats[name] = st
	}
	return m
}

func buildSegment(t testing.TB, s *Schema, docs []*Document, dir storage.Directory) (ID, *Meta) {
	t.Helper()
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(s, toks)
	for i, d := range docs {
		if err := s.Validate(d, 0); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		if err := b.Add(d); err != nil {
			t.Fatalf("Add doc %d: %v", i, err)
		}
	}
	if b.NumDocs() != len(docs) {
		t.Fatalf("NumDocs = %d, want %d", b.NumDocs(), len(docs))
	}
	id := NewID()
	meta, err := b.Build(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	return id, meta
}

func TestSegmentMatchesModelRealText(t *testing.T) {
	s := corpusSchema(t)
	docs := corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 1000), 7)
	checkAgainstModel(t, s, docs)
}

func TestSegmentMatchesModelGenerated(t *testing.T) {
	s := corpusSchema(t)
	docs := generatedDocs(1500, 11)
	checkAgainstModel(t, s, docs)
}

func TestEmptySegment(t *testing.T) {
	s := corpusSchema(t)
	checkAgainstModel(t, s, nil)
}

func checkAgainstModel(t *testing.T, s *Schema, docs []*Document) {
	dir := storage.NewMem()
	id, meta := buildSegment(t, s, docs, dir)
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkSegment(t, s, dir, r, meta, docs)
}

// checkSegment checks an open segment and its Meta against a brute-force
// model of docs: postings, freqs, positions, Advance and block-max bounds,
// norms, field stats, stored and fast fields.
func checkSegment(t *testing.T, s *Schema, dir storage.Directory, r *Reader, meta *Meta, docs []*Document) {
	t.Helper()
	id := meta.ID
	m := buildModel(t, s, docs)
	if r.ID() != id || meta.ID != id || r.NumDocs() != uint32(len(docs)) || meta.NumDocs != uint32(len(docs)) {
		t.Fatalf("ids/doc counts: reader %v %d, meta %v %d, want %v %d", r.ID(), r.NumDocs(), meta.ID, meta.NumDocs, id, len(docs))
	}
	if !reflect.DeepEqual(meta.Files, SegmentFiles(id)) {
		t.Fatalf("meta.Files = %v", meta.Files)
	}
	var total int64
	for _, name := range meta.Files {
		size, err := dir.FileSize(name)
		if err != nil {
			t.Fatal(err)
		}
		total += size
	}
	if total != meta.Bytes {
		t.Fatalf("meta.Bytes = %d, files hold %d", meta.Bytes, total)
	}
	for _, f := range s.Fields() {
		if got, want := r.FieldStats(f.Name), m.stats[f.Name]; got != want {
			t.Errorf("FieldStats(%s) = %+v, want %+v", f.Name, got, want)
		}
		if got, want := meta.Fields[f.Name], m.stats[f.Name]; got != want {
			t.Errorf("meta.Fields[%s] = %+v, want %+v", f.Name, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(len(docs)), 3))
	for field, terms := range m.postings {
		checkTerms(t, r, field, terms)
		for term, want := range terms {
			checkPostings(t, r, field, term, want)
			checkAdvanceAndBlockMax(t, r, field, term, want, m.norms[field], rng)
		}
		for _, absent := range []string{"\xff\xfe", "zzzzzzzzzzqq", ""} {
			if _, ok := terms[absent]; ok {
				continue
			}
			p, err := r.Postings(field, []byte(absent))
			if p != nil || err != nil {
				t.Errorf("Postings(%s, %q) of an absent term = %v, %v", field, absent, p, err)
			}
			if df, err := r.DocFreq(field, []byte(absent)); df != 0 || err != nil {
				t.Errorf("DocFreq(%s, %q) of an absent term = %d, %v", field, absent, df, err)
			}
		}
	}
	for field, norms := range m.norms {
		for doc, n := range norms {
			got := r.FieldNorm(field, uint32(doc))
			if got != QuantizeNorm(n) || (n < 40 && got != n) {
				t.Fatalf("FieldNorm(%s, %d) = %d, token count %d", field, doc, got, n)
			}
		}
	}
	checkStoredAndFast(t, s, r, docs)
}

func checkTerms(t *testing.T, r *Reader, field string, terms map[string][]mposting) {
	t.Helper()
	want := make([]string, 0, len(terms))
	for term := range terms {
		want = append(want, term)
	}
	slices.Sort(want)
	var got []string
	if err := r.Terms(field, nil, func(term []byte) bool { got = append(got, string(term)); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Terms(%s) = %d terms, want %d", field, len(got), len(want))
	}
	// Prefix iteration, and stopping early.
	for _, prefix := range []string{"a", "th", "w1", "zz", "t1", "\xff"} {
		var wantP []string
		for _, term := range want {
			if strings.HasPrefix(term, prefix) {
				wantP = append(wantP, term)
			}
		}
		var gotP []string
		if err := r.Terms(field, []byte(prefix), func(term []byte) bool { gotP = append(gotP, string(term)); return true }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotP, wantP) {
			t.Fatalf("Terms(%s, %q) = %q, want %q", field, prefix, gotP, wantP)
		}
		if len(wantP) > 2 {
			n := 0
			_ = r.Terms(field, []byte(prefix), func([]byte) bool { n++; return n < 2 })
			if n != 2 {
				t.Fatalf("Terms(%s, %q) did not stop when fn returned false (%d calls)", field, prefix, n)
			}
		}
	}
}

func checkPostings(t *testing.T, r *Reader, field, term string, want []mposting) {
	t.Helper()
	df, err := r.DocFreq(field, []byte(term))
	if err != nil || df != uint32(len(want)) {
		t.Fatalf("DocFreq(%s, %q) = %d, %v; want %d", field, term, df, err, len(want))
	}
	p, err := r.Postings(field, []byte(term))
	if err != nil || p == nil {
		t.Fatalf("Postings(%s, %q) = %v, %v", field, term, p, err)
	}
	if p.DocFreq() != uint32(len(want)) {
		t.Fatalf("Postings(%s, %q).DocFreq() = %d, want %d", field, term, p.DocFreq(), len(want))
	}
	var buf []uint32
	for i, w := range want {
		doc := p.Doc()
		if i > 0 {
			doc = p.Next()
		}
		if doc != w.doc || p.Freq() != w.freq {
			t.Fatalf("%s:%q posting %d = doc %d freq %d, want doc %d freq %d", field, term, i, doc, p.Freq(), w.doc, w.freq)
		}
		// Read positions of only some docs, so skipping over unread
		// positions is exercised too.
		if (i%3 == 0 || len(w.pos) > 0 && i%7 == 1) && len(w.pos) > 0 {
			buf = p.Positions(buf)
			if !slices.Equal(buf, w.pos) {
				t.Fatalf("%s:%q doc %d positions %v, want %v", field, term, w.doc, buf, w.pos)
			}
		}
	}
	if d := p.Next(); d != NoMoreDocs || p.Next() != NoMoreDocs || p.Doc() != NoMoreDocs {
		t.Fatalf("%s:%q: after the last posting Next = %d", field, term, d)
	}
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
}

func checkAdvanceAndBlockMax(t *testing.T, r *Reader, field, term string, want []mposting, norms []uint32, rng *rand.Rand) {
	t.Helper()
	if len(want) < 20 && rng.IntN(8) != 0 {
		return // small lists are covered by checkPostings; sample them
	}
	p, err := r.Postings(field, []byte(term))
	if err != nil {
		t.Fatal(err)
	}
	last := want[len(want)-1].doc
	target := uint32(0)
	for step := 0; step < 40; step++ {
		// Targets jump forward by random amounts, sometimes past the end.
		target += uint32(rng.IntN(int(last)/8 + 3))
		i := sort.Search(len(want), func(i int) bool { return want[i].doc >= target })

		// BlockMax for a target at or ahead of the iterator: exact bounds
		// of the 128-doc block holding the first doc >= target.
		probe := target + uint32(rng.IntN(300))
		if rng.IntN(2) == 0 {
			j := sort.Search(len(want), func(i int) bool { return want[i].doc >= probe })
			lastDoc, maxFreq, minNorm, ok := p.BlockMax(probe)
			if ok != (j < len(want)) {
				t.Fatalf("%s:%q BlockMax(%d) ok = %v, want %v", field, term, probe, ok, j < len(want))
			}
			if ok {
				start := j / blockSize * blockSize
				end := min(start+blockSize, len(want))
				var wantMax uint32
				wantMin := uint32(math.MaxUint32)
				for _, w := range want[start:end] {
					wantMax = max(wantMax, w.freq)
					if norms != nil {
						wantMin = min(wantMin, QuantizeNorm(norms[w.doc]))
					}
				}
				if norms == nil {
					wantMin = 0
				}
				if lastDoc != want[end-1].doc || maxFreq != wantMax || minNorm != wantMin {
					t.Fatalf("%s:%q BlockMax(%d) = last %d maxFreq %d minNorm %d; want %d %d %d",
						field, term, probe, lastDoc, maxFreq, minNorm, want[end-1].doc, wantMax, wantMin)
				}
				for _, w := range want[j:end] { // the bounds hold for every doc of the block
					if w.freq > maxFreq || norms != nil && r.FieldNorm(field, w.doc) < minNorm {
						t.Fatalf("%s:%q doc %d breaks BlockMax bounds", field, term, w.doc)
					}
				}
			}
		}

		got := p.Advance(target)
		if i == len(want) {
			if got != NoMoreDocs {
				t.Fatalf("%s:%q Advance(%d) = %d, want NoMoreDocs", field, term, target, got)
			}
			break
		}
		if got != want[i].doc || p.Freq() != want[i].freq {
			t.Fatalf("%s:%q Advance(%d) = %d (freq %d), want %d (freq %d)", field, term, target, got, p.Freq(), want[i].doc, want[i].freq)
		}
		if len(want[i].pos) > 0 && rng.IntN(2) == 0 {
			if pos := p.Positions(nil); !slices.Equal(pos, want[i].pos) {
				t.Fatalf("%s:%q positions after Advance: %v, want %v", field, term, pos, want[i].pos)
			}
		}
		if rng.IntN(3) == 0 && i+1 < len(want) {
			if n := p.Next(); n != want[i+1].doc {
				t.Fatalf("%s:%q Next after Advance = %d, want %d", field, term, n, want[i+1].doc)
			}
			target = want[i+1].doc
		} else {
			target = got
		}
	}
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
}

func checkStoredAndFast(t *testing.T, s *Schema, r *Reader, docs []*Document) {
	t.Helper()
	cols := map[string]*FastColumn{}
	for _, f := range s.Fields() {
		c, err := r.Fast(f.Name)
		if f.FastNumeric() != (err == nil) {
			t.Fatalf("Fast(%s) = %v, %v", f.Name, c, err)
		}
		if f.FastNumeric() {
			cols[f.Name] = c
		}
		kc, err := r.Keywords(f.Name)
		if f.FastKeyword() != (err == nil) {
			t.Fatalf("Keywords(%s) = %v, %v", f.Name, kc, err)
		}
		if f.FastKeyword() {
			checkKeywordColumn(t, kc, f.Name, docs)
		}
	}
	cache := NewBlockCache(24 << 10)
	// Read documents out of order too, so the block cache is exercised.
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	rand.New(rand.NewPCG(5, 5)).Shuffle(len(order)/2, func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, i := range order {
		d := docs[i]
		want := &Document{Values: []FieldValue{}}
		for _, v := range d.Values {
			if f, _ := s.Field(v.Field); f.Stored {
				want.Values = append(want.Values, v)
			}
		}
		got, err := r.Document(uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		if !docsEqual(got, want) {
			t.Fatalf("Document(%d) = %+v\nwant %+v", i, got, want)
		}
		// Only the fields asked for, through a cache smaller than a block
		// or two, so that blocks are evicted and reread.
		subset := &Document{Values: []FieldValue{}}
		for _, v := range want.Values {
			if v.Field == "title" || v.Field == "len" {
				subset.Values = append(subset.Values, v)
			}
		}
		if got, err := r.DocumentFields(uint32(i), cache, "title", "len"); err != nil || !docsEqual(got, subset) {
			t.Fatalf("DocumentFields(%d, title, len) = %+v, %v\nwant %+v", i, got, err, subset)
		}
		key, err := r.Key(uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		if pk, _ := s.PrimaryKey(d); !bytes.Equal(key, pk) {
			t.Fatalf("Key(%d) = %q, want %q", i, key, pk)
		}
		for name, c := range cols {
			first, has := d.Get(name)
			var ok bool
			var match bool
			switch c.Type().Storage() {
			case TypeU64:
				var v uint64
				v, ok = c.U64(uint32(i))
				match = v == first.U64
			case TypeI64:
				var v int64
				v, ok = c.I64(uint32(i))
				match = v == first.I64
			case TypeF64:
				var v float64
				v, ok = c.F64(uint32(i))
				match = v == first.F64
			}
			if ok != has || has && !match {
				t.Fatalf("fast %s doc %d: ok %v match %v, want value %+v (present %v)", name, i, ok, match, first, has)
			}
		}
	}
	if _, err := r.Document(uint32(len(docs))); err == nil {
		t.Fatal("Document past the end succeeded")
	}
	if _, err := r.Key(uint32(len(docs))); err == nil {
		t.Fatal("Key past the end succeeded")
	}
	if cache.Bytes() > 24<<10 {
		t.Fatalf("block cache holds %d bytes, bound 24 KiB", cache.Bytes())
	}
	for _, c := range cols {
		if _, ok := c.U64(uint32(len(docs))); ok {
			t.Fatal("fast value past the end")
		}
	}
}

// checkKeywordColumn checks a keyword column against the documents: the
// ordinals number the distinct values in byte order, and each document
// holds the ordinals of its distinct values; CountOrds agrees.
func checkKeywordColumn(t *testing.T, c *KeywordColumn, field string, docs []*Document) {
	t.Helper()
	set := map[string]bool{}
	for _, d := range docs {
		for _, v := range d.Values {
			if v.Field == field {
				set[v.Str] = true
			}
		}
	}
	terms := make([]string, 0, len(set))
	for v := range set {
		terms = append(terms, v)
	}
	slices.Sort(terms)
	if c.NumTerms() != uint32(len(terms)) {
		t.Fatalf("keyword column %s: %d terms, want %d", field, c.NumTerms(), len(terms))
	}
	for o, want := range terms {
		if got, err := c.Term(uint32(o)); err != nil || string(got) != want {
			t.Fatalf("keyword column %s: Term(%d) = %q, %v; want %q", field, o, got, err, want)
		}
	}
	if _, err := c.Term(uint32(len(terms))); err == nil {
		t.Fatalf("keyword column %s: Term past the end succeeded", field)
	}
	counts := make([]int, c.OrdinalBound())
	wantCounts := make([]int, c.OrdinalBound())
	all := make([]uint32, len(docs))
	for i, d := range docs {
		all[i] = uint32(i)
		var want []uint32
		for _, v := range d.Values {
			if v.Field == field {
				o, _ := slices.BinarySearch(terms, v.Str)
				want = append(want, uint32(o))
			}
		}
		slices.Sort(want)
		want = slices.Compact(want)
		for _, o := range want {
			wantCounts[o]++
		}
		got, err := c.Ords(uint32(i), nil)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("keyword column %s: Ords(%d) = %v, %v; want %v", field, i, got, err, want)
		}
	}
	if err := c.CountOrds(all, counts); err != nil || !slices.Equal(counts, wantCounts) {
		t.Fatalf("keyword column %s: CountOrds = %v, %v; want %v", field, counts, err, wantCounts)
	}
	if _, err := c.Ords(uint32(len(docs)), nil); err == nil {
		t.Fatalf("keyword column %s: Ords past the end succeeded", field)
	}
}

func docsEqual(a, b *Document) bool {
	if len(a.Values) != len(b.Values) {
		return false
	}
	for i := range a.Values {
		x, y := a.Values[i], b.Values[i]
		if x.Field != y.Field || x.Kind != y.Kind || x.Str != y.Str || x.U64 != y.U64 || x.I64 != y.I64 ||
			math.Float64bits(x.F64) != math.Float64bits(y.F64) || !bytes.Equal(x.Bytes, y.Bytes) {
			return false
		}
	}
	return true
}

func TestWithDeletes(t *testing.T) {
	s := corpusSchema(t)
	docs := generatedDocs(300, 3)
	dir := storage.NewMem()
	id, _ := buildSegment(t, s, docs, dir)
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	if r.Deleted() != nil || r.NumLiveDocs() != 300 || r.IsDeleted(0) {
		t.Fatal("fresh reader has deletes")
	}
	del := roaring.BitmapOf(0, 5, 299, 1000)
	v := r.WithDeletes(del)
	if !v.IsDeleted(5) || v.IsDeleted(6) || v.NumLiveDocs() != 297 || v.Deleted() != del || v.NumDocs() != 300 {
		t.Fatalf("view: live %d", v.NumLiveDocs())
	}
	if r.IsDeleted(5) {
		t.Fatal("the view changed the base reader")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// The view still works after the base reader is closed.
	if d, err := v.Document(7); err != nil || d == nil {
		t.Fatalf("view after base close: %v", err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestOpenWrongSchema(t *testing.T) {
	s := corpusSchema(t)
	dir := storage.NewMem()
	id, _ := buildSegment(t, s, generatedDocs(10, 1), dir)
	other, err := NewSchema(Field{Name: "id", Type: TypeKeyword, Indexed: true, Stored: true, Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, id, other); err == nil || !strings.Contains(err.Error(), "different schema") {
		t.Fatalf("Open with another schema: %v", err)
	}
	if _, err := Open(dir, NewID(), s); err == nil {
		t.Fatal("Open of a missing segment succeeded")
	}
}

func TestBuilderRejectsBadDocuments(t *testing.T) {
	s := corpusSchema(t)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(s, toks)
	for _, d := range []*Document{nil, new(Document).AddU64("title", 1), new(Document).AddString("nope", "x")} {
		if err := b.Add(d); err == nil {
			t.Fatalf("Add(%+v) succeeded", d)
		}
	}
	if b.NumDocs() != 0 {
		t.Fatalf("rejected documents were counted: %d", b.NumDocs())
	}
	dir := storage.NewMem()
	if _, err := b.Build(dir, NewID()); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(new(Document)); err == nil {
		t.Fatal("Add after Build succeeded")
	}
	if _, err := b.Build(dir, NewID()); err == nil {
		t.Fatal("second Build succeeded")
	}
}

func TestResolveTokenizers(t *testing.T) {
	s := corpusSchema(t)
	reg := analysis.NewRegistry()
	m, err := ResolveTokenizers(s, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["title"] == nil || m["text"] == nil {
		t.Fatalf("ResolveTokenizers = %v", m)
	}
	for overrides, want := range map[string][]string{
		"title=no_such_tokenizer": {`"title"`, `"no_such_tokenizer"`},
		"tag=simple":              {`"tag"`, "not an indexed text field"},
		"nope=simple":             {`"nope"`, "unknown field"},
	} {
		k, v, _ := strings.Cut(overrides, "=")
		_, err := ResolveTokenizers(s, reg, map[string]string{k: v})
		if err == nil {
			t.Errorf("override %s accepted", overrides)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("override %s: error %q does not mention %s", overrides, err, w)
			}
		}
	}
}

func TestNormQuantization(t *testing.T) {
	prev := uint32(0)
	for c := 1; c < 256; c++ {
		if normTable[c] <= normTable[c-1] {
			t.Fatalf("norm table not increasing at %d", c)
		}
	}
	if normTable[255] < 1<<32-1-(1<<32-1)/10 {
		t.Fatalf("norm table tops out at %d", normTable[255])
	}
	for _, n := range []uint32{0, 1, 39, 40, 41, 100, 1000, 12345, 1 << 20, 1<<31 + 7, math.MaxUint32} {
		q := QuantizeNorm(n)
		if q > n || float64(q) < float64(n)*0.909 || (n < 40 && q != n) {
			t.Errorf("QuantizeNorm(%d) = %d", n, q)
		}
		if q < prev {
			t.Errorf("QuantizeNorm not monotone at %d", n)
		}
		prev = q
		if NormValue(normCode(n)) != q {
			t.Errorf("NormValue(normCode(%d)) != QuantizeNorm", n)
		}
	}
}

func TestBitPacking(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for w := uint8(0); w <= 32; w++ {
		vals := make([]uint32, blockSize)
		for i := range vals {
			if w > 0 {
				vals[i] = uint32(rng.Uint64() & (1<<w - 1))
			}
		}
		if bitWidth(vals) > w {
			t.Fatalf("bitWidth > %d", w)
		}
		packed := appendPacked([]byte{0xAA}, vals, w)
		if len(packed) != 1+packedLen(blockSize, w) {
			t.Fatalf("width %d: %d bytes", w, len(packed))
		}
		out := make([]uint32, blockSize)
		unpack(out, packed[1:], w)
		if !slices.Equal(out, vals) {
			t.Fatalf("width %d: round trip differs", w)
		}
	}
	for w := uint8(0); w <= 64; w++ {
		n := 1 + rng.IntN(200)
		vals := make([]uint64, n)
		for i := range vals {
			vals[i] = rng.Uint64()
			if w < 64 {
				vals[i] &= 1<<w - 1
			}
		}
		packed := appendPacked64(nil, vals, w)
		if len(packed) != (n*int(w)+7)/8 {
			t.Fatalf("width %d: %d bytes for %d values", w, len(packed), n)
		}
		packed = append(packed, make([]byte, 8)...)
		for i, v := range vals {
			if got := getBits(packed, uint64(i)*uint64(w), w); got != v {
				t.Fatalf("width %d value %d: got %x want %x", w, i, got, v)
			}
		}
	}
}

// TestEstimatedMemoryFollowsHeap checks EstimatedMemoryBytes against the
// real growth of the live heap while a builder takes real documents.
func TestEstimatedMemoryFollowsHeap(t *testing.T) {
	path := "testdata/realmix-head.jsonl.gz"
	if _, err := os.Stat(fullCorpus); err == nil {
		path = fullCorpus // a few thousand documents when the corpus is here
	}
	recs := readRealmix(t, path, 4000)
	s := corpusSchema(t)
	docs := corpusDocs(recs, 9)
	toks, err := ResolveTokenizers(s, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Warm up process-wide state (zstd codecs, tokenizer pools).
	warm := NewBuilder(s, toks)
	for _, d := range docs[:50] {
		if err := warm.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := warm.Build(storage.NewMem(), NewID()); err != nil {
		t.Fatal(err)
	}
	// The warm-up's term tables would be reused: memory the builder holds
	// (and counts) without growing the heap. Drop them.
	freeTermTables.Range(func(_, f any) bool {
		f.(*freeTables).drop()
		return true
	})
	for freeTermPages.Get() != nil {
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := NewBuilder(s, toks)
	checkpoints := 0
	for i, d := range docs {
		if err := b.Add(d); err != nil {
			t.Fatal(err)
		}
		if (i+1)%(len(docs)/4) == 0 || i == len(docs)-1 {
			runtime.GC()
			runtime.ReadMemStats(&after)
			grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			est := b.EstimatedMemoryBytes()
			ratio := float64(est) / float64(grown)
			t.Logf("%d docs: estimate %d, heap grew %d (ratio %.3f)", i+1, est, grown, ratio)
			if ratio < 0.8 || ratio > 1.2 {
				t.Errorf("%d docs: estimate %d is not within 20%% of heap growth %d", i+1, est, grown)
			}
			checkpoints++
		}
	}
	runtime.KeepAlive(b)
	if checkpoints < 4 {
		t.Fatalf("only %d checkpoints", checkpoints)
	}
}

// TestConcurrentReads reads one Reader from several goroutines (run with
// -race): stored documents and postings must match the single-threaded
// answers.
func TestConcurrentReads(t *testing.T) {
	s := corpusSchema(t)
	docs := generatedDocs(400, 8)
	dir := storage.NewMem()
	id, _ := buildSegment(t, s, docs, dir)
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	terms := []string{"w2", "w3", "w10", "w100"}
	wantDocs := map[string][]uint32{}
	for _, term := range terms {
		p, err := r.Postings("text", []byte(term))
		if err != nil || p == nil {
			t.Fatalf("Postings(%s): %v", term, err)
		}
		for d := p.Doc(); d != NoMoreDocs; d = p.Next() {
			wantDocs[term] = append(wantDocs[term], d)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for i := 0; i < 200; i++ {
				doc := uint32(rng.IntN(len(docs)))
				got, err := r.Document(doc)
				if err != nil {
					errs <- err
					return
				}
				if v, _ := got.Get("id"); v.Str != fmt.Sprintf("g%06d", doc) {
					errs <- fmt.Errorf("goroutine %d: Document(%d) has id %q", g, doc, v.Str)
					return
				}
				term := terms[rng.IntN(len(terms))]
				p, err := r.Postings("text", []byte(term))
				if err != nil {
					errs <- err
					return
				}
				var got2 []uint32
				for d := p.Doc(); d != NoMoreDocs; d = p.Next() {
					got2 = append(got2, d)
				}
				if !slices.Equal(got2, wantDocs[term]) {
					errs <- fmt.Errorf("goroutine %d: postings of %s differ", g, term)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
