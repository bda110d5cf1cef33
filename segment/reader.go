package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/vellum"
	"github.com/hermes-search/hermes-go/storage"
)

// readerField is one field's part of an open segment.
type readerField struct {
	field Field
	fst   *vellum.FST // indexed fields
	norms []byte      // indexed text fields: one code per doc
	stats FieldStats

	// fstReaders holds *vellum.Reader of fst for lookup: FST.Get allocates
	// its walk state on every call, a Reader reuses its own.
	fstReaders sync.Pool
}

// readerCore is the shared, immutable state of an open segment; Readers
// made by WithDeletes share it and it is released when the last is closed.
type readerCore struct {
	id     ID
	schema *Schema // the schema the segment was opened with
	// built is the schema the segment was built with: schema, or schema
	// without some of its fields (see Open). viewOrd maps an ordinal of
	// built, as the files hold them, to its ordinal in schema; identity
	// says they are the same.
	built    *Schema
	viewOrd  []int
	identity bool
	numDocs  uint32
	fields   []*readerField // by ordinal
	post     []byte
	pos      []byte
	fast     []*FastColumn // by ordinal, nil if not fast
	keys     *keyReader    // nil if the schema has no primary key
	// keywords holds the keyword columns by ordinal; nil without fast
	// keyword fields.
	keywords []*KeywordColumn
	store    *storedReader
	files    []openFile // every file but meta, held open (and mapped) until the last Close
	refs     atomic.Int32

	// Made once at open, so that searches do not redo them per term or
	// per document.
	postName, posName string
	normed            []*readerField // indexed text fields, for FieldNorm
}

// openFile is one open file of a segment, with its expected kind.
type openFile struct {
	f    storage.ReadFile
	kind fileKind
	data []byte // the whole file in place, if it is used so
}

// Reader gives read access to one segment. Its methods are safe for
// concurrent use. A Reader (and each view from WithDeletes) must be
// closed; the segment's files are released when the last one is.
type Reader struct {
	core    *readerCore
	deleted *roaring.Bitmap
	live    uint32
	closed  atomic.Bool
}

// Open opens segment id in dir, built with schema s. It reads the small
// metadata file whole and verifies its checksum; the other files are used
// in place (memory-mapped when dir is a file system, see
// storage.Contents), so opening costs the same for any segment size.
// Their sizes (against the metadata), footers (magic, kind, version,
// length) and the structure of their directories and headers are
// checked; their checksums are not: CheckIntegrity does that, and Merge
// calls it on its sources. A truncated or structurally damaged file is an
// error wrapping storage.ErrCorrupt that names the file.
//
// The segment must have been built with s or with an older version of s:
// s with some of its fields missing, the others the same and in the same
// order, and the same primary key (an index whose schema grows by adding
// fields, see Schema.Extends). The fields the segment lacks read as
// absent from every document: no terms or postings, zero norms, fast and
// keyword columns without values, nothing stored. A segment built with
// any other schema is an error.
func Open(dir storage.Directory, id ID, s *Schema) (r *Reader, err error) {
	c := &readerCore{id: id, schema: s, fields: make([]*readerField, len(s.fields)), fast: make([]*FastColumn, len(s.fields))}
	defer func() {
		// Defence in depth: a parser bug on crafted input must not crash
		// the process (vellum in particular trusts its input).
		if p := recover(); p != nil {
			err = fmt.Errorf("segment %s: %w", id, corrupt(id.String(), "unreadable segment data: %v", p))
		}
		if err != nil {
			c.closeFiles()
			r = nil
		}
	}()
	if err := c.openMeta(dir); err != nil {
		return nil, fmt.Errorf("segment %s: %w", id, err)
	}
	for _, step := range []func(storage.Directory) error{c.openDict, c.openPostings, c.openNorms, c.openFast, c.openStore} {
		if err := step(dir); err != nil {
			return nil, fmt.Errorf("segment %s: %w", id, err)
		}
	}
	c.postName, c.posName = fileName(id, kindPost), fileName(id, kindPos)
	for _, rf := range c.fields {
		if rf.norms != nil {
			c.normed = append(c.normed, rf)
		}
	}
	c.releasePages()
	c.refs.Store(1)
	return &Reader{core: c, live: c.numDocs}, nil
}

