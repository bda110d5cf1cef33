package analysis

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/segment"
)

// SimpleTokenizer emits the words of the text, lowercased: the segments that
// Unicode's word-boundary rules (UAX #29, as implemented by
// github.com/blevesearch/segment) classify as letters, numbers or ideographs.
// Punctuation and white space are dropped; so are segments made only of
// connector punctuation such as "___". Within a word, the UAX #29 rules keep
// "don't", "e.g", "3.14" and "1,000" whole, while "e-mail" gives "e" and
// "mail" and "C++" gives "c". Ideographs (Han, Hiragana) are one token each.
//
// Invalid UTF-8 sequences separate words and are never part of a term.
//
// The zero value is ready to use and safe for concurrent use.
type SimpleTokenizer struct{}

// Byte classes of the ASCII fast path. The word-break properties of ASCII
// characters (Unicode 8.0, the version the segment package implements):
// letters are ALetter, digits Numeric, '_' ExtendNumLet, ':' MidLetter,
// '.' MidNumLet, the apostrophe Single_Quote (treated like MidNumLet), ',' and ';'
// MidNum, '"' Double_Quote; CR, LF, VT and FF are line breaks; the rest is
// Other.
const (
	clsLetter   = 1 << iota // A-Z a-z
	clsDigit                // 0-9
	clsConnect              // _
	clsMidL                 // may join two letters: : . '
	clsMidN                 // may join two digits: , ; . '
	clsHigh                 // not ASCII: leading or continuation byte of a multi-byte rune, or invalid
	clsBoundary             // an ASCII byte after which UAX #29 always breaks

	clsWord = clsLetter | clsDigit | clsConnect
)

// asciiClass maps every byte to its class bits.
var asciiClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 0x80:
			t[c] = clsHigh
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			t[c] = clsLetter
		case '0' <= c && c <= '9':
			t[c] = clsDigit
		case c == '_':
			t[c] = clsConnect
		case c == ':':
			t[c] = clsMidL
		case c == ',' || c == ';':
			t[c] = clsMidN
		case c == '.' || c == '\'':
			t[c] = clsMidL | clsMidN
		case c == '"' || c == '\r':
			// '"' joins Hebrew letters; CR joins a following LF. Neither
			// is a safe place to cut the text, though neither is a word.
		default:
			t[c] = clsBoundary
		}
	}
	return t
}()

// simpleState is the per-call scratch of SimpleTokenizer, pooled so that a
// call allocates nothing in the steady state.
type simpleState struct {
	term   []byte // the current term, lowercased
	region []byte // a copy of the non-ASCII region being segmented
	pos    int    // the next token's position
	emit   func(Token)

	// With TokenizeQueue, tokens go to q instead of emit; full empties
	// it and long takes the terms that do not fit in an empty one.
	q    *TermQueue
	full func()
	long func(Token)
}

var simplePool = sync.Pool{New: func() any { return new(simpleState) }}

// maxPooledBuf bounds the buffers kept in the pool, so that one huge document
// does not pin its memory forever.
const maxPooledBuf = 64 << 10

// Tokenize implements Tokenizer.
//
// A hand-written scanner segments ASCII text, and words whose other letters
// are two-byte Latin, Greek or Cyrillic letters (see fastLetters), exactly as
// UAX #29 does and several times faster than the general state machine.
// Around any other non-ASCII character, the scanner hands a region to the
// segment package: the region starts where the scanner's current word starts
// and ends just after an ASCII separator (space, most punctuation) that is
// followed by an ASCII byte. No UAX #29 rule reaches across such a separator,
// and the segment package's scanner restarts at every word boundary, so the
// pieces segment exactly as the whole text would.
func (SimpleTokenizer) Tokenize(text string, emit func(Token)) {
	st := simplePool.Get().(*simpleState)
	st.emit = emit
	st.run(text)
}

// TokenizeQueue implements QueueTokenizer: the tokens of Tokenize, written
// into q (ASCII words lowercased straight into it).
func (SimpleTokenizer) TokenizeQueue(text string, q *TermQueue, full func(), long func(Token)) {
	st := simplePool.Get().(*simpleState)
	st.q, st.full, st.long = q, full, long
	st.run(text)
}

