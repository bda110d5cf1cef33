// Package jsonl reads JSON-lines input for the hermes command: a file, plain
// or gzip-compressed (recognized by its content, not its name), or standard
// input, one document a line, with line numbers for error messages and byte
// counts for progress reports. A UTF-8 byte-order mark at the start of the
// input is skipped.
//
// Gzip input is read member by member (a file may be a concatenation of
// gzip streams), and each member's checksum is checked at its end: the data
// of a member is only known to be intact once the whole member has been
// read. Verified says which lines are.
package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/klauspost/compress/gzip"
)

// MaxLineBytes is the longest line Reader accepts by default. A longer line
// is almost always a file that is not JSON lines (or not decompressed).
const MaxLineBytes = 64 << 20

// LongLineError is a line longer than the reader's limit. The reader has
// skipped it: the next call to Next returns the line after it.
type LongLineError struct {
	Name  string // the input's name
	Line  int    // its 1-based number
	Limit int    // the limit, in bytes
}

func (e *LongLineError) Error() string {
	return fmt.Sprintf("%s: line %d: %s", e.Name, e.Line, e.Reason())
}

// Reason says what is wrong with the line, without naming it.
func (e *LongLineError) Reason() string {
	return fmt.Sprintf("longer than %s; is this JSON lines, one document a line?", sizeString(e.Limit))
}

func sizeString(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Reader reads lines. It is not safe for concurrent use, except for the
// counters Consumed and Bytes, which a progress reporter may call from
// another goroutine.
type Reader struct {
	name    string
	closer  io.Closer
	src     *countingReader // the raw input: file or stdin
	members *memberReader   // nil for plain input
	br      *bufio.Reader
	line    int
	bytes   counter // uncompressed bytes returned so far
	size    int64   // size of the raw input, -1 if unknown
	long    []byte  // buffer for lines longer than the bufio buffer
	maxLine int
	started bool // the first line has been read (a BOM would be before it)
}

// Open opens path for reading; "-" reads stdin. The input is decompressed if
// it starts with the gzip magic bytes.
func Open(path string, stdin io.Reader) (*Reader, error) {
	if path == "-" {
		return newReader("stdin", stdin, nil, -1)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	r, err := newReader(path, f, f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// NewReader reads lines from r, decompressing gzip input; name appears in
// error messages. size is the length of r in bytes, or -1 if unknown.
func NewReader(name string, r io.Reader, size int64) (*Reader, error) {
	return newReader(name, r, nil, size)
}

func newReader(name string, r io.Reader, closer io.Closer, size int64) (*Reader, error) {
	src := &countingReader{r: r}
	rd := &Reader{name: name, closer: closer, src: src, size: size, maxLine: MaxLineBytes}
	raw := bufio.NewReaderSize(src, 1<<20)
	magic, err := raw.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: not a valid gzip file: %w", name, err)
		}
		zr.Multistream(false)
		rd.members = &memberReader{zr: zr, raw: raw}
		rd.br = bufio.NewReaderSize(rd.members, 1<<20)
	} else {
		rd.br = raw
	}
	return rd, nil
}

// Name returns the input's name ("stdin" for standard input).
func (r *Reader) Name() string { return r.name }

// SetMaxLine sets the longest line accepted, in bytes (MaxLineBytes by
// default).
func (r *Reader) SetMaxLine(n int) { r.maxLine = n }

// Next returns the next non-blank line, without its line ending, and its
// 1-based line number. The slice is valid until the next call. At the end of
// the input it returns io.EOF. A last line without a final newline counts.
// A line longer than the limit is skipped and reported as a
// *LongLineError; reading can go on after it.
func (r *Reader) Next() ([]byte, int, error) {
	for {
		b, err := r.readLine()
		if err != nil {
			return nil, r.line, err
		}
		if !r.started {
			r.started = true
			b = bytes.TrimPrefix(b, []byte("\uFEFF")) // a byte-order mark
		}
		if len(bytes.TrimSpace(b)) > 0 {
			return b, r.line, nil
		}
	}
}

// readLine returns the next line, blank or not.
func (r *Reader) readLine() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(b) > r.maxLine {
		r.long = append(r.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) && len(r.long) <= r.maxLine {
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
		}
		if len(r.long) > r.maxLine {
			return nil, r.skipLongLine(err)
		}
		b = r.long
	}
	if len(b) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, r.wrap(err)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, r.wrap(err)
	}
	r.line++
	r.bytes.add(int64(len(b)))
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return b, nil
}

// skipLongLine reads past the rest of a line that is over the limit (err is
// the last read's) and returns the *LongLineError, or the read error that
// stopped it.
func (r *Reader) skipLongLine(err error) error {
	n := int64(len(r.long))
	r.long = r.long[:0]
	for errors.Is(err, bufio.ErrBufferFull) {
		var b []byte
		b, err = r.br.ReadSlice('\n')
		n += int64(len(b))
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return r.wrap(err)
	}
	r.line++
	r.started = true
	r.bytes.add(n)
	return &LongLineError{Name: r.name, Line: r.line, Limit: r.maxLine}
}

// Verified reports how many uncompressed bytes of the input are known to be
// intact: for gzip input, those of the members whose checksum has been
// checked; for plain input, all. Lines whose end (Bytes after they were
// returned) is at most this are verified.
func (r *Reader) Verified() int64 {
	if r.members == nil {
		return math.MaxInt64
	}
	return r.members.verified.load()
}

func (r *Reader) wrap(err error) error {
	if r.members != nil {
		return fmt.Errorf("%s: after line %d: reading the gzip stream: %w", r.name, r.line, err)
	}
	return fmt.Errorf("%s: after line %d: %w", r.name, r.line, err)
}

// Buffered reports whether input is already buffered, so that Next may
// return without waiting for a read. A caller batching lines from a slow
// source (a pipe) hands on what it has when this is false, rather than wait.
func (r *Reader) Buffered() bool { return r.br.Buffered() > 0 }

// Line returns the number of the last line read.
func (r *Reader) Line() int { return r.line }

// Size returns the size of the raw input in bytes (compressed, for gzip), or
// -1 if it is not known (stdin, pipes).
func (r *Reader) Size() int64 { return r.size }

// Consumed returns how many bytes of the raw input have been read, which
// with Size gives the fraction done. It runs ahead of the lines returned by
// up to the read buffers' size.
func (r *Reader) Consumed() int64 { return r.src.n.load() }

// Bytes returns the uncompressed bytes of the lines read so far, blank
// lines and line endings included.
func (r *Reader) Bytes() int64 { return r.bytes.load() }

// Close closes the input file; it does not close stdin.
func (r *Reader) Close() error {
	if r.members != nil {
		r.members.zr.Close()
	}
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n counter
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.add(int64(n))
	return n, err
}

// memberReader reads a gzip stream member by member, so that it knows
// where each one ends and its checksum has been checked.
type memberReader struct {
	zr       *gzip.Reader // with Multistream(false)
	raw      *bufio.Reader
	out      int64   // uncompressed bytes returned
	verified counter // uncompressed bytes of the members checked so far
	done     bool
}

func (m *memberReader) Read(p []byte) (int, error) {
	if m.done {
		return 0, io.EOF
	}
	n, err := m.zr.Read(p)
	m.out += int64(n)
	if err != io.EOF {
		return n, err
	}
	// The member ended and its checksum and length matched.
	m.verified.v.Store(m.out)
	switch err := m.zr.Reset(m.raw); {
	case err == io.EOF:
		m.done = true
		return n, io.EOF
	case err != nil:
		return n, fmt.Errorf("after a gzip member: %w", err)
	}
	return n, nil
}
