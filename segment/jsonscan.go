package segment

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// decodeJSONFast is DecodeJSON's fast path: a scanner over one line that
// knows only what a document may hold (an object of scalars, arrays of
// scalars, and nested objects or arrays of objects to flatten). It takes
// the document, its values and the bytes of its strings from sl. It gives
// up (ok false) at the first thing it does not accept, error or not
// (invalid UTF-8 too), and DecodeJSON then runs the encoding/json decoder,
// which names the problem; so what the fast path accepts must be exactly
// what that decoder accepts, with the same result (FuzzDecodeJSONFast
// checks both).
func (s *Schema) decodeJSONFast(line []byte, sl *docSlab) (doc *Document, ok bool) {
	sl.reserve(s, len(line))
	// Unescaping only shrinks a string, so the strings of the line fit in
	// len(line) bytes and out never moves: each value's string can alias
	// its own stretch of it.
	sc := jsonScanner{data: line, out: sl.strs[len(sl.strs):len(sl.strs)], schema: s}
	doc = &sl.docs[0]
	doc.Values = sl.vals[:0]
	sc.skipSpace()
	if !sc.consume('{') || !sc.object(doc, 0) || !sc.atEnd() {
		doc.Values = nil
		return nil, false
	}
	sl.take(doc, len(sc.out))
	return doc, true
}

// docSlab hands out documents, values and string bytes from chunks, so
// that decoding many documents costs a few allocations a chunk rather than
// three a document. Unless reuse is set, a chunk is never reused: the
// documents carved from it keep it alive as long as any of them is.
type docSlab struct {
	docs []Document   // free documents of the current chunk
	vals []FieldValue // free values of the current chunk
	strs []byte       // the current chunk of string bytes; cap is its end

	// Chunk sizes; 0 sizes each chunk for the one document at hand
	// (DecodeJSON's single document, in three allocations as before).
	docChunk, valChunk, strChunk int

	// With reuse, the chunks carved from since the last restart, to be
	// carved from again after the next (JSONDecoder.Reuse), and how many
	// of each are in use.
	reuse                        bool
	docChunks                    [][]Document
	valChunks                    [][]FieldValue
	strChunks                    [][]byte
	docsUsed, valsUsed, strsUsed int
}

// reserve makes room for a document decoded from a line of n bytes.
func (sl *docSlab) reserve(s *Schema, n int) {
	if len(sl.docs) == 0 {
		sl.docs = nextChunk(sl.reuse, &sl.docChunks, &sl.docsUsed, max(sl.docChunk, 1))
	}
	if want := min(len(s.fields), 8); len(sl.vals) < want {
		sl.vals = nextChunk(sl.reuse, &sl.valChunks, &sl.valsUsed, max(sl.valChunk, want))
	}
	if cap(sl.strs)-len(sl.strs) < n {
		if n > sl.strChunk {
			sl.strs = make([]byte, 0, n) // a huge line's, not kept
		} else {
			sl.strs = nextChunk(sl.reuse, &sl.strChunks, &sl.strsUsed, sl.strChunk)[:0]
		}
	}
}

// nextChunk returns the next chunk of size elements: with reuse, the next
// of chunks not in use, else a new one (kept in chunks with reuse).
func nextChunk[T any](reuse bool, chunks *[][]T, used *int, size int) []T {
	if !reuse {
		return make([]T, size)
	}
	for *used < len(*chunks) {
		c := (*chunks)[*used]
		*used++
		if len(c) >= size {
			return c
		}
	}
	c := make([]T, size)
	*chunks = append(*chunks, c)
	*used = len(*chunks)
	return c
}

// take marks doc, its values and strBytes string bytes as used. Values
// that outgrew the chunk were reallocated by append and are left alone.
func (sl *docSlab) take(doc *Document, strBytes int) {
	sl.docs = sl.docs[1:]
	sl.strs = sl.strs[:len(sl.strs)+strBytes]
	n := len(doc.Values)
	switch {
	case n == 0:
		doc.Values = nil // as encoding/json's path leaves it
	case unsafe.SliceData(doc.Values) == unsafe.SliceData(sl.vals):
		doc.Values = doc.Values[:n:n] // an append by the caller must not reach the next document's
		sl.vals = sl.vals[n:]
	}
}