// releasePages drops the pages of the segment's mapped files from the
// process's resident set (storage.ReleasePages): Open reads a few bytes in
// several places of each (headers, footers, directories), and the system
// maps 64 KiB around each of them, which stayed resident while the segment
// was open: about 1 MiB a segment, for every open of it. The bytes stay
// valid; a search maps the pages it reads again, from the page cache.
func (c *readerCore) releasePages() {
	for _, of := range c.files {
		if of.data != nil {
			_ = storage.ReleasePages(of.f, 0, int64(len(of.data))) // a hint
		}
	}
}

// openInPlace opens a file of the segment for use in place: it checks the
// file's footer (not its checksum) and version and returns its payload,
// mapped or read whole (see storage.Contents). The file stays open until
// the segment is closed.
func (c *readerCore) openInPlace(dir storage.Directory, k fileKind) ([]byte, error) {
	name := fileName(c.id, k)
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	c.files = append(c.files, openFile{f: f, kind: k})
	ft, err := storage.ReadFooter(f, k.kind)
	if err != nil {
		return nil, err
	}
	if ft.Version != FormatVersion {
		return nil, versionError(name, ft.Version)
	}
	data, err := storage.Contents(f)
	if err != nil {
		return nil, err
	}
	c.files[len(c.files)-1].data = data
	if int64(len(data)) != ft.PayloadLen+storage.FooterSize {
		return nil, corrupt(name, "holds %d bytes, footer says %d", len(data), ft.PayloadLen+storage.FooterSize)
	}
	return data[:ft.PayloadLen:ft.PayloadLen], nil
}

func (c *readerCore) closeFiles() error {
	var errs []error
	for _, of := range c.files {
		errs = append(errs, of.f.Close())
	}
	c.files = nil
	return errors.Join(errs...)
}

// CheckIntegrity verifies the checksum of every file of the segment
// (which Open does not, to open in constant time), reading each whole
// through a small buffer (not the mapping, whose pages would stay in the
// process's resident set).
// A mismatch is an error wrapping storage.ErrCorrupt naming the file.
// Lucene calls this checkIntegrity; Merge runs it on every source before
// copying from it, and hermes check on every segment.
func (r *Reader) CheckIntegrity() error {
	return r.checkIntegrity(context.Background())
}

// checkIntegrity is CheckIntegrity, stopping between files once ctx is
// done.
func (r *Reader) checkIntegrity(ctx context.Context) error {
	for _, of := range r.core.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Through ReadAt, not the mapping: hashing a mapped file would
		// leave all its pages in the process's resident set.
		if _, err := storage.Verify(of.f, of.kind.kind); err != nil {
			return fmt.Errorf("segment %s: %w", r.core.id, err)
		}
	}
	return nil
}

// readVerified reads a whole file and checks its checksum and version.
func readVerified(dir storage.Directory, id ID, k fileKind) ([]byte, error) {
	name := fileName(id, k)
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, ver, err := storage.ReadVerified(f, k.kind)
	if err != nil {
		return nil, err
	}
	if ver != FormatVersion {
		return nil, versionError(name, ver)
	}
	return data, nil
}

