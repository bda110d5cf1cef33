package analysis

import "unicode/utf8"

// LowerCase returns a Filter that lowercases each term with Unicode's simple
// case mapping (unicode.ToLower per rune; "Straße" stays "straße"). ASCII
// terms are lowercased in place; invalid UTF-8 bytes become U+FFFD.
func LowerCase() Filter { return lowerCase{} }

type lowerCase struct{}

func (lowerCase) Filter(tok Token, emit func(Token)) {
	n := lowerASCIIPrefix(tok.Term)
	if n == len(tok.Term) {
		emit(tok)
		return
	}
	// Lowercasing may change the length ("Ⱥ" is 2 bytes, "ⱥ" 3), so a
	// non-ASCII term is rebuilt in a buffer of our own.
	scratch := getBuf()
	*scratch = appendLower(append((*scratch)[:0], tok.Term[:n]...), tok.Term[n:])
	tok.Term = *scratch
	emit(tok)
	putBuf(scratch)
}

// lowerASCIIPrefix lowercases t in place up to its first non-ASCII byte and
// returns that byte's index (len(t) if t is all ASCII).
func lowerASCIIPrefix(t []byte) int {
	for i, b := range t {
		if b >= utf8.RuneSelf {
			return i
		}
		if 'A' <= b && b <= 'Z' {
			t[i] = b + ('a' - 'A')
		}
	}
	return len(t)
}
