package segment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
)

// spaceTokenizer splits on single spaces, so that "a  b" has an empty term
// (dropped by the builder) between a and b. A word starting with '=' is
// emitted at the previous word's position (a synonym); each empty word
// still takes a position.
var spaceTokenizer = analysis.TokenizerFunc(func(text string, emit func(analysis.Token)) {
	pos := -1
	for _, w := range strings.Split(text, " ") {
		if strings.HasPrefix(w, "=") && pos >= 0 {
			w = w[1:]
		} else {
			pos++
		}
		emit(analysis.Token{Term: []byte(w), Position: pos})
	}
})

// invModel is a naive inverted index of the documents, built with maps
// straight from the tokens, as the builder's in-memory postings should
// hold it.
type invModel map[string]map[string][]mposting // field -> term -> postings

// countTokens adds a document's tokens per field (addDoc's result) to
// the fields' stats.
func countTokens(stats map[string]FieldStats, tokens map[string]uint32) {
	for field, n := range tokens {
		st := stats[field]
		if n > 0 {
			st.DocCount++
			st.SumTokens += uint64(n)
		}
		stats[field] = st
	}
}

// addDoc inverts d, following the builder's rules: empty and too long
// terms are dropped, a further value of a text field starts its
// positions past the highest one so far plus positionGap.
func (m invModel) addDoc(t *testing.T, s *Schema, doc uint32, d *Document) map[string]uint32 {
	t.Helper()
	type occ struct {
		freq uint32
		pos  []uint32
	}
	perField := map[string]map[string]*occ{}
	tokens := map[string]uint32{}
	maxPos := map[string]uint32{}
	var order []string // first-seen order of (field, term), for determinism
	for _, v := range d.Values {
		f, _ := s.Field(v.Field)
		if !f.Indexed {
			continue
		}
		if perField[f.Name] == nil {
			perField[f.Name] = map[string]*occ{}
		}
		add := func(term string, pos uint32) {
			if len(term) == 0 || len(term) > MaxTermBytes {
				return
			}
			o := perField[f.Name][term]
			if o == nil {
				o = &occ{}
				perField[f.Name][term] = o
				order = append(order, f.Name+"\x00"+term)
			}
			o.freq++
			if f.Positions {
				o.pos = append(o.pos, pos)
				maxPos[f.Name] = max(maxPos[f.Name], pos)
			}
			tokens[f.Name]++
		}
		if f.Type != TypeText {
			add(string(indexedTerm(nil, &v)), 0)
			continue
		}
		base := uint32(0)
		if tokens[f.Name] > 0 || maxPos[f.Name] > 0 {
			base = maxPos[f.Name] + 1 + positionGap
		}
		spaceTokenizer(v.Str, func(tk analysis.Token) { add(string(tk.Term), base+uint32(tk.Position)) })
	}
	for _, key := range order {
		field, term, _ := strings.Cut(key, "\x00")
		o := perField[field][term]
		if m[field] == nil {
			m[field] = map[string][]mposting{}
		}
		m[field][term] = append(m[field][term], mposting{doc, o.freq, o.pos})
	}
	return tokens
}

// inMemoryPostings decodes the builder's in-memory postings of every
// indexed field, as Build reads them.
func inMemoryPostings(t *testing.T, b *Builder) invModel {
	t.Helper()
	b.syncTerms()
	got := invModel{}
	for _, fx := range b.indexed {
		terms := map[string][]mposting{}
		for id := range uint32(fx.terms.n) {
			term := string(fx.hash.term(id))
			if _, dup := terms[term]; dup {
				t.Fatalf("field %q: term %q interned twice", fx.field.Name, term)
			}
			acc := fx.terms.at(id)
			if acc.freq > 0 && !b.flushState(&acc.postingState) {
				t.Fatal("pool full")
			}
			var post, pos streamReader
			post.init(b.pool, acc.postStart, acc.postUpto)
			if fx.positions {
				pos.init(b.pool, acc.posStart, acc.posUpto)
			}
			var ps []mposting
			doc1 := uint32(0)
			for {
				v, err := post.readUvarint()
				if err == errStreamEnd {
					break
				}
				if err != nil {
					t.Fatalf("field %q term %q: %v", fx.field.Name, term, err)
				}
				freq := uint32(1)
				if v&1 == 0 {
					f, err := post.readUvarint()
					if err != nil {
						t.Fatalf("field %q term %q: freq: %v", fx.field.Name, term, err)
					}
					freq = uint32(f)
				}
				doc1 += uint32(v >> 1)
				p := mposting{doc: doc1 - 1, freq: freq}
				if fx.positions {
					last := uint32(0)
					for range freq {
						d, err := pos.readUvarint()
						if err != nil {
							t.Fatalf("field %q term %q: positions: %v", fx.field.Name, term, err)
						}
						last += uint32(d)
						p.pos = append(p.pos, last)
					}
				}
				ps = append(ps, p)
			}
			if fx.positions {
				if _, err := pos.ReadByte(); err != errStreamEnd {
					t.Fatalf("field %q term %q: positions left over", fx.field.Name, term)
				}
			}
			terms[term] = ps
		}
		got[fx.field.Name] = terms
	}
	return got
}