func (c *readerCore) openMeta(dir storage.Directory) error {
	data, err := readVerified(dir, c.id, kindMeta)
	if err != nil {
		return err
	}
	name := fileName(c.id, kindMeta)
	var mf struct {
		Version int                   `json:"version"`
		ID      ID                    `json:"id"`
		NumDocs uint32                `json:"num_docs"`
		Schema  json.RawMessage       `json:"schema"`
		Files   map[string]int64      `json:"files"`
		Fields  map[string]FieldStats `json:"fields"`
	}
	if err := json.Unmarshal(data, &mf); err != nil {
		return corrupt(name, "bad metadata: %v", err)
	}
	if mf.Version != FormatVersion {
		return corrupt(name, "metadata format version %d, want %d", mf.Version, FormatVersion)
	}
	if mf.ID != c.id {
		return corrupt(name, "metadata names segment %s", mf.ID)
	}
	if mf.NumDocs >= NoMoreDocs {
		return corrupt(name, "%d documents is more than a segment can hold", mf.NumDocs)
	}
	built, err := ParseSchema(mf.Schema)
	if err != nil {
		return corrupt(name, "bad schema: %v", err)
	}
	viewOrd, ok := built.embedIn(c.schema)
	if !ok {
		return fmt.Errorf("%s: the segment was built with a different schema: %s", name, mf.Schema)
	}
	c.built, c.viewOrd, c.identity = built, viewOrd, built.Equal(c.schema)
	for _, k := range allKinds {
		if _, ok := mf.Files[fileName(c.id, k)]; !ok && k != kindMeta {
			return corrupt(name, "does not list the segment's %s file", k.ext)
		}
	}
	if len(mf.Files) != len(allKinds)-1 {
		return corrupt(name, "lists %d files, want %d", len(mf.Files), len(allKinds)-1)
	}
	for fname, size := range mf.Files {
		got, err := dir.FileSize(fname)
		if err != nil {
			return fmt.Errorf("%s: lists file %s: %w", name, fname, err)
		}
		if got != size {
			return corrupt(fname, "size is %d bytes, segment metadata says %d: truncated or replaced", got, size)
		}
	}
	c.numDocs = mf.NumDocs
	for i, f := range c.schema.fields {
		c.fields[i] = &readerField{field: f, stats: mf.Fields[f.Name]}
	}
	return c.fillAbsent()
}

// fillAbsent gives the fields of the schema the segment was built without
// the empty structures of a field no document has, so that every reader
// and the merge see them as such.
func (c *readerCore) fillAbsent() error {
	present := make([]bool, len(c.fields))
	for _, v := range c.viewOrd {
		present[v] = true
	}
	if c.schema.hasKeywordColumns() {
		c.keywords = make([]*KeywordColumn, len(c.fields))
	}
	for i, rf := range c.fields {
		if present[i] {
			continue
		}
		f := rf.field
		if f.Indexed {
			fst, err := emptyFST()
			if err != nil {
				return err
			}
			rf.fst = fst
			if f.Type == TypeText {
				rf.norms = make([]byte, c.numDocs)
			}
		}
		if f.FastNumeric() {
			c.fast[i] = &FastColumn{field: f.Name, typ: f.Type, numDocs: c.numDocs,
				present: make([]uint64, (c.numDocs+63)/64), data: make([]byte, 8)}
		}
		if f.FastKeyword() {
			c.keywords[i] = &KeywordColumn{file: fileName(c.id, kindFast), numDocs: c.numDocs,
				starts: make([]byte, (int(c.numDocs)+1)*4), data: make([]byte, 8), ends: make([]byte, 4)}
		}
	}
	return nil
}

// emptyFST returns the term dictionary of a field without terms, which
// fields a segment was built without share.
var emptyFST = sync.OnceValues(func() (*vellum.FST, error) {
	var buf bytes.Buffer
	b, err := vellum.New(&buf, nil)
	if err != nil {
		return nil, err
	}
	if err := b.Close(); err != nil {
		return nil, err
	}
	return vellum.Load(buf.Bytes())
})

// fileOrd returns the ordinal in the opened schema of field ordinal ord
// of the segment's files, or an ordinal past the schema if ord is not one
// of the built schema.
func (c *readerCore) fileOrd(ord uint64) uint64 {
	if ord >= uint64(len(c.viewOrd)) {
		return math.MaxUint64
	}
	return uint64(c.viewOrd[ord])
}

