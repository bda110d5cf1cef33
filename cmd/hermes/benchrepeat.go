package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/klauspost/compress/gzip"
)

// repeatReader reads a JSON-lines corpus copies times over, as one stream,
// so that `hermes bench --repeat 4` indexes realmix four times in one
// commit. The primary key must stay unique: in copy k (k >= 2), a line that
// starts with {"id":"X" reads {"id":"X-k". Other lines pass unchanged (the
// benchmark then reports them as duplicates). The file is decompressed here
// if it is gzip, on the reading goroutine, as jsonl does for a file.
type repeatReader struct {
	path    string
	copies  int
	copy    int // the copy being read, 1-based; 0 before the first
	f       *os.File
	br      *bufio.Reader
	pending []byte // what is left of the current line
	rewrite []byte // buffer for a line with its id suffixed
	midLine bool   // the last read ended inside a long line
}

// idPrefix is how each realmix line starts.
var idPrefix = []byte(`{"id":"`)

func newRepeatReader(path string, copies int) *repeatReader {
	return &repeatReader{path: path, copies: copies}
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.pending) > 0 {
			c := copy(p[n:], r.pending)
			r.pending = r.pending[c:]
			n += c
			continue
		}
		if r.br == nil {
			if r.copy == r.copies {
				if n > 0 {
					return n, nil
				}
				return 0, io.EOF
			}
			if err := r.next(); err != nil {
				return n, err
			}
		}
		line, err := r.br.ReadSlice('\n')
		switch {
		case err == nil || errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			r.closeCopy()
			if len(line) > 0 && line[len(line)-1] != '\n' {
				line = append(line, '\n') // the next copy starts on its own line
			}
		default:
			return n, err
		}
		if !r.midLine && r.copy > 1 {
			line = r.suffixID(line)
		}
		r.midLine = errors.Is(err, bufio.ErrBufferFull)
		r.pending = line
	}
	return n, nil
}

// suffixID returns line with "-k" (k the copy) appended to a leading id.
func (r *repeatReader) suffixID(line []byte) []byte {
	if !bytes.HasPrefix(line, idPrefix) {
		return line
	}
	end := len(idPrefix)
	for end < len(line) && line[end] != '"' {
		if line[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(line) {
		return line // no closing quote within the buffer: leave it
	}
	b := append(r.rewrite[:0], line[:end]...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(r.copy), 10)
	b = append(b, line[end:]...)
	r.rewrite = b
	return b
}

// next opens the next copy, gunzipping it if it starts with gzip's magic.
func (r *repeatReader) next() error {
	f, err := os.Open(r.path)
	if err != nil {
		return err
	}
	raw := bufio.NewReaderSize(f, 1<<20)
	var src io.Reader = raw
	if magic, _ := raw.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(raw)
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", r.path, err)
		}
		src = zr
	}
	r.f, r.br = f, bufio.NewReaderSize(src, 1<<20)
	r.copy++
	r.midLine = false
	return nil
}

func (r *repeatReader) closeCopy() {
	r.f.Close()
	r.f, r.br = nil, nil
}

// Close closes the file being read, if any.
func (r *repeatReader) Close() error {
	if r.f != nil {
		r.closeCopy()
	}
	return nil
}
