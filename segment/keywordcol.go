package segment

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// This file holds the keyword columns of fast keyword fields (see
// FORMAT.md, fast, "keyword section"): per document, the ordinals of its
// values in the field's sorted term dictionary, so that a terms
// aggregation counts by ordinal and reads no stored field.
//
// The columns are derived from the postings as they are written: a term's
// ordinal is its rank in the field's dictionary, and its documents are its
// postings. Build and Merge write postings the same way, so a merged
// segment's columns are the ones Build would write, byte for byte.

// KeywordColumn is the keyword column of one fast keyword field of a
// segment. It is safe for concurrent use.
type KeywordColumn struct {
	file     string
	numDocs  uint32
	numTerms uint32
	starts   []byte // numDocs+1 u32: doc d's values are starts[d] .. starts[d+1]
	width    uint8
	data     []byte // the ordinals, packed, then 8 zero bytes
	ends     []byte // numTerms+1 u32: term o is terms[ends[o] .. ends[o+1]]
	terms    []byte
}

// NumTerms is the number of distinct values of the field in the segment:
// ordinals are 0 .. NumTerms-1, in the byte order of the values.
func (c *KeywordColumn) NumTerms() uint32 { return c.numTerms }

// OrdinalBound is a bound on every ordinal the column holds, even a
// corrupt one: a counting array of this length is never indexed past its
// end. It is below 2*NumTerms+1.
func (c *KeywordColumn) OrdinalBound() uint32 { return 1 << c.width }

// span returns doc's values as indexes into data, or ok false for a doc
// out of range or a corrupt column.
func (c *KeywordColumn) span(doc uint32) (start, end uint32, ok bool) {
	if doc >= c.numDocs {
		return 0, 0, false
	}
	start = binary.LittleEndian.Uint32(c.starts[doc*4:])
	end = binary.LittleEndian.Uint32(c.starts[doc*4+4:])
	if start > end || end > binary.LittleEndian.Uint32(c.starts[c.numDocs*4:]) {
		return 0, 0, false
	}
	return start, end, true
}

// Ords appends doc's ordinals, in increasing order, to buf.
func (c *KeywordColumn) Ords(doc uint32, buf []uint32) ([]uint32, error) {
	start, end, ok := c.span(doc)
	if !ok {
		return buf, c.spanError(doc)
	}
	for i := start; i < end; i++ {
		buf = append(buf, uint32(getBits(c.data, uint64(i)*uint64(c.width), c.width)))
	}
	return buf, nil
}

// CountOrds adds one to counts[o] for each ordinal o of each document of
// docs. counts must hold OrdinalBound entries.
func (c *KeywordColumn) CountOrds(docs []uint32, counts []int) error {
	if uint64(len(counts)) < uint64(c.OrdinalBound()) {
		return fmt.Errorf("segment: %d counters for ordinals below %d", len(counts), c.OrdinalBound())
	}
	w := uint64(c.width)
	if w == 0 { // one term (or none): every value is ordinal 0
		for _, doc := range docs {
			start, end, ok := c.span(doc)
			if !ok {
				return c.spanError(doc)
			}
			counts[0] += int(end - start)
		}
		return nil
	}
	for _, doc := range docs {
		start, end, ok := c.span(doc)
		if !ok {
			return c.spanError(doc)
		}
		for i := start; i < end; i++ {
			counts[getBits(c.data, uint64(i)*w, c.width)]++
		}
	}
	return nil
}

func (c *KeywordColumn) spanError(doc uint32) error {
	if doc >= c.numDocs {
		return fmt.Errorf("segment: doc %d out of range (segment has %d)", doc, c.numDocs)
	}
	return corrupt(c.file, "keyword column: values of doc %d out of bounds", doc)
}

// Term returns the value with ordinal ord. The slice must not be modified.
func (c *KeywordColumn) Term(ord uint32) ([]byte, error) {
	if ord >= c.numTerms {
		return nil, corrupt(c.file, "keyword column: ordinal %d of %d terms", ord, c.numTerms)
	}
	start := binary.LittleEndian.Uint32(c.ends[ord*4:])
	end := binary.LittleEndian.Uint32(c.ends[ord*4+4:])
	if start > end || end > uint32(len(c.terms)) {
		return nil, corrupt(c.file, "keyword column: term %d at %d..%d, beyond the dictionary", ord, start, end)
	}
	return c.terms[start:end:end], nil
}

