package main

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime/debug"

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
	n, err := hermesIndex(ctx, w, c)
	if err == nil {
		_, err = w.Commit(ctx)
	}
	return n, errors.Join(err, w.Close())
}

func hermesIndex(ctx context.Context, w *hermes.Writer, c *corpus) (int, error) {
	n := 0
	for {
		var d doc
		err := c.Next(&d)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		hd := &segment.Document{Values: make([]segment.FieldValue, 0, 3)}
		hd.AddString("id", d.ID).AddString("title", d.Title).AddString("text", d.Text)
		if err := w.AddDocumentWait(ctx, hd); err != nil {
			return n, err
		}
		n++
		if n%1000 == 0 {
			progress(n)
		}
	}
}
