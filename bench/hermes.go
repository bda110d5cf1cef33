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
// GOMAXPROCS goroutines with the schema's own JSON decoder, as hermes index
// does (the order of the documents does not matter here: one commit at the
// end). Lucene's child does the same with its threads.
func hermesIndex(ctx context.Context, w *hermes.Writer, schema *segment.Schema, c *corpus) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan [][]byte, 4)
	var added, textBytes atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				for _, line := range batch {
					d, err := schema.DecodeJSON(line)
					if err == nil {
						err = w.AddDocumentWait(ctx, d)
					}
					if err != nil {
						cancel(err)
						continue // drain, so the reader never blocks
					}
					for _, v := range d.Values {
						if v.Field == "text" {
							textBytes.Add(int64(len(v.Str)))
						}
					}
				}
				progress(int(added.Add(int64(len(batch)))))
			}
		}()
	}
	var readErr error
	for ctx.Err() == nil {
		batch := make([][]byte, 0, 256)
		for len(batch) < cap(batch) {
			line, _, err := c.NextLine()
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				break
			}
			batch = append(batch, line)
		}
		if len(batch) > 0 {
			batches <- batch
		}
		if len(batch) < cap(batch) {
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