// Keywords returns the keyword column of a fast keyword field.
func (r *Reader) Keywords(field string) (*KeywordColumn, error) {
	ord := r.core.schema.FieldIndex(field)
	if ord < 0 {
		return nil, fmt.Errorf("segment: unknown field %q", field)
	}
	if r.core.keywords == nil || r.core.keywords[ord] == nil {
		return nil, fmt.Errorf("segment: field %q is not a fast keyword field", field)
	}
	return r.core.keywords[ord], nil
}

// hasKeywordColumns reports whether the schema has a fast keyword field,
// which is when the fast file has a keyword section.
func (s *Schema) hasKeywordColumns() bool {
	for _, f := range s.fields {
		if f.FastKeyword() {
			return true
		}
	}
	return false
}

// openKeywords reads the keyword section, which follows the key section
// when the schema has a fast keyword field.
func (c *readerCore) openKeywords(d *decoder) error {
	if !c.built.hasKeywordColumns() {
		return nil
	}
	n := d.uvarint()
	if d.bad || n > uint64(len(c.fields)) {
		return corrupt(d.file, "bad keyword section")
	}
	for i := uint64(0); i < n; i++ {
		fileOrd, numDocs, numTerms := d.uvarint(), d.uvarint(), d.uvarint()
		ord := c.fileOrd(fileOrd)
		if d.bad || ord >= uint64(len(c.fields)) || !c.fields[ord].field.FastKeyword() || c.keywords[ord] != nil {
			return corrupt(d.file, "keyword column for field ordinal %d, which is not a fast keyword field", ord)
		}
		f := c.fields[ord].field
		if numDocs != uint64(c.numDocs) || numTerms >= math.MaxUint32 {
			return corrupt(d.file, "keyword column of field %q: %d docs, %d terms; want %d docs", f.Name, numDocs, numTerms, c.numDocs)
		}
		col := &KeywordColumn{file: d.file, numDocs: c.numDocs, numTerms: uint32(numTerms)}
		col.starts = d.bytes(int(numDocs+1) * 4)
		col.width = d.byte()
		plen := d.length()
		col.data = d.bytes(plen)
		col.ends = d.bytes(int(numTerms+1) * 4)
		if d.bad {
			return corrupt(d.file, "truncated keyword column of field %q", f.Name)
		}
		numValues := uint64(binary.LittleEndian.Uint32(col.starts[numDocs*4:]))
		if col.width != ordinalWidth(col.numTerms) || uint64(plen) != (numValues*uint64(col.width)+7)/8+8 {
			return corrupt(d.file, "keyword column of field %q: %d bytes for %d values of %d bits", f.Name, plen, numValues, col.width)
		}
		if binary.LittleEndian.Uint32(col.starts) != 0 || binary.LittleEndian.Uint32(col.ends) != 0 {
			return corrupt(d.file, "keyword column of field %q does not start at 0", f.Name)
		}
		col.terms = d.bytes(int(binary.LittleEndian.Uint32(col.ends[numTerms*4:])))
		if d.bad {
			return corrupt(d.file, "truncated keyword column of field %q", f.Name)
		}
		c.keywords[ord] = col
	}
	for i, rf := range c.fields {
		if rf.field.FastKeyword() && c.keywords[i] == nil {
			return corrupt(d.file, "no keyword column for fast keyword field %q", rf.field.Name)
		}
	}
	return nil
}

// ordinalWidth is the bits per ordinal of a column of n terms.
func ordinalWidth(n uint32) uint8 {
	if n <= 1 {
		return 0
	}
	return uint8(bits.Len32(n - 1))
}

// keywordCollector gathers the keyword columns while the term dictionary
// and postings are written: dictWriter tells it where each field and term
// starts, postingsWriter each term's documents. A nil collector gathers
// nothing.
type keywordCollector struct {
	schema  *Schema
	numDocs uint32
	cols    []*keywordColumnData // in field order
	cur     *keywordColumnData   // the field being written, nil if it has no column
	pending []uint32             // docs of the current term
}