// run tokenizes text for the callbacks set on st, fresh from simplePool,
// then drops them and hands st back to the pool.
func (st *simpleState) run(text string) {
	st.pos = 0
	st.scan(text)
	st.emit, st.q, st.full, st.long = nil, nil, nil, nil
	if cap(st.term) <= maxPooledBuf && cap(st.region) <= maxPooledBuf {
		simplePool.Put(st)
	}
}

func (st *simpleState) scan(text string) {
	n := len(text)
	i := 0
	for i < n {
		cls := asciiClass[text[i]]
		if cls&clsWord == 0 {
			switch {
			case isFastLetter(text, i):
				// a word starts here
			case cls&clsHigh != 0:
				i = st.fallback(text, i, i)
				continue
			default:
				i++ // punctuation, white space: never part of a word here
				continue
			}
		}
		// A word starts at i. Extend it over word characters, and over a
		// middle character that UAX #29 allows between two letters
		// (WB6/WB7) or two digits (WB11/WB12).
		j := i
		touchesHigh, nonASCII := false, false
		for {
			for j < n {
				if j+8 <= n {
					// Skip 8 word bytes at a time, or up to the first
					// byte that is not one.
					nw := nonWordBytes(load8(text, j))
					if nw == 0 {
						j += 8
						continue
					}
					j += bits.TrailingZeros64(nw) >> 3
				}
				if asciiClass[text[j]]&clsWord != 0 {
					j++
				} else if isFastLetter(text, j) {
					j += 2
					nonASCII = true
				} else {
					break
				}
			}
			if j == n {
				break
			}
			c := asciiClass[text[j]]
			if c&clsHigh != 0 {
				touchesHigh = true // a non-ASCII mark, letter... may continue the word
				break
			}
			if c&(clsMidL|clsMidN) == 0 || j+1 == n {
				break
			}
			next := asciiClass[text[j+1]]
			if isFastLetter(text, j+1) {
				next = clsLetter
			} else if next&clsHigh != 0 {
				touchesHigh = true // "a.ǅ": the word may go on past the '.'
				break
			}
			prev := asciiClass[text[j-1]]
			if prev&clsHigh != 0 {
				prev = clsLetter // the last byte of a fast letter
			}
			if c&clsMidL != 0 && prev&next&clsLetter != 0 ||
				c&clsMidN != 0 && prev&next&clsDigit != 0 {
				j++ // the word goes on after the middle character
				continue
			}
			break
		}
		if touchesHigh {
			// Let the general segmenter decide where this word ends,
			// starting from its first byte.
			i = st.fallback(text, i, j)
			continue
		}
		if nonASCII {
			st.term = appendLower(st.term[:0], text[i:j])
			st.emitOrQueue(st.term, i, j)
		} else if text[i] != '_' || !allUnderscore(text[i:j]) {
			st.emitLower(text, i, j)
		}
		i = j
	}
}

// fastLetters marks the runes below U+0500 that the ASCII scanner may treat
// like an ASCII letter: letters of the Latin, IPA, Greek and Cyrillic blocks
// that have the word-break property ALetter and no other role (not MidLetter,
// Extend, ...), all encoded in two bytes. TestFastLettersAreALetter checks
// each one against the segment package.
var fastLetters = func() (t [0x500]bool) {
	for r := rune(0xC0); r < 0x500; r++ {
		switch {
		case r >= 0x2B0 && r < 0x370, // modifier letters and combining marks
			r == 0x374, r == 0x375, r == 0x37A, r == 0x37E, r == 0x387, // Greek signs and punctuation
			r >= 0x482 && r <= 0x489: // Cyrillic sign and combining marks
			continue
		}
		t[r] = unicode.IsLetter(r)
	}
	return t
}()

// isFastLetter reports whether text[i:] starts with a rune in fastLetters.
func isFastLetter(text string, i int) bool {
	c := text[i]
	if c < 0xC3 || c > 0xD3 || i+1 >= len(text) {
		return false
	}
	c2 := text[i+1]
	if c2&0xC0 != 0x80 {
		return false
	}
	return fastLetters[rune(c&0x1F)<<6|rune(c2&0x3F)]
}

