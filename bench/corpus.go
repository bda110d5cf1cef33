package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// doc is one line of the benchmark corpus.
type doc struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// corpus streams documents from a JSON-lines file, gzip-compressed when its
// name ends in .gz. Documents are decoded as they are indexed rather than
// loaded up front, so the peak RSS of a run is the engine's, not the corpus's.
type corpus struct {
	path  string
	f     *os.File
	zr    *gzip.Reader
	br    *bufio.Reader
	long  []byte // a line longer than br's buffer
	line  int
	limit int // 0: no limit
	read  int
	// TextBytes counts the bytes of the text field of the documents read so
	// far: the "MB of text" of the throughput figures.
	TextBytes int64
}

func openCorpus(path string, limit int) (*corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the corpus: %w (pass --input FILE)", err)
	}
	c := &corpus{path: path, f: f, limit: limit}
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		// Through a 1 MiB buffer, as hermes index reads it (cmd/hermes's
		// jsonl): without one, gzip reads the file 4 KiB at a time.
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.zr = zr
		r = zr
	}
	c.br = bufio.NewReaderSize(r, 1<<20)
	return c, nil
}

// NextLine returns the next non-blank line and its line number; the slice
// is valid until the next call (as a line reader's is, with no allocation a
// line). It returns io.EOF at the end of the file or once the limit is
// reached. It does not decode the line (nor count its text bytes).
func (c *corpus) NextLine() ([]byte, int, error) {
	for {
		if c.limit > 0 && c.read >= c.limit {
			return nil, 0, io.EOF
		}
		b, err := c.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull { // a line longer than the buffer
			c.long = append(c.long[:0], b...)
			for err == bufio.ErrBufferFull {
				b, err = c.br.ReadSlice('\n')
				c.long = append(c.long, b...)
			}
			b = c.long
		}
		if len(b) == 0 && err != nil {
			if err == io.EOF {
				return nil, 0, io.EOF
			}
			return nil, 0, fmt.Errorf("%s: %w", c.path, err)
		}
		c.line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		c.read++
		return b, c.line, nil
	}
}

// Next decodes the next document into d with encoding/json; it returns
// io.EOF at the end of the file or once the limit is reached.
func (c *corpus) Next(d *doc) error {
	for {
		if c.limit > 0 && c.read >= c.limit {
			return io.EOF
		}
		b, err := c.br.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if err == io.EOF {
				return io.EOF
			}
			return fmt.Errorf("%s: %w", c.path, err)
		}
		c.line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		*d = doc{}
		if err := json.Unmarshal(b, d); err != nil {
			return fmt.Errorf("%s:%d: %w", c.path, c.line, err)
		}
		if d.ID == "" {
			return fmt.Errorf("%s:%d: the document has no \"id\"", c.path, c.line)
		}
		c.read++
		c.TextBytes += int64(len(d.Text))
		return nil
	}
}

func (c *corpus) Close() error {
	if c.zr != nil {
		c.zr.Close()
	}
	return c.f.Close()
}