// keywordColumnData is one column being gathered.
type keywordColumnData struct {
	ord   int
	docs  []uint32 // one entry per posting, in term order
	ords  []uint32 // the posting's term ordinal
	terms []byte   // the terms back to back
	ends  []uint32 // ends[o]: end of term o in terms
}

// newKeywordCollector returns a collector for the schema's fast keyword
// fields, or nil if it has none.
func newKeywordCollector(s *Schema, numDocs uint32) *keywordCollector {
	if !s.hasKeywordColumns() {
		return nil
	}
	return &keywordCollector{schema: s, numDocs: numDocs}
}

func (k *keywordCollector) startField(ord int) {
	if k == nil {
		return
	}
	k.cur, k.pending = nil, k.pending[:0]
	if k.schema.fields[ord].FastKeyword() {
		k.cur = &keywordColumnData{ord: ord}
		k.cols = append(k.cols, k.cur)
	}
}

// collecting reports whether the current field's documents are gathered.
func (k *keywordCollector) collecting() bool { return k != nil && k.cur != nil }

func (k *keywordCollector) addDoc(doc uint32) {
	if k != nil && k.cur != nil {
		k.pending = append(k.pending, doc)
	}
}

// addTerm ends a term: its ordinal is the number of terms before it.
func (k *keywordCollector) addTerm(term []byte) {
	if k == nil || k.cur == nil {
		return
	}
	c := k.cur
	ord := uint32(len(c.ends))
	for _, d := range k.pending {
		c.docs = append(c.docs, d)
		c.ords = append(c.ords, ord)
	}
	k.pending = k.pending[:0]
	c.terms = append(c.terms, term...)
	c.ends = append(c.ends, uint32(len(c.terms)))
}

// writeKeywordSection writes the keyword section (see FORMAT.md, fast)
// after the key section, when the schema has fast keyword fields.
func writeKeywordSection(w io.Writer, k *keywordCollector) error {
	if k == nil {
		return nil
	}
	if _, err := w.Write(binary.AppendUvarint(nil, uint64(len(k.cols)))); err != nil {
		return err
	}
	for _, c := range k.cols {
		if err := writeKeywordColumn(w, c, k.numDocs); err != nil {
			return err
		}
	}
	k.cols = nil
	return nil
}

func writeKeywordColumn(w io.Writer, c *keywordColumnData, numDocs uint32) error {
	if uint64(len(c.docs)) > math.MaxUint32 || uint64(len(c.terms)) > math.MaxUint32 {
		return fmt.Errorf("segment: keyword column of field ordinal %d exceeds 2^32 values or bytes", c.ord)
	}
	// starts by counting the values of each doc; then the ordinals in doc
	// order (within a doc in term order, so increasing).
	starts := make([]uint32, numDocs+1)
	for _, d := range c.docs {
		if d >= numDocs {
			return fmt.Errorf("segment: internal error: keyword column value for doc %d of %d", d, numDocs)
		}
		starts[d+1]++
	}
	for i := 1; i < len(starts); i++ {
		starts[i] += starts[i-1]
	}
	vals := make([]uint64, len(c.docs))
	next := append([]uint32(nil), starts[:numDocs]...)
	for i, d := range c.docs {
		vals[next[d]] = uint64(c.ords[i])
		next[d]++
	}
	numTerms := uint32(len(c.ends))
	width := ordinalWidth(numTerms)
	buf := binary.AppendUvarint(nil, uint64(c.ord))
	buf = binary.AppendUvarint(buf, uint64(numDocs))
	buf = binary.AppendUvarint(buf, uint64(numTerms))
	for _, s := range starts {
		buf = binary.LittleEndian.AppendUint32(buf, s)
	}
	buf = append(buf, width)
	buf = binary.AppendUvarint(buf, uint64((len(vals)*int(width)+7)/8+8))
	buf = appendPacked64(buf, vals, width)
	buf = append(buf, make([]byte, 8)...) // padding for 8-byte loads
	buf = binary.LittleEndian.AppendUint32(buf, 0)
	for _, e := range c.ends {
		buf = binary.LittleEndian.AppendUint32(buf, e)
	}
	buf = append(buf, c.terms...)
	_, err := w.Write(buf)
	return err
}