// restart makes the chunks of a reusing slab free again, all of them.
func (sl *docSlab) restart() {
	sl.docs, sl.vals, sl.strs = nil, nil, nil
	sl.docsUsed, sl.valsUsed, sl.strsUsed = 0, 0, 0
}

// JSONDecoder decodes JSON documents as Schema.DecodeJSON does, for a
// caller that decodes many: the documents, their values and their strings
// are carved from chunks of memory it allocates as it goes, not allocated
// one by one, and its scanner copies each string once. The documents share
// no memory with the lines, nor with each other's values; a chunk is freed
// once every document in it is unreachable, or, with Reuse, carved from
// again. A JSONDecoder is not safe for concurrent use: give each goroutine
// its own.
type JSONDecoder struct {
	schema *Schema
	slab   docSlab
}

// NewJSONDecoder returns a decoder of documents of s.
func (s *Schema) NewJSONDecoder() *JSONDecoder {
	return &JSONDecoder{schema: s, slab: docSlab{docChunk: 128, valChunk: 512, strChunk: 256 << 10}}
}

// Decode decodes one JSON object into a document; see Schema.DecodeJSON.
func (d *JSONDecoder) Decode(line []byte) (*Document, error) {
	if doc, ok := d.schema.decodeJSONFast(line, &d.slab); ok {
		return doc, nil
	}
	return d.schema.decodeJSONSlow(line)
}

// Reuse makes the decoder carve the next documents from the memory of
// those it decoded since the last Reuse, overwriting them, rather than
// allocate more (the first call starts keeping that memory). Call it only
// when none of them, nor their values or strings, is in use any more: a
// caller that decodes batches of lines and hands their documents to a
// Writer (which copies what it keeps before AddDocuments returns) can so
// decode each batch into the same memory, which the collector then
// neither allocates nor scans again.
func (d *JSONDecoder) Reuse() {
	d.slab.reuse = true
	d.slab.restart()
}

// maxFastDepth is how deep the fast path follows nested objects before it
// leaves the line to encoding/json (which has its own, larger limit).
const maxFastDepth = 16

// object scans the members of an object whose '{' was consumed, and its
// '}'. Field names are sc.path[:plen] + key: nested objects flatten to
// dotted paths, as decodeJSONSlow does.
func (sc *jsonScanner) object(doc *Document, plen int) bool {
	sc.skipSpace()
	if sc.consume('}') {
		return true
	}
	for {
		sc.skipSpace()
		mark := len(sc.out)
		key, ok := sc.string()
		if !ok {
			return false
		}
		name := key
		if plen > 0 {
			sc.path = append(sc.path[:plen], key...)
			name = sc.path
		}
		fi, known := sc.schema.byName[string(name)]
		if !known && plen == 0 {
			sc.path = append(sc.path[:0], key...) // the prefix of nested names
		}
		sc.out = sc.out[:mark] // the key is not kept
		sc.skipSpace()
		if !sc.consume(':') {
			return false
		}
		sc.skipSpace()
		if known {
			if !sc.fieldValue(doc, &sc.schema.fields[fi]) {
				return false
			}
		} else if !sc.nested(doc) {
			return false
		}
		sc.skipSpace()
		if sc.consume('}') {
			return true
		}
		if !sc.consume(',') {
			return false
		}
	}
}

// fieldValue scans the value of a known field: a scalar or an array of
// scalars.
func (sc *jsonScanner) fieldValue(doc *Document, f *Field) bool {
	if !sc.consume('[') {
		return sc.value(doc, f)
	}
	sc.skipSpace()
	if sc.consume(']') {
		return true
	}
	for {
		sc.skipSpace()
		if !sc.value(doc, f) {
			return false
		}
		sc.skipSpace()
		if sc.consume(']') {
			return true
		}
		if !sc.consume(',') {
			return false
		}
	}
}