func allUnderscore(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			return false
		}
	}
	return true
}

// emitLower emits the ASCII word text[i:j], lowercased 8 bytes at a time
// into the queue (TokenizeQueue) or the state's term buffer: a word is
// copied and lowercased in one pass, with loads that may read past its end
// (within text) into the 8 bytes of slack past it.
func (st *simpleState) emitLower(text string, i, j int) {
	n := j - i
	// With TokenizeQueue, a word that fits goes straight into the queue
	// (k, at: its index and first byte), lowercased the same way: at+n <=
	// QueueBytes, so the 8-byte stores stay within its 8 spare bytes.
	q := st.q
	queued := q != nil && n <= QueueBytes
	var t []byte
	var k, at int
	if queued {
		k, at = q.N, q.Used
		if k == QueueTokens || n > QueueBytes-at {
			st.full()
			k, at = q.N, q.Used
		}
		t = q.Bytes[at : at+n+8]
	} else {
		if cap(st.term) < n+8 {
			// Stored only when it grows: a store per token would cost a
			// write barrier per token while the collector runs.
			st.term = make([]byte, 0, 2*n+8)
		}
		t = st.term[:n+8]
	}
	if n <= 8 && i+8 <= len(text) {
		// Most words: one load and one store, inline.
		binary.LittleEndian.PutUint64(t[:8], lowerASCII8(load8(text, i)))
	} else {
		lowerInto(t, text, i, n)
	}
	switch {
	case queued:
		q.Used = at + n
		q.Ends[k] = uint32(at + n)
		q.Positions[k] = QueuedPosition(st.pos)
		q.N = k + 1
		st.pos++
	case q != nil:
		st.queueTerm(t[:n], i, j) // longer than the queue
	default:
		st.emitTerm(t[:n], i, j)
	}
}

