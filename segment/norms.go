package segment

import "math"

// Field norms (the token count of a text field in a document) are stored as
// one byte per document, like Lucene's SmallFloat: counts 0..39 exactly;
// above that each code is about 9% (1/11) larger than the previous one, so
// a decoded norm is the largest table value not above the true count and
// at most 9% below it. Code 255 covers everything from about 4.2e9 up.
var normTable = func() (t [256]uint32) {
	for i := range t {
		switch {
		case i < 40:
			t[i] = uint32(i)
		default:
			prev := uint64(t[i-1])
			next := prev + max(1, prev/11)
			t[i] = uint32(min(next, math.MaxUint32-uint64(255-i))) // strictly increasing to the top
		}
	}
	return t
}()

// normCode returns the code of a token count: the largest code whose
// decoded value is <= n.
func normCode(n uint32) uint8 {
	if n < 40 {
		return uint8(n)
	}
	lo, hi := 39, 255 // normTable[lo] <= n; find the largest such code
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if normTable[mid] <= n {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return uint8(lo)
}

// NormValue returns the token count a stored norm code stands for.
func NormValue(code uint8) uint32 { return normTable[code] }

// QuantizeNorm returns the value FieldNorm reports for a field of n tokens.
func QuantizeNorm(n uint32) uint32 { return normTable[normCode(n)] }
