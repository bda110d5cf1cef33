package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// runFloor is the "floor" engine: what any indexer of this corpus must at
// least spend, on one core. It reads the lines (gunzip and split, with no
// allocation a line), decodes them with Hermes's JSON decoder as hermes
// index does (segment.JSONDecoder: strings unescaped and checked for UTF-8,
// documents carved from chunks it reuses batch after batch), tokenizes
// title and text with the simple tokenizer, and builds nothing. The parent
// reads its CPU seconds; the split between the two halves (CPU time, taken
// per batch of documents) goes to stderr.
func runFloor(c *corpus) (int, error) {
	runtime.GOMAXPROCS(1)
	schema, err := hermesSchema(false)
	if err != nil {
		return 0, err
	}
	dec := schema.NewJSONDecoder()
	var tok analysis.SimpleTokenizer
	var decode, tokenize time.Duration
	var tokens int
	count := func(analysis.Token) { tokens++ }
	batch := make([]*segment.Document, 0, 1000)
	n := 0
	for done := false; !done; {
		t0 := cpuTime()
		dec.Reuse() // the last batch is tokenized: decode into its memory, as hermes index does
		batch = batch[:0]
		for len(batch) < cap(batch) {
			line, _, err := c.NextLine()
			if err == io.EOF {
				done = true
				break
			}
			if err != nil {
				return n, err
			}
			d, err := dec.Decode(line)
			if err != nil {
				return n, err
			}
			batch = append(batch, d)
		}
		t1 := cpuTime()
		for _, d := range batch {
			for _, v := range d.Values {
				if v.Field == "title" || v.Field == "text" {
					tok.Tokenize(v.Str, count)
				}
				if v.Field == "text" {
					c.TextBytes += int64(len(v.Str))
				}
			}
		}
		decode += t1 - t0
		tokenize += cpuTime() - t1
		n += len(batch)
		progress(n)
	}
	fmt.Fprintf(os.Stderr, "  floor: read+decode %.2f CPU s, tokenize %.2f CPU s (%d tokens)\n", decode.Seconds(), tokenize.Seconds(), tokens)
	return n, nil
}

// cpuTime is the process's user+system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