// TestInverterMatchesModel adds seeded random documents to a builder and
// compares its in-memory postings (terms, doc ids, freqs, positions) and
// token statistics with a map-based inverter. The documents have several
// text fields with and without positions, multi-valued fields, terms
// repeated within a value and across values, synonyms (repeated
// positions), empty terms, terms sharing their first 8 bytes, terms
// longer than the builder's token queue or than MaxTermBytes, values of
// more tokens than the queue, and enough distinct terms for the term
// tables to grow many times.
//
// It runs with the tokenizer's callback (Tokenize), then with the same
// tokenizer writing into the builder's queue (TokenizeQueue).
func TestInverterMatchesModel(t *testing.T) {
	for _, tok := range []analysis.Tokenizer{spaceTokenizer, spaceQueueTokenizer{spaceTokenizer}} {
		for _, seed := range []uint64{1, 2} { // field c with positions off, then on
			_, queue := tok.(analysis.QueueTokenizer)
			t.Run(fmt.Sprintf("queue=%v/%d", queue, seed), func(t *testing.T) { checkInverter(t, seed, tok) })
		}
	}
}

// spaceQueueTokenizer is spaceTokenizer as a QueueTokenizer. As the
// interface asks, it queues no empty term (an empty word only takes its
// position), and hands a term longer than the queue to long once the
// queue is empty.
type spaceQueueTokenizer struct{ analysis.Tokenizer }

func (spaceQueueTokenizer) TokenizeQueue(text string, q *analysis.TermQueue, full func(), long func(analysis.Token)) {
	spaceTokenizer(text, func(tok analysis.Token) {
		switch {
		case len(tok.Term) == 0:
		case q.Push(tok.Term, tok.Position):
		case len(tok.Term) <= analysis.QueueBytes:
			full()
			q.Push(tok.Term, tok.Position)
		default:
			if q.N > 0 {
				full()
			}
			long(tok)
		}
	})
}

