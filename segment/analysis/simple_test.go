package analysis

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blevesearch/segment"
)

// tok is a term and its position, for readable expectations.
type tok struct {
	term string
	pos  int
}

func tokens(t Tokenizer, text string) []tok {
	var out []tok
	t.Tokenize(text, func(tk Token) { out = append(out, tok{string(tk.Term), tk.Position}) })
	return out
}

func terms(t Tokenizer, text string) []string {
	var out []string
	t.Tokenize(text, func(tk Token) { out = append(out, string(tk.Term)) })
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The expectations follow the UAX #29 word-boundary rules by hand: letters
// and digits join; '.', ':' and '\” join two letters; '.', ',', ';' and '\”
// join two digits; '_' joins anything; everything else separates.
func TestSimple(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string
	}{
		{"empty", "", nil},
		{"only punctuation and space", " \t\n-+*/!?()[]{} … — ", nil},
		{"ascii lowercased", "The Quick BROWN fox", []string{"the", "quick", "brown", "fox"}},
		{"sharp s kept", "Straße STRASSE", []string{"straße", "strasse"}},
		{"diacritics", "Naïve CAFÉ crème-brûlée", []string{"naïve", "café", "crème", "brûlée"}},
		{"combining mark stays in the word", "cafe\u0301 ok", []string{"cafe\u0301", "ok"}},
		{"soft hyphen stays in the word", "co\u00adoperate", []string{"co\u00adoperate"}},
		{"cyrillic", "Привет, МИР! Ёлка", []string{"привет", "мир", "ёлка"}},
		{"greek", "ΣΊΣΥΦΟΣ και", []string{"σίσυφοσ", "και"}},
		{"han one token per ideograph", "東京は", []string{"東", "京", "は"}},
		{"katakana run is one token", "タワー", []string{"タワー"}},
		{"digits", "42 007 3.14 1,000,000 10:30", []string{"42", "007", "3.14", "1,000,000", "10", "30"}},
		{"letters and digits join", "mp3 v1.2.3 4x4", []string{"mp3", "v1.2.3", "4x4"}},
		{"apostrophe between letters", "don't rock 'n' roll", []string{"don't", "rock", "n", "roll"}},
		{"curly apostrophe between letters", "don’t", []string{"don’t"}},
		{"hyphen separates", "e-mail x-ray", []string{"e", "mail", "x", "ray"}},
		{"symbols dropped", "C++ C# F# a&b", []string{"c", "c", "f", "a", "b"}},
		{"url", "https://Example.com/Path_To/page?q=Go&n=2#top", []string{"https", "example.com", "path_to", "page", "q", "go", "n", "2", "top"}},
		{"email", "Ann.Lee@Mail.Example.org", []string{"ann.lee", "mail.example.org"}},
		{"trailing full stop is not part of a word", "end. Next", []string{"end", "next"}},
		{"underscore joins, alone it is dropped", "snake_case _x_ ___ __", []string{"snake_case", "_x_"}},
		{"colon between letters", "a:b std::vector", []string{"a:b", "std", "vector"}},
		{"crlf lines", "one\r\ntwo\rthree\nfour", []string{"one", "two", "three", "four"}},
		{"dotted capital I", "İstanbul", []string{"istanbul"}},
		{"invalid utf-8 separates", "ab\xffcd\xe2\x80ef", []string{"ab", "cd", "ef"}},
		{"invalid utf-8 only", "\xff\xfe\xc0", nil},
		{"emoji dropped", "go 😀 fast", []string{"go", "fast"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := terms(SimpleTokenizer{}, c.text)
			if !equal(got, c.want) {
				t.Errorf("simple(%q) = %q, want %q", c.text, got, c.want)
			}
		})
	}
}

