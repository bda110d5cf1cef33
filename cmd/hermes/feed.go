package main

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/hermes-search/hermes-go/cmd/hermes/internal/jsonl"
	"github.com/hermes-search/hermes-go/segment"
)

// lineBatch is a run of input lines handed from the reading goroutine to the
// indexing loop. Reading (and gunzipping) on its own goroutine overlaps it
// with indexing and lets the loop stop on Ctrl-C even while a read from a
// slow stdin blocks.
type lineBatch struct {
	data []byte  // the lines, back to back
	ends []int   // ends[i] is the end of line i in data
	nos  []int   // nos[i] is the 1-based line number of line i
	offs []int64 // offs[i] is the input offset (uncompressed) after line i
	bad  []error // bad[i] is why line i could not be read (nil if it was), or nil
	err  error   // a read error after the lines; io.EOF at the end

	// verified is how many of the lines are known intact (see
	// jsonl.Reader.Verified) when the batch was sent.
	verified int
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
// pending lines (already read, e.g. to infer a schema) are sent first. A
// line too long to read is sent as a line with its error, so that the loop
// can skip it like any other bad line.
func feed(ctx context.Context, r *jsonl.Reader, pending *lineBatch) <-chan *lineBatch {
	ch := make(chan *lineBatch, 4)
	go func() {
		defer close(ch)
		send := func(b *lineBatch) bool {
			b.setVerified(r.Verified())
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
			b := &lineBatch{data: getLineBuf(), ends: make([]int, 0, batchLines),
				nos: make([]int, 0, batchLines), offs: make([]int64, 0, batchLines)}
			for b.len() < batchLines && len(b.data) < batchBytes {
				if b.len() > 0 && !r.Buffered() {
					break // hand on these lines before waiting for more
				}
				line, no, err := r.Next()
				if err != nil {
					if isLongLine(err) {
						b.addBad(err, no, r.Bytes())
						continue
					}
					b.err = err
					break
				}
				b.add(line, no, r.Bytes())
			}
			if !send(b) || b.err != nil {
				return
			}
		}
	}()
	return ch
}

// isLongLine reports whether err is a *jsonl.LongLineError: a line to skip
// rather than the end of the input. (Asked only of errors, as the target
// errors.As writes to costs an allocation.)
func isLongLine(err error) bool {
	if err == nil {
		return false
	}
	var long *jsonl.LongLineError
	return errors.As(err, &long)
}

func (b *lineBatch) add(line []byte, no int, off int64) {
	b.data = append(b.data, line...)
	b.ends = append(b.ends, len(b.data))
	b.nos = append(b.nos, no)
	b.offs = append(b.offs, off)
	if b.bad != nil {
		b.bad = append(b.bad, nil)
	}
}

func (b *lineBatch) addBad(err error, no int, off int64) {
	if b.bad == nil {
		b.bad = make([]error, b.len(), b.len()+1)
	}
	b.ends = append(b.ends, len(b.data))
	b.nos = append(b.nos, no)
	b.offs = append(b.offs, off)
	b.bad = append(b.bad, err)
}

// readErr is why line i could not be read, or nil.
func (b *lineBatch) readErr(i int) error {
	if b.bad == nil {
		return nil
	}
	return b.bad[i]
}

// setVerified counts the lines that end within the first verified bytes of
// the input.
func (b *lineBatch) setVerified(verified int64) {
	n := b.len()
	for n > 0 && b.offs[n-1] > verified {
		n--
	}
	b.verified = n
}

// decodedBatch is a batch of lines and the documents decoded from them.
// done is closed once docs and errs are set.
type decodedBatch struct {
	*lineBatch
	docs []*segment.Document // docs[i] is line i's, nil if errs[i] is set
	errs []error
	done chan struct{}

	// dec decoded the documents, into its memory; release gives it back
	// to decoders for the next batch.
	dec      *segment.JSONDecoder
	decoders *sync.Pool
}

// decode decodes the lines of the batches from in on n goroutines (the
// number of CPUs if n is 0) and returns the batches in input order, each
// to be waited for on its done channel and released once its documents
// are no longer used. Decoding so runs ahead of the indexing loop and in
// parallel, while the loop still sees the lines in order, so line numbers
// and --on-error stay exact.
func decode(ctx context.Context, in <-chan *lineBatch, schema *segment.Schema, n int) <-chan *decodedBatch {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	work := make(chan *decodedBatch, n)
	out := make(chan *decodedBatch, 2*n)
	// Each batch is decoded into the memory of a decoder of its own, which
	// carves its documents from chunks (a few allocations a chunk rather
	// than three a document) and, once the batch is released, decodes a
	// later batch into the same chunks: the documents' memory is allocated
	// once per batch in flight, not once per batch.
	decoders := &sync.Pool{New: func() any {
		dec := schema.NewJSONDecoder()
		dec.Reuse()
		return dec
	}}
	go func() {
		defer close(out)
		defer close(work)
		for b := range in {
			d := &decodedBatch{lineBatch: b, done: make(chan struct{}), decoders: decoders}
			// out first: the loop waits on the oldest batch, which is
			// then always already on its way to a decoder.
			select {
			case out <- d:
			case <-ctx.Done():
				return
			}
			select {
			case work <- d:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range n {
		go func() {
			for d := range work {
				d.decode()
			}
		}()
	}
	return out
}

func (d *decodedBatch) decode() {
	defer close(d.done)
	d.dec = d.decoders.Get().(*segment.JSONDecoder)
	d.docs = make([]*segment.Document, d.len())
	d.errs = make([]error, d.len())
	for i := range d.len() {
		if err := d.readErr(i); err != nil {
			d.errs[i] = err
			continue
		}
		d.docs[i], d.errs[i] = d.dec.Decode(d.line(i))
	}
	putLineBuf(d.data) // the documents do not share the lines' memory
	d.data = nil
}

// release hands the batch's decoder on to a later batch, whose documents
// then overwrite this one's: call it once they are no longer used. The
// writer keeps none of a document's memory once AddDocuments returns: it
// keeps the document's wire form (actors.ToMessage) and a copy of its
// primary key, and the decoder's field names are the schema's strings.
func (d *decodedBatch) release() {
	d.docs = nil
	d.dec.Reuse()
	d.decoders.Put(d.dec)
	d.dec = nil
}

// lineBufs recycles the line buffers of decoded batches.
var lineBufs sync.Pool

func getLineBuf() []byte {
	if p, ok := lineBufs.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, batchBytes+batchBytes/4)
}

func putLineBuf(b []byte) {
	if cap(b) <= 2*batchBytes { // not the buffer of a huge line
		lineBufs.Put(&b)
	}
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
			if isLongLine(err) {
				b.addBad(err, no, r.Bytes())
				continue
			}
			if err != nil {
				done <- result{nil, err}
				return
			}
			b.add(line, no, r.Bytes())
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