// nested scans the value of a name that is not a field, sc.path: an object
// or an array of objects, whose members are named sc.path + "." + key.
func (sc *jsonScanner) nested(doc *Document) bool {
	if sc.depth >= maxFastDepth {
		return false
	}
	sc.depth++
	defer func() { sc.depth-- }()
	sc.path = append(sc.path, '.')
	plen := len(sc.path)
	ignore := sc.schema.unknown == IgnoreUnknown
	if sc.consume('{') {
		return sc.object(doc, plen)
	}
	if !sc.consume('[') {
		return ignore && sc.skipValue() // a scalar of an unknown field
	}
	sc.skipSpace()
	if sc.consume(']') {
		return true
	}
	for {
		sc.skipSpace()
		if sc.consume('{') {
			if !sc.object(doc, plen) {
				return false
			}
		} else if !ignore || !sc.skipValue() {
			return false
		}
		sc.skipSpace()
		if sc.consume(']') {
			return true
		}
		if !sc.consume(',') {
			return false
		}
	}
}

// jsonScanner walks one line.
type jsonScanner struct {
	data   []byte
	i      int
	out    []byte // decoded strings, back to back; never reallocated
	schema *Schema
	path   []byte // the dotted name of the member being scanned
	depth  int    // nesting of objects under names that are not fields
}