// lowerInto writes text[i:i+n] lowercased into t, which has 8 bytes of
// slack past n.
func lowerInto(t []byte, text string, i, n int) {
	k := 0
	for ; k < n && i+k+8 <= len(text); k += 8 {
		binary.LittleEndian.PutUint64(t[k:k+8], lowerASCII8(load8(text, i+k)))
	}
	for ; k < n; k++ {
		c := text[i+k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t[k] = c
	}
}

// load8 returns text[i:i+8] as a little-endian integer.
func load8(text string, i int) uint64 {
	w := text[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// nonWordBytes returns x with the high bit of each byte set if that byte
// is not an ASCII word byte (clsWord: a letter, a digit or '_'), and every
// other bit clear.
func nonWordBytes(x uint64) uint64 {
	const ones = 0x0101010101010101
	const high = 0x80 * ones
	low7 := x &^ high // no sum below carries across a byte
	folded := low7 | 0x20*ones
	letter := (folded + (0x80-'a')*ones) &^ (folded + (0x80-'z'-1)*ones)
	digit := (low7 + (0x80-'0')*ones) &^ (low7 + (0x80-'9'-1)*ones)
	t := low7 ^ '_'*ones
	underscore := ^((t + 0x7f*ones) | t) // high bit where t is 0
	word := (letter | digit | underscore) &^ x & high
	return ^word & high
}

// lowerASCII8 lowercases the ASCII capitals among the 8 bytes of x and
// leaves every other byte as it is.
func lowerASCII8(x uint64) uint64 {
	const ones = 0x0101010101010101
	low7 := x & (0x7f * ones) // no carry crosses a byte below
	atLeastA := low7 + (0x80-'A')*ones
	pastZ := low7 + (0x80-'Z'-1)*ones
	upper := atLeastA &^ pastZ &^ x & (0x80 * ones) // high bit of each capital
	return x | upper>>2                             // 0x80>>2 = 'a'-'A'
}

// fallback segments text[start:end'] with the segment package and returns
// end', the first index at or after from where the ASCII scanner may resume:
// just after an ASCII boundary byte that is followed by an ASCII byte (or the
// end of the text). start must be a word boundary.
func (st *simpleState) fallback(text string, start, from int) int {
	n := len(text)
	end := n
	for k := from; k < n; k++ {
		if asciiClass[text[k]]&clsBoundary != 0 && (k+1 == n || text[k+1] < utf8.RuneSelf) {
			end = k + 1
			break
		}
	}
	st.region = append(st.region[:0], text[start:end]...)
	st.segmentRegion(st.region, start)
	return end
}

// segmentRegion segments buf, treating each invalid UTF-8 sequence as a
// separator (as if it were U+FFFD, which UAX #29 never joins to a word).
// buf[0] is the byte at offset off of the tokenized text.
func (st *simpleState) segmentRegion(buf []byte, off int) {
	for len(buf) > 0 {
		valid := len(buf)
		if !utf8.Valid(buf) {
			valid = 0
			for valid < len(buf) {
				r, size := utf8.DecodeRune(buf[valid:])
				if r == utf8.RuneError && size == 1 {
					break
				}
				valid += size
			}
		}
		st.segmentValid(buf[:valid:valid], off)
		if valid == len(buf) {
			return
		}
		buf = buf[valid+1:] // skip one invalid byte
		off += valid + 1
	}
}

// segmentValid runs the UAX #29 segmenter over valid UTF-8 and emits its
// words. b[0] is the byte at offset off of the tokenized text.
func (st *simpleState) segmentValid(b []byte, off int) {
	for len(b) > 0 {
		seg := segment.NewWordSegmenterDirect(b)
		done := 0
		for seg.Segment() {
			tok := seg.Bytes()
			// b has len == cap, so a token's capacity tells where it ends.
			done = len(b) - cap(tok) + len(tok)
			if seg.Type() != segment.None && len(tok) > 0 && !connectorsOnly(tok) {
				st.term = appendLower(st.term[:0], tok)
				st.emitOrQueue(st.term, off+done-len(tok), off+done)
			}
		}
		if done >= len(b) {
			return
		}
		// The segmenter gave up before the end (it does not on valid UTF-8,
		// but a parse error must not lose the rest of the text): skip one
		// rune and go on.
		_, size := utf8.DecodeRune(b[done:])
		b = b[done+size:]
		off += done + size
	}
}

// connectorsOnly reports whether tok is made only of characters with the
// ExtendNumLet word-break property (connector punctuation such as '_', and
// U+202F): UAX #29 makes such runs a "word", but they hold no letter or digit.
func connectorsOnly(tok []byte) bool {
	for len(tok) > 0 {
		r, size := utf8.DecodeRune(tok)
		if r != '\u202f' && !unicode.Is(unicode.Pc, r) {
			return false
		}
		tok = tok[size:]
	}
	return true
}

// emitTerm emits term as the next token, from text[start:end].
// With TokenizeQueue, emitOrQueue calls queueTerm instead.
func (st *simpleState) emitTerm(term []byte, start, end int) {
	st.emit(Token{Term: term, Position: st.pos, Start: start, End: end})
	st.pos++
}

// emitOrQueue is emitTerm, or queueTerm with TokenizeQueue.
func (st *simpleState) emitOrQueue(term []byte, start, end int) {
	if st.q != nil {
		st.queueTerm(term, start, end)
		return
	}
	st.emitTerm(term, start, end)
}

// queueTerm is emitTerm for TokenizeQueue.
func (st *simpleState) queueTerm(term []byte, start, end int) {
	q := st.q
	if !q.Push(term, st.pos) {
		if len(term) <= QueueBytes {
			st.full()
			q.Push(term, st.pos) // q is empty now: it fits
		} else {
			if q.N > 0 {
				st.full()
			}
			st.long(Token{Term: term, Position: st.pos, Start: start, End: end})
		}
	}
	st.pos++
}

// appendLower appends the lowercase form of s (UTF-8) to dst. ASCII bytes take
// a fast path; other runes go through unicode.ToLower, and invalid sequences
// become U+FFFD so that the result is always valid UTF-8.
func appendLower[S string | []byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			dst = append(dst, b)
			i++
			continue
		}
		r, size := decodeRune(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	return dst
}

// decodeRune is utf8.DecodeRune for strings and byte slices alike.
func decodeRune[S string | []byte](s S) (rune, int) {
	switch s := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(s)
	case []byte:
		return utf8.DecodeRune(s)
	}
	panic("unreachable")
}
