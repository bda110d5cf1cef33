package segment

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// slackTokenizer is spaceTokenizer with the term bytes handed over in
// slices of varied capacity: exactly the term (the emit callback may not
// read past it), inside a larger buffer whose bytes past the term are
// garbage (which must not leak into the term), or at the very end of a
// buffer. Its buffers are fresh per value, so nothing it emits aliases
// the builder's memory.
func slackTokenizer(seed uint64) analysis.Tokenizer {
	rng := rand.New(rand.NewPCG(seed, 7))
	return analysis.TokenizerFunc(func(text string, emit func(analysis.Token)) {
		spaceTokenizer(text, func(tok analysis.Token) {
			n := len(tok.Term)
			switch rng.IntN(3) {
			case 0:
				tok.Term = append(make([]byte, 0, n), tok.Term...)
			case 1:
				buf := make([]byte, n+1+rng.IntN(24))
				for i := range buf {
					buf[i] = byte(0xA5 ^ i)
				}
				off := rng.IntN(len(buf) - n + 1)
				tok.Term = buf[off : off+copy(buf[off:], tok.Term)]
			default:
				buf := make([]byte, n+rng.IntN(9))
				for i := range buf {
					buf[i] = 0xFF
				}
				copy(buf[len(buf)-n:], tok.Term)
				tok.Term = buf[len(buf)-n:]
			}
			emit(tok)
		})
	})
}

// adversarialWord returns a term meant to break the builder's fast paths:
// lengths around 8 and 16 bytes and the token queue's 4 KiB, terms equal
// in their first 8 bytes or in everything but their last byte, zero bytes,
// 0xff bytes and multi-byte UTF-8.
func adversarialWord(rng *rand.Rand) string {
	alphabet := []string{"a", "b", "\x00", "\xff", "é", "日", "z"}
	pick := func(n int) string {
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()[:n] // may cut a rune: terms are bytes
	}
	lengths := []int{1, 2, 7, 8, 9, 15, 16, 17, 24, 254, 255, 256, 257}
	switch r := rng.IntN(100); {
	case r < 30:
		return pick(lengths[rng.IntN(len(lengths))])
	case r < 50: // equal first 8 bytes, a few distinct tails
		return "samepref" + pick(rng.IntN(10))
	case r < 65: // equal length > 8, differing in the last byte only
		return fmt.Sprintf("long-equal-length-%c", 'a'+rng.IntN(20))
	case r < 66: // around the queue's 4 KiB
		return strings.Repeat(string(rune('p'+rng.IntN(3))), 4095+rng.IntN(3))
	case r < 69:
		return "=" + pick(1+rng.IntN(12)) // a synonym (same position)
	case r < 73:
		return "" // dropped, still takes a position
	default:
		return fmt.Sprintf("w%d", rng.IntN(400))
	}
}