func (sc *jsonScanner) skipSpace() {
	for sc.i < len(sc.data) {
		switch sc.data[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *jsonScanner) consume(c byte) bool {
	if sc.i < len(sc.data) && sc.data[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

func (sc *jsonScanner) atEnd() bool {
	sc.skipSpace()
	return sc.i == len(sc.data)
}

// value decodes one scalar for field f into doc.
func (sc *jsonScanner) value(doc *Document, f *Field) bool {
	if sc.i >= len(sc.data) {
		return false
	}
	switch c := sc.data[sc.i]; {
	case c == '"':
		if f.Type != TypeText && f.Type != TypeKeyword && f.Type != TypeBytes && f.Type != TypeDate {
			return false
		}
		b, ok := sc.string()
		if !ok {
			return false
		}
		if f.Type == TypeBytes || f.Type == TypeDate {
			ok = appendJSONToken(doc, f, string(b), false) == nil
			sc.out = sc.out[:len(sc.out)-len(b)]
			return ok
		}
		doc.AddString(f.Name, unsafe.String(unsafe.SliceData(b), len(b)))
		return true
	case c == 'n':
		if len(sc.data)-sc.i >= 4 && string(sc.data[sc.i:sc.i+4]) == "null" {
			sc.i += 4
			return true
		}
		return false
	case c == 't' || c == 'f':
		if f.Type != TypeBool {
			return false
		}
		for _, lit := range [...]string{"true", "false"} {
			if len(sc.data)-sc.i >= len(lit) && string(sc.data[sc.i:sc.i+len(lit)]) == lit {
				sc.i += len(lit)
				doc.AddBool(f.Name, lit == "true")
				return true
			}
		}
		return false
	case c == '-' || c >= '0' && c <= '9':
		start := sc.i
		if !sc.number() {
			return false
		}
		// The number's text is read, not kept: no copy of it.
		num := sc.data[start:sc.i]
		ok, err := appendJSONNumber(doc, f, unsafe.String(unsafe.SliceData(num), len(num)))
		return ok && err == nil
	}
	return false // objects, nested arrays: wrong types, or not JSON
}

// skipValue scans any JSON value and keeps nothing of it (the value of an
// ignored unknown field).
func (sc *jsonScanner) skipValue() bool {
	if sc.i >= len(sc.data) {
		return false
	}
	switch c := sc.data[sc.i]; {
	case c == '"':
		mark := len(sc.out)
		_, ok := sc.string()
		sc.out = sc.out[:mark]
		return ok
	case c == '-' || c >= '0' && c <= '9':
		return sc.number()
	case c == '[' || c == '{':
		if sc.depth >= maxFastDepth {
			return false
		}
		sc.depth++
		defer func() { sc.depth-- }()
		sc.i++
		end := byte(']')
		if c == '{' {
			end = '}'
		}
		sc.skipSpace()
		if sc.consume(end) {
			return true
		}
		for {
			sc.skipSpace()
			if c == '{' {
				mark := len(sc.out)
				_, ok := sc.string()
				sc.out = sc.out[:mark]
				sc.skipSpace()
				if !ok || !sc.consume(':') {
					return false
				}
				sc.skipSpace()
			}
			if !sc.skipValue() {
				return false
			}
			sc.skipSpace()
			if sc.consume(end) {
				return true
			}
			if !sc.consume(',') {
				return false
			}
		}
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(sc.data)-sc.i >= len(lit) && string(sc.data[sc.i:sc.i+len(lit)]) == lit {
			sc.i += len(lit)
			return true
		}
	}
	return false
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *jsonScanner) number() bool {
	d := sc.data
	sc.consume('-')
	switch {
	case sc.consume('0'):
	case sc.i < len(d) && d[sc.i] >= '1' && d[sc.i] <= '9':
		sc.digits()
	default:
		return false
	}
	if sc.consume('.') && sc.digits() == 0 {
		return false
	}
	if sc.consume('e') || sc.consume('E') {
		if !sc.consume('+') {
			sc.consume('-')
		}
		if sc.digits() == 0 {
			return false
		}
	}
	return true
}

func (sc *jsonScanner) digits() int {
	start := sc.i
	for sc.i < len(sc.data) && sc.data[sc.i] >= '0' && sc.data[sc.i] <= '9' {
		sc.i++
	}
	return sc.i - start
}

// string scans a JSON string at sc.i and appends its decoded bytes to
// sc.out, returning them. It decodes escapes as encoding/json does: a \u
// escape of a lone surrogate becomes U+FFFD. It gives up on invalid UTF-8,
// so that the fast path needs no pass of its own to check it (outside
// strings, it accepts only ASCII).
func (sc *jsonScanner) string() ([]byte, bool) {
	if !sc.consume('"') {
		return nil, false
	}
	d := sc.data
	start := len(sc.out)
	out := sc.out
	i := sc.i
	for i < len(d) {
		// Copy the run up to the next quote, backslash, control byte or
		// non-ASCII byte, eight bytes at a time while there are eight.
		j := i
		for j+8 <= len(d) {
			if m := specialBytes(binary.LittleEndian.Uint64(d[j:])); m != 0 {
				j += bits.TrailingZeros64(m) / 8
				break
			}
			j += 8
		}
		for j < len(d) && d[j] != '"' && d[j] != '\\' && d[j] >= 0x20 && d[j] < utf8.RuneSelf {
			j++
		}
		out = append(out, d[i:j]...)
		i = j
		if i >= len(d) || d[i] < 0x20 {
			return nil, false
		}
		if d[i] >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, false // invalid UTF-8: the slow path says where
			}
			out = append(out, d[i:i+size]...)
			i += size
			continue
		}
		if d[i] == '"' {
			sc.i, sc.out = i+1, out
			return out[start:], true
		}
		if i+1 >= len(d) {
			return nil, false
		}
		switch e := d[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(d[i+2:])
			if r < 0 {
				return nil, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2 := hex4WithU(d[i:]); r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, false
		}
		i += 2
	}
	return nil, false
}

// specialBytes marks (with its high bit) each byte of the eight in w, read
// little-endian, that ends a plain run of a JSON string: a quote, a
// backslash, a control byte or a non-ASCII byte. Marks above the lowest
// may be spurious (a borrow carries into the next byte), so only the
// lowest is to be trusted.
func specialBytes(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := w ^ (ones * '"')
	backslash := w ^ (ones * '\\')
	return ((quote-ones) & ^quote | (backslash-ones) & ^backslash | (w-ones*0x20) & ^w | w) & highs
}

// hex4 parses the four hex digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// hex4WithU parses a \uXXXX escape at the start of b, or returns -1.
func hex4WithU(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	return hex4(b[2:])
}
