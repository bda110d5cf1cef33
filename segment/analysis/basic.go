package analysis

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// RawTokenizer emits the whole text as one token (nothing for empty text),
// for identifiers, tags and other values matched exactly. With LowerCase set
// the token is lowercased, for case-insensitive exact matching. Invalid UTF-8
// bytes become U+FFFD. The zero value is the "raw" tokenizer; safe for
// concurrent use.
type RawTokenizer struct {
	// LowerCase lowercases the token (Unicode simple case mapping).
	LowerCase bool
}

// Tokenize implements Tokenizer.
func (t RawTokenizer) Tokenize(text string, emit func(Token)) {
	if text == "" {
		return
	}
	buf := getBuf()
	*buf = appendValid((*buf)[:0], text)
	if t.LowerCase {
		if n := lowerASCIIPrefix(*buf); n < len(*buf) {
			// Lowercasing may change the length: rebuild the non-ASCII
			// tail in a second buffer.
			scratch := getBuf()
			*scratch = appendLower(append((*scratch)[:0], (*buf)[:n]...), (*buf)[n:])
			buf, scratch = scratch, buf
			putBuf(scratch)
		}
	}
	emit(Token{Term: *buf, Position: 0, Start: 0, End: len(text)})
	putBuf(buf)
}

// WhitespaceTokenizer emits the runs of text between Unicode white space
// (unicode.IsSpace), unchanged: no lowercasing, punctuation kept. Invalid
// UTF-8 bytes become U+FFFD. The zero value is ready to use and safe for
// concurrent use.
type WhitespaceTokenizer struct{}

// asciiSpace marks the ASCII bytes that unicode.IsSpace accepts.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// Tokenize implements Tokenizer.
func (WhitespaceTokenizer) Tokenize(text string, emit func(Token)) {
	buf := getBuf()
	pos, start := 0, -1
	flush := func(end int) {
		*buf = appendValid((*buf)[:0], text[start:end])
		emit(Token{Term: *buf, Position: pos, Start: start, End: end})
		pos++
		start = -1
	}
	for i := 0; i < len(text); {
		c := text[i]
		size, space := 1, false
		if c < utf8.RuneSelf {
			space = asciiSpace[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(text[i:])
			space = unicode.IsSpace(r)
		}
		if space {
			if start >= 0 {
				flush(i)
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	if start >= 0 {
		flush(len(text))
	}
	putBuf(buf)
}

// appendValid appends s to dst, each byte of an invalid UTF-8 sequence
// replaced by U+FFFD.
func appendValid(dst []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(dst, s...)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// bufPool holds term buffers of the tokenizers and filters that need one
// buffer per call or per token.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		bufPool.Put(b)
	}
}