func TestSimplePositions(t *testing.T) {
	got := tokens(SimpleTokenizer{}, "Hello, wörld -- 42!")
	want := []tok{{"hello", 0}, {"wörld", 1}, {"42", 2}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// referenceSimple is SimpleTokenizer written the slow, obvious way: the
// segment package over each valid UTF-8 run of the whole text (no ASCII fast
// path, no regions), words kept, connector-only words dropped, lowercased
// with strings.ToLower.
func referenceSimple(text string) []string {
	var out []string
	for len(text) > 0 {
		valid := 0
		for valid < len(text) {
			r, size := utf8.DecodeRuneInString(text[valid:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			valid += size
		}
		seg := segment.NewWordSegmenterDirect([]byte(text[:valid]))
		for seg.Segment() {
			word := seg.Text()
			if seg.Type() == segment.None || strings.Trim(word, "_\u202f\u203f\u2040\u2054\ufe33\ufe34\ufe4d\ufe4e\ufe4f\uff3f") == "" {
				continue
			}
			out = append(out, strings.ToLower(word))
		}
		if err := seg.Err(); err != nil {
			panic(fmt.Sprintf("segment failed on %q: %v", text[:valid], err))
		}
		if valid < len(text) {
			valid++ // skip the invalid byte
		}
		text = text[valid:]
	}
	return out
}

func firstDiff(got, want []string) string {
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			lo := max(0, i-3)
			return fmt.Sprintf("token %d: got %q, want %q", i, got[lo:min(len(got), i+3)], want[lo:min(len(want), i+3)])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d tokens, want %d", len(got), len(want))
	}
	return ""
}

// The ASCII fast path and the region splitting must not change a single
// token: compare with the reference on real text.
func TestSimpleMatchesReferenceOnCorpus(t *testing.T) {
	docs, _ := loadCorpus(t, 2<<20)
	for i, d := range docs {
		if diff := firstDiff(terms(SimpleTokenizer{}, d), referenceSimple(d)); diff != "" {
			t.Fatalf("corpus document %d: %s", i, diff)
		}
	}
}

// pieces are the characters whose word-break properties matter, ASCII and
// not: letters, digits, every ASCII "middle" character, connectors, line
// breaks, combining and format characters, curly quotes, Hebrew, scripts
// without spaces, regional indicators, and invalid UTF-8.
var pieces = []string{"a", "B", "z", "1", "9", "_", ":", ".", "'", ",", ";", "\"", " ", "\n", "\r", "\r\n", "\t", "\v", "-", "+", "/",
	"é", "É", "\u0301", "\u00ad", "’", "·", "Ω", "ж", "Д", "中", "文", "の", "カ", "ー", "א", "ב", "\u05f4", "١", "🇫", "🇷", "😀",
	"\u202f", "ß", "İ", "\xff", "\xe2\x80", "\u200d", "\u3000", "ｶ", "\u0e01", "ﬁ", "Ⱥ",
	"ǅ", "ſ", "ɐ", "ʯ", "ʰ", "ϗ", "ͻ", "ʹ", "\u0387", "ҋ", "Ӂ", "\u0483", "ԁ", "\xc3", "\xd0a"}

func TestSimpleMatchesReferenceOnRandomText(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for range 30000 {
		var sb strings.Builder
		for range rng.Intn(12) {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
		s := sb.String()
		if diff := firstDiff(terms(SimpleTokenizer{}, s), referenceSimple(s)); diff != "" {
			t.Fatalf("text %q: %s", s, diff)
		}
	}
}

// checkInvariants checks what every consumer of a token stream relies on.
func checkInvariants(t *testing.T, tk Tokenizer, text string) {
	t.Helper()
	last, lastEnd := -1, 0
	tk.Tokenize(text, func(tok Token) {
		switch {
		case tok.Start < lastEnd || tok.End <= tok.Start || tok.End > len(text):
			t.Fatalf("%q: token %q at bytes [%d,%d) after one ending at %d", text, tok.Term, tok.Start, tok.End, lastEnd)
		case len(tok.Term) == 0:
			t.Fatalf("%q: empty term at position %d", text, tok.Position)
		case !utf8.Valid(tok.Term):
			t.Fatalf("%q: invalid UTF-8 term %q", text, tok.Term)
		case tok.Position <= last:
			t.Fatalf("%q: position %d after %d", text, tok.Position, last)
		}
		last, lastEnd = tok.Position, tok.End
	})
}

// checkSource checks that each token's offsets point at the text it came
// from: its term is source(text[Start:End]).
func checkSource(t *testing.T, tk Tokenizer, text string, source func(string) string) {
	t.Helper()
	tk.Tokenize(text, func(tok Token) {
		if want := source(text[tok.Start:tok.End]); string(tok.Term) != want {
			t.Fatalf("%q: term %q at [%d,%d), whose text %q gives %q", text, tok.Term, tok.Start, tok.End, text[tok.Start:tok.End], want)
		}
	})
}

func lowerSource(s string) string { return string(appendLower(nil, s)) }
func validSource(s string) string { return string(appendValid(nil, s)) }

func TestTokenOffsets(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for range 5000 {
		var sb strings.Builder
		for range rng.Intn(12) {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
		s := sb.String()
		checkSource(t, SimpleTokenizer{}, s, lowerSource)
		checkSource(t, WhitespaceTokenizer{}, s, validSource)
		checkSource(t, RawTokenizer{}, s, validSource)
		checkSource(t, RawTokenizer{LowerCase: true}, s, func(w string) string { return lowerSource(validSource(w)) })
	}
	// Filters keep the offsets of the token they rewrite.
	text := "The Runners were RUNNING, Ⱥb"
	var got []string
	Chain(mustGet(t, "en"), LowerCase()).Tokenize(text, func(tk Token) {
		got = append(got, fmt.Sprintf("%s@%d=%s", tk.Term, tk.Position, text[tk.Start:tk.End]))
	})
	if want := []string{"runner@1=Runners", "run@3=RUNNING", "ⱥb@4=Ⱥb"}; !equal(got, want) {
		t.Errorf("en tokens: got %q, want %q", got, want)
	}
}

func FuzzSimple(f *testing.F) {
	for _, s := range []string{"", "Hello, World", "don't e-mail C++", "naïve café Straße", "東京タワー", "ab\xffcd", "1,000.5 v1.2", "a.\u0301b", "___ _a_",
		"INTERNATIONALIZATION_Of8bytes", "ABCDEFGHé", "abcdefgh'ijklmnop.qrstuvwxYZ", "0123456789.0123456789,01", "aaaaaaa\xffBBBBBBBBB", "Zürich1234567ǅ"} {
		f.Add(s)
	}
	r := NewRegistry()
	f.Fuzz(func(t *testing.T, text string) {
		checkInvariants(t, SimpleTokenizer{}, text)
		checkSource(t, SimpleTokenizer{}, text, lowerSource)
		checkSource(t, WhitespaceTokenizer{}, text, validSource)
		if diff := firstDiff(terms(SimpleTokenizer{}, text), referenceSimple(text)); diff != "" {
			t.Fatalf("%q: %s", text, diff)
		}
		sameTokens(t, text, queueTokens(t, SimpleTokenizer{}, text), tokens(SimpleTokenizer{}, text))
		for _, name := range r.Names() { // every built-in, all stemmers included
			tk, err := r.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, tk, text)
		}
	})
}

// The scanner treats the runes of fastLetters like ASCII letters. Check that
// the segment package does too, for every one of them, in every context
// where a word-break property shows: alone, joined to letters, digits and
// connectors, around each middle character, next to Katakana and Hebrew, and
// before a combining mark.
func TestFastLettersAreALetter(t *testing.T) {
	contexts := []string{"X", "aX", "Xa", "1X", "X1", "X_", "_X", "a.X", "X.a", "X.1", "1.X", "X'a", "a'X",
		"X:a", "X,a", "1,X", "X;1", "カX", "Xカ", "X\u0301", "Xא'", "X\"a", "X\u00ada", "X’a", "X·a"}
	segs := func(s string) string {
		var b strings.Builder
		seg := segment.NewWordSegmenterDirect([]byte(s))
		for seg.Segment() {
			fmt.Fprintf(&b, "%d:%s|", seg.Type(), seg.Text())
		}
		return b.String()
	}
	n := 0
	for r := rune(0); r < rune(len(fastLetters)); r++ {
		if !fastLetters[r] {
			continue
		}
		n++
		if utf8.RuneLen(r) != 2 {
			t.Fatalf("%U is not encoded in two bytes", r)
		}
		for _, ctx := range contexts {
			got := segs(strings.ReplaceAll(ctx, "X", string(r)))
			want := strings.ReplaceAll(segs(strings.ReplaceAll(ctx, "X", "b")), "b", string(r))
			if got != want {
				t.Errorf("%U in %q: segment gives %s, an ASCII letter %s", r, ctx, got, want)
			}
		}
	}
	if n < 500 {
		t.Errorf("only %d fast letters", n)
	}
}

// TestLowerASCII8 checks the 8-bytes-at-a-time lowercasing against the
// byte-by-byte rule for every byte value in every position, next to
// neighbours that would carry if the arithmetic leaked across bytes.
func TestLowerASCII8(t *testing.T) {
	lower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for _, fill := range []byte{0x00, 'Z', 0x7f, 0xff} {
		for pos := 0; pos < 8; pos++ {
			for c := 0; c < 256; c++ {
				var in, want [8]byte
				for k := range in {
					in[k] = fill
				}
				in[pos] = byte(c)
				for k := range in {
					want[k] = lower(in[k])
				}
				var got [8]byte
				binary.LittleEndian.PutUint64(got[:], lowerASCII8(binary.LittleEndian.Uint64(in[:])))
				if got != want {
					t.Fatalf("lowerASCII8(% x) = % x, want % x", in, got, want)
				}
			}
		}
	}
}

// TestNonWordBytes checks the 8-bytes-at-a-time word test against the byte
// classes, for every byte value in every position.
func TestNonWordBytes(t *testing.T) {
	for _, fill := range []byte{'a', '_', 0x00, 0xff} {
		for pos := 0; pos < 8; pos++ {
			for c := 0; c < 256; c++ {
				var in [8]byte
				for k := range in {
					in[k] = fill
				}
				in[pos] = byte(c)
				got := nonWordBytes(binary.LittleEndian.Uint64(in[:]))
				for k, b := range in {
					want := asciiClass[b]&clsWord == 0
					if got>>(8*k)&0xff != 0 != want || got>>(8*k)&0x7f != 0 {
						t.Fatalf("nonWordBytes(% x) = %016x: byte %d wrong", in, got, k)
					}
				}
			}
		}
	}
}

// The 8-byte steps of the scanner (word runs, lowercasing) show only on
// words of eight bytes and more, which the pieces above rarely make: mix
// long ASCII words (capitals, digits, '_', middle characters inside) with
// the pieces, so that words start and end at every offset of an 8-byte
// load and meet non-ASCII bytes right after a run, and compare terms,
// offsets and positions with the reference.
func TestSimpleMatchesReferenceOnLongWords(t *testing.T) {
	const wordBytes = "abcxyzABCXYZ0189_"
	rng := rand.New(rand.NewSource(5))
	for range 4000 {
		var sb strings.Builder
		for range 1 + rng.Intn(6) {
			if rng.Intn(3) == 0 {
				sb.WriteString(pieces[rng.Intn(len(pieces))])
				continue
			}
			for range rng.Intn(40) {
				if rng.Intn(12) == 0 {
					sb.WriteByte(".':,"[rng.Intn(4)])
				} else {
					sb.WriteByte(wordBytes[rng.Intn(len(wordBytes))])
				}
			}
		}
		s := sb.String()
		if diff := firstDiff(terms(SimpleTokenizer{}, s), referenceSimple(s)); diff != "" {
			t.Fatalf("text %q: %s", s, diff)
		}
		checkInvariants(t, SimpleTokenizer{}, s)
		checkSource(t, SimpleTokenizer{}, s, lowerSource)
	}
}