// TestBuildMatchesModelAdversarial builds segments from adversarial
// documents and reads every term back through the Reader, against the
// map-based inverter: short and long terms with garbage past their end,
// terms of 8, 9, 16 bytes and near 4 KiB, equal prefixes, non-ASCII and
// zero bytes, documents without tokens, a doc id jump of more than 16383
// documents, term frequencies across the uvarint boundaries (127, 128,
// 16383, 16384), fields with and without positions. It builds three
// segments in turn, so that the later ones run on the term tables, term
// pages and pool blocks the earlier ones released.
func TestBuildMatchesModelAdversarial(t *testing.T) {
	s, err := NewSchema(
		Field{Name: "id", Type: TypeKeyword, Indexed: true, Primary: true},
		Field{Name: "a", Type: TypeText, Indexed: true},
		Field{Name: "b", Type: TypeText, Indexed: true, Positions: true},
		Field{Name: "tag", Type: TypeKeyword, Indexed: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	newBuilder := func(seg int) *Builder {
		tok := slackTokenizer(uint64(seg))
		b := NewBuilder(s, map[string]analysis.Tokenizer{"a": tok, "b": tok})
		if seg%2 == 1 {
			// Tables past 64 slots re-hash their terms as they grow,
			// as they do past 2^24 slots.
			for _, fx := range b.indexed {
				fx.hash.hashedMask = 63
			}
		}
		return b
	}
	b := newBuilder(0)
	for seg := range adversarialSegments {
		rng := rand.New(rand.NewPCG(uint64(100+seg), 13))
		want := invModel{}
		wantStats := map[string]FieldStats{}
		n := 0
		add := func(d *Document) {
			t.Helper()
			d.AddString("id", fmt.Sprintf("doc%06d", n))
			// Not Validate: the terms are bytes, some not UTF-8.
			if err := b.Add(d); err != nil {
				t.Fatal(err)
			}
			countTokens(wantStats, want.addDoc(t, s, uint32(n), d))
			n++
		}
		value := func() string {
			ws := make([]string, rng.IntN(30))
			for i := range ws {
				ws[i] = adversarialWord(rng)
			}
			return strings.Join(ws, " ")
		}
		repeat := func(term string, k int) string { return strings.TrimSuffix(strings.Repeat(term+" ", k), " ") }
		for i := range adversarialDocs {
			d := new(Document)
			switch i % 50 {
			case 7: // no tokens at all: empty values, spaces only
				d.AddString("a", "").AddString("b", "   ")
			case 13: // frequencies around the uvarint boundaries
				for _, k := range []int{127, 128, 129} {
					d.AddString("a", repeat(fmt.Sprintf("freq%d", k), k))
					d.AddString("b", repeat(fmt.Sprintf("freq%dxxxxxxxxx", k), k))
				}
			case 29:
				if seg == 0 {
					// A term 16383 and 16384 times, the longest term
					// and one byte more (dropped).
					d.AddString("a", repeat("big", 16383)+" "+repeat("bigger", 16384))
					d.AddString("b", repeat("bigpositions", 16384)+" "+strings.Repeat("m", MaxTermBytes)+" "+strings.Repeat("n", MaxTermBytes+1))
				}
			default:
				for _, f := range []string{"a", "b"} {
					for k := rng.IntN(3); k > 0; k-- {
						d.AddString(f, value())
					}
				}
				if rng.IntN(2) == 0 {
					d.AddString("tag", adversarialWord(rng))
				}
			}
			add(d)
			if i == 120 && seg == 1 {
				// A doc id jump: more than 16383 documents with only
				// an id, so that the next posting's doc delta takes
				// three uvarint bytes.
				for range 16400 {
					add(new(Document))
				}
			}
		}
		dir := storage.NewMem()
		id := NewID()
		meta, err := b.Build(dir, id)
		if err != nil {
			t.Fatal(err)
		}
		// The next builder now, on the tables and pages this one has
		// just released (the pools would drop them at the next GCs).
		b = newBuilder(seg + 1)
		r, err := Open(dir, id, s)
		if err != nil {
			t.Fatal(err)
		}
		if meta.NumDocs != uint32(n) || r.NumDocs() != uint32(n) {
			t.Fatalf("segment %d: %d docs (meta %d), want %d", seg, r.NumDocs(), meta.NumDocs, n)
		}
		for _, field := range []string{"a", "b", "tag"} {
			terms := want[field]
			var got []string
			if err := r.Terms(field, nil, func(term []byte) bool { got = append(got, string(term)); return true }); err != nil {
				t.Fatal(err)
			}
			wantTerms := make([]string, 0, len(terms))
			for term := range terms {
				wantTerms = append(wantTerms, term)
			}
			slices.Sort(wantTerms)
			if !slices.Equal(got, wantTerms) {
				t.Fatalf("segment %d field %q: %d terms, want %d", seg, field, len(got), len(wantTerms))
			}
			for term, wp := range terms {
				checkPostings(t, r, field, term, wp)
			}
			st := r.FieldStats(field)
			if w := wantStats[field]; st.DocCount != w.DocCount || st.SumTokens != w.SumTokens || st.Terms != uint64(len(terms)) {
				t.Errorf("segment %d field %q: stats %+v, want %+v and %d terms", seg, field, st, w, len(terms))
			}
		}
		r.Close()
	}
}

// TestBuildWriteErrorMidPostings fails a write of the postings or
// positions file while Build adds terms (their records and positions go
// out 32 KiB at a time, through the file's 64 KiB buffer) and at its last
// flush: Build must return the injected error and leave no file behind,
// and a segment built next in the same directory must read back.
func TestBuildWriteErrorMidPostings(t *testing.T) {
	s, err := NewSchema(
		Field{Name: "id", Type: TypeKeyword, Indexed: true, Primary: true},
		Field{Name: "b", Type: TypeText, Indexed: true, Positions: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	// About 100 KiB of term records and 75 KiB of positions: two writes
	// of each file.
	rng := rand.New(rand.NewPCG(5, 5))
	docs := make([]*Document, 300)
	want := invModel{}
	for i := range docs {
		ws := make([]string, 250)
		for j := range ws {
			ws[j] = fmt.Sprintf("w%d", rng.IntN(10000))
		}
		docs[i] = new(Document).AddString("id", fmt.Sprint(i)).AddString("b", strings.Join(ws, " "))
		want.addDoc(t, s, uint32(i), docs[i])
	}
	toks := map[string]analysis.Tokenizer{"b": spaceTokenizer}
	build := func(dir storage.Directory) (ID, error) { return tryBuild(t, s, toks, docs, dir) }
	dir := storage.NewFaulty(1)
	for _, ext := range []string{".post", ".pos"} {
		for _, failAt := range []int{1, 2} { // in Build's loop, in the last flush
			writes := 0
			dir.OnOp(func(op storage.Op, name string) error {
				if op == storage.OpWrite && strings.HasSuffix(name, ext) {
					if writes++; writes == failAt {
						return fmt.Errorf("write %d of %s: %w", writes, name, storage.ErrInjected)
					}
				}
				return nil
			})
			if _, err := build(dir); !errors.Is(err, storage.ErrInjected) {
				t.Fatalf("%s write %d fails: Build = %v, want the injected error", ext, failAt, err)
			}
			if names, err := dir.List(); err != nil || len(names) != 0 {
				t.Fatalf("%s write %d failed: files left behind: %v, %v", ext, failAt, names, err)
			}
		}
	}
	dir.OnOp(nil)
	id, err := build(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checked := 0
	for term, wp := range want["b"] { // a sample: the test is about the files
		if checked++; checked > 200 {
			break
		}
		checkPostings(t, r, "b", term, wp)
	}
}

// The size of TestBuildMatchesModelAdversarial, small enough for -race.
var adversarialSegments, adversarialDocs = 2, 150

// FuzzInverterMatchesModel adds the lines of the input as documents (the
// first byte of a line picks the tokenizer's slack, the rest goes to a
// field without positions and one with) to a builder whose tables re-hash
// as they grow, and compares its in-memory postings with the model's.
func FuzzInverterMatchesModel(f *testing.F) {
	f.Add([]byte("0a b a\n1samepref1 samepref2 samepref1\n2\n3 =x y  12345678 123456789"))
	f.Add([]byte("0" + strings.Repeat("abcdefgh ", 600) + "\n1\xff\x00 \xff\x00"))
	s, err := NewSchema(
		Field{Name: "a", Type: TypeText, Indexed: true},
		Field{Name: "b", Type: TypeText, Indexed: true, Positions: true},
	)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Split(string(data), "\n")
		if len(lines) > 200 {
			return
		}
		seed := uint64(0)
		if len(data) > 0 {
			seed = uint64(data[0])
		}
		tok := slackTokenizer(seed)
		b := NewBuilder(s, map[string]analysis.Tokenizer{"a": tok, "b": tok})
		for _, fx := range b.indexed {
			fx.hash.hashedMask = 0
		}
		want := invModel{}
		for i, line := range lines {
			d := new(Document).AddString("a", line).AddString("b", line)
			if len(line) > 0 && line[0]&1 == 1 {
				d = new(Document).AddString("b", line).AddString("a", line).AddString("b", line)
			}
			if err := b.Add(d); err != nil {
				t.Fatal(err)
			}
			want.addDoc(t, s, uint32(i), d)
		}
		got := inMemoryPostings(t, b)
		for _, field := range []string{"a", "b"} {
			if len(got[field]) != len(want[field]) {
				t.Fatalf("field %q: %d terms, want %d", field, len(got[field]), len(want[field]))
			}
			for term, wp := range want[field] {
				if gp := got[field][term]; fmt.Sprint(gp) != fmt.Sprint(wp) {
					t.Fatalf("field %q term %q:\n got %v\nwant %v", field, term, gp, wp)
				}
			}
		}
	})
}

// TestLongTermHashCollisionInterleaved disguises a long term A's slot as
// another term B's would look after a collision of 56 bits of their
// hashes (for lengths below and past the 255 at which a slot's length
// saturates, and B one byte longer than A, with A's next byte in the
// arena B's last), then adds B several times in one queue, in the next
// queues and in later documents: B's tokens must not go to A, in memory
// and in the built segment.
func TestLongTermHashCollisionInterleaved(t *testing.T) {
	for _, n := range [][2]int{{9, 9}, {16, 16}, {254, 254}, {300, 300}, {300, 301}} {
		for _, positions := range []bool{false, true} {
			t.Run(fmt.Sprintf("len=%d,%d/positions=%v", n[0], n[1], positions), func(t *testing.T) {
				s, err := NewSchema(Field{Name: "a", Type: TypeText, Indexed: true, Positions: positions})
				if err != nil {
					t.Fatal(err)
				}
				termA := strings.Repeat("a", n[0])
				termB := termA[:n[0]-1] + "b"
				if n[1] > n[0] {
					termB = termA + "b"
				}
				b := NewBuilder(s, map[string]analysis.Tokenizer{"a": spaceTokenizer})
				docs := []string{termA + " bcd", termB + " x " + termB, "x " + termB, termB}
				want := invModel{}
				for i, text := range docs {
					d := new(Document).AddString("a", text)
					if err := b.Add(d); err != nil {
						t.Fatal(err)
					}
					want.addDoc(t, s, uint32(i), d)
					if i > 0 {
						continue
					}
					h := b.fields[0].hash
					hvB := h.hash([]byte(termB), termPrefix([]byte(termB)))
					slotA := termSlot{}
					for j := range h.slots {
						if s := h.slots[j]; s.id1 != 0 && string(h.term(s.id1-1)) == termA {
							slotA, h.slots[j] = s, termSlot{}
						}
					}
					slotA.meta = uint32(hvB)&slotHashMask | uint32(min(len(termB), 255))<<slotHashBits
					slotA.key = longKey(hvB, uint32(slotA.key))
					j := hvB & h.mask
					for h.slots[j].id1 != 0 {
						j = (j + 1) & h.mask
					}
					h.slots[j] = slotA
				}
				got := inMemoryPostings(t, b)["a"]
				if fmt.Sprint(got) != fmt.Sprint(map[string][]mposting(want["a"])) {
					t.Fatalf("got %v\nwant %v", got, want["a"])
				}
			})
		}
	}
}