func (c *readerCore) openDict(dir storage.Directory) error {
	data, err := c.openInPlace(dir, kindDict)
	if err != nil {
		return err
	}
	name := fileName(c.id, kindDict)
	if len(data) < 8 {
		return corrupt(name, "too short for its directory")
	}
	dirOff := binary.LittleEndian.Uint64(data[len(data)-8:])
	if dirOff > uint64(len(data)-8) {
		return corrupt(name, "directory offset %d beyond the file", dirOff)
	}
	d := decoder{b: data[:len(data)-8], p: int(dirOff), file: name, what: "term dictionary directory"}
	n := d.uvarint()
	if n > uint64(len(c.fields)) {
		return corrupt(name, "%d fields in the directory, schema has %d", n, len(c.fields))
	}
	for i := uint64(0); i < n; i++ {
		fileOrd, off, size := d.uvarint(), d.uvarint(), d.uvarint()
		if d.bad {
			break
		}
		ord := c.fileOrd(fileOrd)
		if ord >= uint64(len(c.fields)) || !c.fields[ord].field.Indexed || c.fields[ord].fst != nil {
			return corrupt(name, "directory entry for field ordinal %d, which is not an indexed field", ord)
		}
		if off > dirOff || size > dirOff-off {
			return corrupt(name, "field %q: FST at %d+%d beyond the data", c.fields[ord].field.Name, off, size)
		}
		fst, err := vellum.Load(data[off : off+size : off+size])
		if err != nil {
			return corrupt(name, "field %q: bad FST: %v", c.fields[ord].field.Name, err)
		}
		c.fields[ord].fst = fst
	}
	if err := d.err(); err != nil {
		return err
	}
	for _, rf := range c.fields {
		if rf.field.Indexed && rf.fst == nil {
			return corrupt(name, "no term dictionary for indexed field %q", rf.field.Name)
		}
	}
	return nil
}

func (c *readerCore) openPostings(dir storage.Directory) error {
	var err error
	if c.post, err = c.openInPlace(dir, kindPost); err != nil {
		return err
	}
	c.pos, err = c.openInPlace(dir, kindPos)
	return err
}

func (c *readerCore) openNorms(dir storage.Directory) error {
	data, err := c.openInPlace(dir, kindNorm)
	if err != nil {
		return err
	}
	name := fileName(c.id, kindNorm)
	d := decoder{b: data, file: name, what: "norms header"}
	n, numDocs := d.uvarint(), d.uvarint()
	if d.bad || numDocs != uint64(c.numDocs) || n > uint64(len(c.fields)) {
		return corrupt(name, "bad header (%d fields, %d docs; segment has %d docs)", n, numDocs, c.numDocs)
	}
	ords := make([]uint64, n)
	for i := range ords {
		ords[i] = c.fileOrd(d.uvarint())
	}
	for _, ord := range ords {
		if ord >= uint64(len(c.fields)) || c.fields[ord].field.Type != TypeText || !c.fields[ord].field.Indexed || c.fields[ord].norms != nil {
			return corrupt(name, "norms for field ordinal %d, which is not an indexed text field", ord)
		}
		c.fields[ord].norms = d.bytes(int(numDocs))
		if d.bad {
			return corrupt(name, "truncated norms of field %q", c.fields[ord].field.Name)
		}
		if c.fields[ord].norms == nil {
			c.fields[ord].norms = []byte{}
		}
	}
	if d.p != len(data) {
		return corrupt(name, "%d trailing bytes", len(data)-d.p)
	}
	for _, rf := range c.fields {
		if rf.field.Indexed && rf.field.Type == TypeText && rf.norms == nil {
			return corrupt(name, "no norms for text field %q", rf.field.Name)
		}
	}
	return nil
}

