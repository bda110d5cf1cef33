package main

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// hermesSchema mirrors bleveMapping: id a stored primary keyword, title and
// text stored text with the "simple" tokenizer, positions as asked.
func hermesSchema(positions bool) (*segment.Schema, error) {
	return segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true, Positions: positions},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true, Positions: positions},
	)
}

// mergeWait is how long the last runHermes waited for merges after its
// commit.
var mergeWait time.Duration

// runHermes indexes the corpus into a new Hermes index in dir and commits
// once at the end, so the index is complete and durable when it returns.
// Documents go in through AddDocumentWait, which waits while the intake
// queue is full.
func runHermes(path string, c *corpus, positions bool, workers int, memory int64) (int, error) {
	ctx := context.Background()
	// As hermes index does, and as the README advises services: a soft
	// memory limit of the budget plus 20%, so that the collector keeps the
	// heap near the budget instead of letting it grow to twice the live
	// data. (In its own child process, it changes nothing for bleve.)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memory + memory/5)
	}
	schema, err := hermesSchema(positions)
	if err != nil {
		return 0, err
	}
	dir, err := storage.NewFS(path)
	if err != nil {
		return 0, err
	}
	w, err := hermes.Create(ctx, dir, schema, hermes.Config{Workers: workers, MaxIndexingMemory: memory})
	if err != nil {
		return 0, err
	}
	n, err := hermesIndex(ctx, w, schema, c)
	if err == nil {
		_, err = w.Commit(ctx)
	}
	// As Lucene's close and hermes index do, let the merges the commit
	// started finish, and time that apart.
	mergeStart := time.Now()
	if err == nil {
		err = w.WaitForMerges(ctx)
	}
	mergeWait = time.Since(mergeStart)
	return n, errors.Join(err, w.Close())
}

// hermesIndex reads lines on one goroutine and decodes and adds them on
// GOMAXPROCS goroutines as hermes index does: each goroutine decodes a
// batch of lines with its own segment.JSONDecoder and hands the documents
// to the writer in runs (AddDocuments, waiting with AddDocumentWait when the
// queue is full). The order of the documents does not matter here: one
// commit at the end. Lucene's child does the same with its threads.
func hermesIndex(ctx context.Context, w *hermes.Writer, schema *segment.Schema, c *corpus) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan *lineBatch, 4)
	free := make(chan *lineBatch, 8) // batches to reuse once decoded
	var added, textBytes atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := schema.NewJSONDecoder()
			docs := make([]*segment.Document, 0, batchLines)
			for b := range batches {
				// The last batch's documents were added (the writer keeps
				// copies): decode this one into their memory, as hermes
				// index does.
				dec.Reuse()
				docs = docs[:0]
				var err error
				for i := range b.ends {
					var d *segment.Document
					if d, err = dec.Decode(b.line(i)); err != nil {
						break
					}
					docs = append(docs, d)
				}
				select {
				case free <- b: // the documents share no memory with the lines
				default:
				}
				if err == nil {
					err = addRun(ctx, w, docs)
				}
				if err != nil {
					cancel(err)
					continue // drain, so the reader never blocks
				}
				for _, d := range docs {
					for _, v := range d.Values {
						if v.Field == "text" {
							textBytes.Add(int64(len(v.Str)))
						}
					}
				}
				progress(int(added.Add(int64(len(docs)))))
			}
		}()
	}
	var readErr error
	for ctx.Err() == nil {
		var b *lineBatch
		select {
		case b = <-free:
			b.data, b.ends = b.data[:0], b.ends[:0]
		default:
			b = &lineBatch{}
		}
		for len(b.ends) < batchLines {
			line, _, err := c.NextLine()
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				break
			}
			b.data = append(b.data, line...)
			b.ends = append(b.ends, len(b.data))
		}
		if len(b.ends) > 0 {
			batches <- b
		}
		if len(b.ends) < batchLines {
			break
		}
	}
	close(batches)
	wg.Wait()
	c.TextBytes = textBytes.Load()
	if err := context.Cause(ctx); err != nil && readErr == nil {
		readErr = err
	}
	return int(added.Load()), readErr
}

// batchLines is the lines of a batch, as in hermes index.
const batchLines = 256

// lineBatch is lines back to back in data; ends[i] is the end of line i.
type lineBatch struct {
	data []byte
	ends []int
}

func (b *lineBatch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.data[start:b.ends[i]]
}

// addRun adds docs as hermes index does: up to 64 in one AddDocuments call,
// and the one that finds the queue full with AddDocumentWait.
func addRun(ctx context.Context, w *hermes.Writer, docs []*segment.Document) error {
	for len(docs) > 0 {
		n, err := w.AddDocuments(docs[:min(len(docs), 64)])
		docs = docs[n:]
		if errors.Is(err, hermes.ErrQueueFull) {
			err = w.AddDocumentWait(ctx, docs[0])
			docs = docs[1:]
		}
		if err != nil {
			return err
		}
	}
	return nil
}
