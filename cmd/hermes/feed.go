package main

import (
	"context"
	"io"

	"github.com/hermes-search/hermes-go/cmd/hermes/internal/jsonl"
)

// lineBatch is a run of input lines handed from the reading goroutine to the
// indexing loop. Reading (and gunzipping) on its own goroutine overlaps it
// with indexing and lets the loop stop on Ctrl-C even while a read from a
// slow stdin blocks.
type lineBatch struct {
	data []byte // the lines, back to back
	ends []int  // ends[i] is the end of line i in data
	nos  []int  // nos[i] is the 1-based line number of line i
	err  error  // a read error after the lines; io.EOF at the end
}

func (b *lineBatch) len() int { return len(b.ends) }

func (b *lineBatch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.data[start:b.ends[i]]
}

// batchLines bounds a batch so that lines reach the indexer promptly.
const (
	batchLines = 256
	batchBytes = 1 << 20
)

// feed reads r on a new goroutine and sends its lines in batches; the last
// batch carries io.EOF or the read error. It stops early when ctx ends.
// pending lines (already read, e.g. to infer a schema) are sent first.
func feed(ctx context.Context, r *jsonl.Reader, pending *lineBatch) <-chan *lineBatch {
	ch := make(chan *lineBatch, 4)
	go func() {
		defer close(ch)
		send := func(b *lineBatch) bool {
			select {
			case ch <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if pending != nil && pending.len() > 0 {
			if !send(pending) {
				return
			}
		}
		for {
			b := &lineBatch{}
			for b.len() < batchLines && len(b.data) < batchBytes {
				if b.len() > 0 && !r.Buffered() {
					break // hand on these lines before waiting for more
				}
				line, no, err := r.Next()
				if err != nil {
					b.err = err
					break
				}
				b.add(line, no)
			}
			if !send(b) || b.err != nil {
				return
			}
		}
	}()
	return ch
}

func (b *lineBatch) add(line []byte, no int) {
	b.data = append(b.data, line...)
	b.ends = append(b.ends, len(b.data))
	b.nos = append(b.nos, no)
}

// readPending reads up to n lines into a batch, for schema inference. It
// returns ctx's error if ctx ends first (a read from a slow stdin may then
// stay blocked on its goroutine until the process exits).
func readPending(ctx context.Context, r *jsonl.Reader, n int) (*lineBatch, error) {
	type result struct {
		b   *lineBatch
		err error
	}
	done := make(chan result, 1)
	go func() {
		b := &lineBatch{}
		for b.len() < n {
			line, no, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				done <- result{nil, err}
				return
			}
			b.add(line, no)
		}
		done <- result{b, nil}
	}()
	select {
	case res := <-done:
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