func (c *readerCore) openFast(dir storage.Directory) error {
	data, err := c.openInPlace(dir, kindFast)
	if err != nil {
		return err
	}
	name := fileName(c.id, kindFast)
	d := decoder{b: data, file: name, what: "fast fields"}
	n := d.uvarint()
	if n > uint64(len(c.fields)) {
		return corrupt(name, "%d columns, schema has %d fields", n, len(c.fields))
	}
	for i := uint64(0); i < n && !d.bad; i++ {
		ord := c.fileOrd(d.uvarint())
		typ := FieldType(d.byte())
		numDocs := d.uvarint()
		if d.bad {
			break
		}
		if ord >= uint64(len(c.fields)) || !c.fields[ord].field.FastNumeric() || c.fast[ord] != nil {
			return corrupt(name, "column for field ordinal %d, which is not a fast field", ord)
		}
		f := c.fields[ord].field
		if typ != f.Type || numDocs != uint64(c.numDocs) {
			return corrupt(name, "column of field %q: type %v, %d docs; want %v, %d docs", f.Name, typ, numDocs, f.Type, c.numDocs)
		}
		col := &FastColumn{field: f.Name, typ: typ, numDocs: c.numDocs}
		switch d.byte() {
		case 0:
		case 1:
			words := d.bytes(int((numDocs + 63) / 64 * 8))
			col.present = make([]uint64, len(words)/8)
			for j := range col.present {
				col.present[j] = binary.LittleEndian.Uint64(words[j*8:])
			}
		default:
			return corrupt(name, "column of field %q: bad presence kind", f.Name)
		}
		col.min = d.u64()
		col.width = d.byte()
		plen := d.length()
		col.data = d.bytes(plen)
		if d.bad {
			break
		}
		if col.width > 64 || uint64(plen) != (numDocs*uint64(col.width)+7)/8+8 {
			return corrupt(name, "column of field %q: %d bytes for %d values of %d bits", f.Name, plen, numDocs, col.width)
		}
		c.fast[ord] = col
	}
	if err := d.err(); err != nil {
		return err
	}
	for i, rf := range c.fields {
		if rf.field.FastNumeric() && c.fast[i] == nil {
			return corrupt(name, "no column for fast field %q", rf.field.Name)
		}
	}
	return c.openKeys(&d)
}

// openKeys reads the key section that ends the fast file.
func (c *readerCore) openKeys(d *decoder) error {
	has := d.byte()
	if d.bad || has > 1 || (has == 1) != (c.built.primary >= 0) {
		return corrupt(d.file, "bad primary-key section")
	}
	if has == 1 {
		ord, n := d.uvarint(), d.uvarint()
		if d.bad || ord != uint64(c.built.primary) || n != uint64(c.numDocs) {
			return corrupt(d.file, "primary-key column of field ordinal %d for %d docs; want %d, %d docs", ord, n, c.built.primary, c.numDocs)
		}
		k := &keyReader{file: d.file, n: c.numDocs}
		k.ends = d.bytes(int(n+1) * 4)
		if d.bad {
			return corrupt(d.file, "truncated primary-key column")
		}
		if binary.LittleEndian.Uint32(k.ends) != 0 {
			return corrupt(d.file, "primary-key column does not start at 0")
		}
		size := binary.LittleEndian.Uint32(k.ends[n*4:])
		k.data = d.bytes(int(size))
		if d.bad {
			return corrupt(d.file, "truncated primary-key column")
		}
		c.keys = k
	}
	if err := c.openKeywords(d); err != nil {
		return err
	}
	if d.p != len(d.b) {
		return corrupt(d.file, "%d trailing bytes", len(d.b)-d.p)
	}
	return nil
}

// keyReader reads the primary-key column (see FORMAT.md, fast).
type keyReader struct {
	file string
	n    uint32
	ends []byte // n+1 u32 offsets into data
	data []byte
}

// key returns doc's key, a slice of the column.
func (k *keyReader) key(doc uint32) ([]byte, error) {
	if doc >= k.n {
		return nil, fmt.Errorf("segment: doc %d out of range (segment has %d)", doc, k.n)
	}
	start := binary.LittleEndian.Uint32(k.ends[doc*4:])
	end := binary.LittleEndian.Uint32(k.ends[doc*4+4:])
	if start > end || end > uint32(len(k.data)) {
		return nil, corrupt(k.file, "primary key of doc %d at %d..%d, beyond the column", doc, start, end)
	}
	return k.data[start:end:end], nil
}

// Key returns doc's primary key as its indexed term: the keyword's bytes,
// or 8 bytes big-endian for u64 and i64 keys (see U64Term, I64Term and
// KeyValue). It comes from the key column, without reading stored fields;
// the slice must not be modified. Without a primary key in the schema it
// is nil.
func (r *Reader) Key(doc uint32) ([]byte, error) {
	if r.core.keys == nil {
		if doc >= r.core.numDocs {
			return nil, fmt.Errorf("segment: doc %d out of range (segment has %d)", doc, r.core.numDocs)
		}
		return nil, nil
	}
	return r.core.keys.key(doc)
}