func checkInverter(t *testing.T, seed uint64, tok analysis.Tokenizer) {
	rng := rand.New(rand.NewPCG(seed, 13))
	s, err := NewSchema(
		Field{Name: "id", Type: TypeKeyword, Indexed: true, Primary: true},
		Field{Name: "a", Type: TypeText, Indexed: true},
		Field{Name: "b", Type: TypeText, Indexed: true, Positions: true},
		Field{Name: "c", Type: TypeText, Indexed: true, Positions: seed%2 == 0},
		Field{Name: "tag", Type: TypeKeyword, Indexed: true},
		Field{Name: "n", Type: TypeU64, Indexed: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	toks := map[string]analysis.Tokenizer{"a": tok, "b": tok, "c": tok}
	zipf := rand.NewZipf(rng, 1.2, 3, 50000)
	word := func() string {
		switch r := rng.IntN(100); {
		case r < 2:
			return ""
		case r < 6:
			return "=" + fmt.Sprintf("s%d", rng.IntN(50)) // a synonym
		case r < 12:
			return fmt.Sprintf("prefix%02d%d", rng.IntN(100), rng.IntN(3)) // 9-10 bytes, shared first 8
		case r < 13:
			return strings.Repeat("x", 1+rng.IntN(20)) + strings.Repeat("\x00", rng.IntN(3))
		default:
			return fmt.Sprintf("w%d", zipf.Uint64())
		}
	}
	value := func() string {
		n := rng.IntN(40)
		switch rng.IntN(40) {
		case 0:
			n = 300 + rng.IntN(500) // more tokens than the queue holds
		case 1:
			// One term longer than the queue's bytes, or than MaxTermBytes.
			return "before " + strings.Repeat("L", []int{5000, MaxTermBytes, MaxTermBytes + 1}[rng.IntN(3)]) + " after before"
		}
		ws := make([]string, n)
		for i := range ws {
			ws[i] = word()
		}
		return strings.Join(ws, " ")
	}
	b := NewBuilder(s, toks)
	want := invModel{}
	wantStats := map[string]FieldStats{}
	for i := range 1000 {
		d := new(Document).AddString("id", fmt.Sprintf("doc%05d", i))
		for _, f := range []string{"a", "b", "c"} {
			for k := rng.IntN(4); k > 0; k-- {
				d.AddString(f, value())
			}
		}
		for k := rng.IntN(3); k > 0; k-- {
			d.AddString("tag", fmt.Sprintf("t%d", rng.IntN(10)))
		}
		d.AddU64("n", uint64(rng.IntN(100)))
		if err := s.Validate(d, 0); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(d); err != nil {
			t.Fatal(err)
		}
		countTokens(wantStats, want.addDoc(t, s, uint32(i), d))
	}
	got := inMemoryPostings(t, b)
	for _, fx := range b.indexed {
		name := fx.field.Name
		if len(got[name]) != len(want[name]) {
			t.Errorf("field %q: %d terms, want %d", name, len(got[name]), len(want[name]))
		}
		for term, wp := range want[name] {
			gp, ok := got[name][term]
			if !ok {
				t.Errorf("field %q: term %q missing", name, term)
				continue
			}
			if !slices.EqualFunc(gp, wp, func(x, y mposting) bool {
				return x.doc == y.doc && x.freq == y.freq && slices.Equal(x.pos, y.pos)
			}) {
				t.Errorf("field %q term %q:\n got %v\nwant %v", name, term, gp, wp)
			}
		}
		if st := fx.stats; st.DocCount != wantStats[name].DocCount || st.SumTokens != wantStats[name].SumTokens {
			t.Errorf("field %q: stats %+v, want %+v", name, st, wantStats[name])
		}
	}
}

// TestLongTermHashCollision makes a long term's slot look like another
// term of the same length (its 24 bits of slot hash and 32 more of key),
// as a hash collision would, and adds that other term: addQueued must
// find out from the bytes that it is not the slot's term, and intern it
// apart.
func TestLongTermHashCollision(t *testing.T) {
	for _, positions := range []bool{false, true} {
		t.Run(fmt.Sprint("positions=", positions), func(t *testing.T) {
			s, err := NewSchema(Field{Name: "a", Type: TypeText, Indexed: true, Positions: positions})
			if err != nil {
				t.Fatal(err)
			}
			b := NewBuilder(s, map[string]analysis.Tokenizer{"a": spaceTokenizer})
			termA, termB := "aaaaaaaaaaaa", "bbbbbbbbbbbb"
			if err := b.Add(new(Document).AddString("a", termA)); err != nil {
				t.Fatal(err)
			}
			h := b.fields[0].hash
			prefixB := termPrefix([]byte(termB))
			hvB := h.hash([]byte(termB), prefixB)
			var slotA termSlot
			for i := range h.slots {
				if h.slots[i].id1 != 0 {
					slotA, h.slots[i] = h.slots[i], termSlot{}
				}
			}
			slotA.meta = uint32(hvB)&slotHashMask | uint32(len(termB))<<slotHashBits
			slotA.key = longKey(hvB, uint32(slotA.key))
			h.slots[hvB&h.mask] = slotA
			if _, isNew, _ := h.insert([]byte(termB), hvB, prefixB, false); isNew {
				t.Fatal("insert without verify did not take the disguised slot")
			}
			if err := b.Add(new(Document).AddString("a", "x "+termB+" "+termB)); err != nil {
				t.Fatal(err)
			}
			got := inMemoryPostings(t, b)["a"]
			want := map[string][]mposting{
				termA: {{doc: 0, freq: 1}},
				termB: {{doc: 1, freq: 2}},
				"x":   {{doc: 1, freq: 1}},
			}
			if positions {
				want[termA][0].pos = []uint32{0}
				want[termB][0].pos = []uint32{1, 2}
				want["x"][0].pos = []uint32{0}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

// twoBytePosting gives the bytes the uvarints of the post stream give,
// for every posting of two bytes with a delta below 8192, and no other.
func TestTwoBytePosting(t *testing.T) {
	for delta := uint64(0); delta < 1<<14; delta++ {
		for _, freq := range []uint32{1, 2, 3, 64, 126, 127, 128, 129, 1 << 14} {
			var want []byte
			if freq == 1 {
				want = binary.AppendUvarint(nil, delta<<1|1)
			} else {
				want = binary.AppendUvarint(binary.AppendUvarint(nil, delta<<1), uint64(freq))
			}
			two, ok := twoBytePosting(delta, freq)
			if wantOK := len(want) == 2 && delta < 1<<13; ok != wantOK || ok && !bytes.Equal(two[:], want) {
				t.Fatalf("delta %d freq %d: %x %v, want %x %v", delta, freq, two, ok, want, wantOK)
			}
		}
	}
}