// Close releases the reader. The segment's files are closed when the last
// reader sharing them (see WithDeletes) is closed. Close is idempotent.
func (r *Reader) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	if r.core.refs.Add(-1) == 0 {
		return r.core.closeFiles()
	}
	return nil
}

// ID returns the segment id.
func (r *Reader) ID() ID { return r.core.id }

// Schema returns the schema the segment was opened with.
func (r *Reader) Schema() *Schema { return r.core.schema }

// NumDocs returns the number of doc ids, deleted documents included.
func (r *Reader) NumDocs() uint32 { return r.core.numDocs }

// NumLiveDocs returns the number of documents not deleted.
func (r *Reader) NumLiveDocs() uint32 { return r.live }

// Deleted returns the deleted documents, nil if none. It must not be
// modified.
func (r *Reader) Deleted() *roaring.Bitmap { return r.deleted }

// IsDeleted reports whether doc is deleted in this view.
func (r *Reader) IsDeleted(doc uint32) bool { return r.deleted != nil && r.deleted.Contains(doc) }

// WithDeletes returns a view of the same segment in which the documents of
// deleted are deleted (ids past NumDocs are ignored). The bitmap is not
// copied and must not change afterwards; nil or empty means none. The
// view shares r's files and must be closed too.
func (r *Reader) WithDeletes(deleted *roaring.Bitmap) *Reader {
	r.core.refs.Add(1)
	v := &Reader{core: r.core, live: r.core.numDocs}
	if deleted != nil && !deleted.IsEmpty() {
		v.deleted = deleted
		n := deleted.Rank(r.core.numDocs - 1)
		if r.core.numDocs == 0 {
			n = 0
		}
		v.live = r.core.numDocs - uint32(min(n, uint64(r.core.numDocs)))
	}
	return v
}

func (r *Reader) field(name string) (*readerField, error) {
	ord := r.core.schema.FieldIndex(name)
	if ord < 0 {
		return nil, fmt.Errorf("segment: unknown field %q", name)
	}
	return r.core.fields[ord], nil
}

func (r *Reader) indexedField(name string) (*readerField, error) {
	rf, err := r.field(name)
	if err != nil {
		return nil, err
	}
	if rf.fst == nil {
		return nil, fmt.Errorf("segment: field %q is not indexed", name)
	}
	return rf, nil
}

// FieldStats returns the statistics of field (zero for unknown fields).
func (r *Reader) FieldStats(field string) FieldStats {
	rf, err := r.field(field)
	if err != nil {
		return FieldStats{}
	}
	return rf.stats
}

// lookup finds term in field's dictionary.
func (r *Reader) lookup(rf *readerField, term []byte) (off uint64, found bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = corrupt(fileName(r.core.id, kindDict), "field %q: unreadable FST: %v", rf.field.Name, p)
		}
	}()
	fr, _ := rf.fstReaders.Get().(*vellum.Reader)
	if fr == nil {
		fr, _ = rf.fst.Reader() // never fails
	}
	off, found, err = fr.Get(term)
	rf.fstReaders.Put(fr) // not reached after a panic: fr is dropped
	if err != nil {
		return 0, false, corrupt(fileName(r.core.id, kindDict), "field %q: %v", rf.field.Name, err)
	}
	return off, found, nil
}

// DocFreq returns the number of documents (deleted ones included) that
// contain term in field; 0 if none.
func (r *Reader) DocFreq(field string, term []byte) (uint32, error) {
	rf, err := r.indexedField(field)
	if err != nil {
		return 0, err
	}
	off, found, err := r.lookup(rf, term)
	if err != nil || !found {
		return 0, err
	}
	if off >= uint64(len(r.core.post)) {
		return 0, corrupt(r.core.postName, "term offset %d beyond the file", off)
	}
	df, n := binary.Uvarint(r.core.post[off:])
	if n <= 0 || df == 0 || df >= NoMoreDocs {
		return 0, corrupt(r.core.postName, "malformed term header at %d", off)
	}
	return uint32(df), nil
}

// Postings returns an iterator over the documents of term in field,
// positioned on the first one; nil, nil when the term is absent. Deleted
// documents are included (check IsDeleted).
func (r *Reader) Postings(field string, term []byte) (*Postings, error) {
	rf, err := r.indexedField(field)
	if err != nil {
		return nil, err
	}
	off, found, err := r.lookup(rf, term)
	if err != nil || !found {
		return nil, err
	}
	return newPostings(r, rf, off)
}

// Terms calls fn with each term of field that starts with prefix, in byte
// order, until fn returns false. The slice is only valid during the call.
func (r *Reader) Terms(field string, prefix []byte, fn func(term []byte) bool) error {
	return r.TermsMatching(field, &vellum.AlwaysMatch{}, prefix, prefixEnd(prefix), fn)
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil if there is none (empty or all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// FieldNorm returns the token count of an indexed text field in doc,
// quantized to one byte as described at QuantizeNorm (exact up to 39,
// then at most 9% low). It is 0 for other fields and out-of-range docs.
func (r *Reader) FieldNorm(field string, doc uint32) uint32 {
	// Called for every document scored: a scan of the few text fields
	// costs less than the schema's map lookup.
	for _, rf := range r.core.normed {
		if rf.field.Name == field {
			if int(doc) >= len(rf.norms) {
				return 0
			}
			return normTable[rf.norms[doc]]
		}
	}
	return 0
}

// Fast returns the column of a fast field.
func (r *Reader) Fast(field string) (*FastColumn, error) {
	ord := r.core.schema.FieldIndex(field)
	if ord < 0 {
		return nil, fmt.Errorf("segment: unknown field %q", field)
	}
	if r.core.fast[ord] == nil {
		return nil, fmt.Errorf("segment: field %q is not a fast field", field)
	}
	return r.core.fast[ord], nil
}

// FastColumn holds one value per document of a fast field (the first
// value of a multi-valued field), bit-packed as offsets from the minimum.
// It is safe for concurrent use.
type FastColumn struct {
	field   string
	typ     FieldType
	numDocs uint32
	present []uint64 // nil: every document has a value
	min     uint64
	width   uint8
	data    []byte
}

// Type returns the column's field type.
func (c *FastColumn) Type() FieldType { return c.typ }

// raw returns doc's order-preserving u64 value.
func (c *FastColumn) raw(doc uint32) (uint64, bool) {
	if doc >= c.numDocs {
		return 0, false
	}
	if c.present != nil && c.present[doc/64]&(1<<(doc%64)) == 0 {
		return 0, false
	}
	return c.min + getBits(c.data, uint64(doc)*uint64(c.width), c.width), true
}

// U64 returns doc's value of a u64 (or bool) column. ok is false if doc has
// no value, is out of range, or the column is not u64.
func (c *FastColumn) U64(doc uint32) (uint64, bool) {
	if c.typ.Storage() != TypeU64 {
		return 0, false
	}
	return c.raw(doc)
}

// I64 returns doc's value of an i64 (or date) column (ok as for U64).
func (c *FastColumn) I64(doc uint32) (int64, bool) {
	if c.typ.Storage() != TypeI64 {
		return 0, false
	}
	v, ok := c.raw(doc)
	return int64(v ^ 1<<63), ok
}

// F64 returns doc's value of an f64 column (ok as for U64).
func (c *FastColumn) F64(doc uint32) (float64, bool) {
	if c.typ != TypeF64 {
		return 0, false
	}
	v, ok := c.raw(doc)
	if !ok {
		return 0, false
	}
	if v>>63 != 0 {
		return math.Float64frombits(v &^ (1 << 63)), true
	}
	return math.Float64frombits(^v), true
}

// Document returns the stored fields of doc, in the order they were added.
// Deleted documents can still be read.
func (r *Reader) Document(doc uint32) (*Document, error) {
	return r.DocumentFields(doc, nil)
}

// DocumentFields returns the stored fields of doc named in fields (every
// stored field if fields is empty), in the order they were added. It
// decompresses doc's block unless cache holds it; a nil cache caches
// nothing. Deleted documents can still be read.
func (r *Reader) DocumentFields(doc uint32, cache *BlockCache, fields ...string) (*Document, error) {
	if doc >= r.core.numDocs {
		return nil, fmt.Errorf("segment: doc %d out of range (segment has %d)", doc, r.core.numDocs)
	}
	var want []bool // by ordinal; nil: all
	if len(fields) > 0 {
		want = make([]bool, len(r.core.schema.fields))
		for _, f := range fields {
			ord := r.core.schema.FieldIndex(f)
			if ord < 0 {
				return nil, fmt.Errorf("segment: unknown field %q", f)
			}
			want[ord] = true
		}
	}
	s := r.core.store
	b, _ := slices.BinarySearch(s.first, doc+1)
	b-- // the last block whose first doc <= doc
	raw, err := cache.get(r.core.id, b, func() ([]byte, error) {
		raw, _, err := s.readBlock(b, nil, nil)
		return raw, err
	})
	if err != nil {
		return nil, err
	}
	d := decoder{b: raw, file: s.name, what: "stored block"}
	n := d.uvarint()
	k := uint64(doc - s.first[b])
	if n > uint64(len(raw)) || k >= n {
		return nil, corrupt(s.name, "stored block %d holds %d docs, want doc %d", b, n, doc)
	}
	skip := 0
	var size int
	for i := uint64(0); i < n; i++ {
		l := d.length()
		if i < k {
			skip += l
		} else if i == k {
			size = l
		}
	}
	if d.bad || skip > len(raw)-d.p || size > len(raw)-d.p-skip {
		return nil, corrupt(s.name, "malformed stored block %d", b)
	}
	rec := raw[d.p+skip : d.p+skip+size]
	out, err := decodeStored(r.core.built, r.core.viewOrd, rec, want)
	if err != nil {
		return nil, corrupt(s.name, "doc %d: %v", doc, err)
	}
	return out, nil
}

// decodeStored parses one stored record (see appendStoredValue) of a
// segment built with s, whose ordinal i is viewOrd[i] in the schema want
// is indexed by. Strings and byte slices are copied out of the shared
// block buffer.
func decodeStored(s *Schema, viewOrd []int, rec []byte, want []bool) (*Document, error) {
	d := decoder{b: rec, what: "stored document"}
	n := d.uvarint()
	if n > uint64(len(rec)) {
		return nil, errors.New("bad value count")
	}
	doc := &Document{Values: make([]FieldValue, 0, min(n, 16))}
	for i := uint64(0); i < n && !d.bad; i++ {
		ord := d.uvarint()
		if ord >= uint64(len(s.fields)) {
			return nil, fmt.Errorf("field ordinal %d out of range", ord)
		}
		f := &s.fields[ord]
		v := FieldValue{Field: f.Name, Kind: kindFor(f.Type)}
		if want != nil && !want[viewOrd[ord]] {
			if err := skipStored(&d, v.Kind); err != nil {
				return nil, err
			}
			continue
		}
		switch v.Kind {
		case KindString:
			v.Str = string(d.bytes(d.length()))
		case KindBytes:
			v.Bytes = bytes.Clone(d.bytes(d.length()))
			if v.Bytes == nil {
				v.Bytes = []byte{}
			}
		case KindU64:
			v.U64 = d.uvarint()
		case KindI64:
			u := d.uvarint()
			v.I64 = int64(u>>1) ^ -int64(u&1) // zigzag, as binary.AppendVarint
		case KindF64:
			v.F64 = math.Float64frombits(d.u64())
		}
		doc.Values = append(doc.Values, v)
	}
	if d.bad || d.p != len(rec) {
		return nil, errors.New("malformed record")
	}
	return doc, nil
}

// skipStored moves d past one stored value of kind k.
func skipStored(d *decoder, k ValueKind) error {
	switch k {
	case KindString, KindBytes:
		d.bytes(d.length())
	case KindU64, KindI64:
		d.uvarint()
	case KindF64:
		d.u64()
	}
	if d.bad {
		return errors.New("malformed record")
	}
	return nil
}
