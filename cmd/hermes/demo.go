package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/cmd/hermes/internal/democorpus"
	"github.com/hermes-search/hermes-go/cmd/hermes/internal/jsonl"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

const demoAbout = `Indexes a small corpus built into hermes (passages of the first State of the
Union address of every US president, public domain, and WordNet 3.0 glosses)
with default settings, commits, and runs a few searches. The index goes to a
temporary directory that is removed afterwards, or to --dir, where it stays
for 'hermes search --index DIR ...'. --license prints the WordNet notice.`

// demoQueries show the query syntax; each is run against the demo corpus.
var demoQueries = []struct{ query, about string }{
	{`railroad`, "a word, across two centuries of addresses"},
	{`"civil rights"`, "a phrase"},
	{`+inflation +year:[1970 TO 1989]`, "a word, and a range on the fast field year"},
	{`gold silver coinage`, "any of the words: speeches and WordNet glosses side by side"},
	{`+title:lincoln +slave*`, "a field, and a prefix"},
}

// demoSchema is the schema of the demo corpus: what inference would give,
// with year an integer.
func demoSchema() *segment.Schema {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
		segment.Field{Name: "year", Type: segment.TypeI64, Stored: true, Fast: true},
	)
	if err != nil {
		panic(err) // a fixed schema: only a bug in this file gets here
	}
	return s
}

func runDemo(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("demo", "hermes demo [--dir DIR]", demoAbout, io)
	dirPath := fl.String("dir", "", "keep the index in this `directory` (default: a temporary one, removed afterwards)")
	hitsPer := fl.Int("k", 3, "hits to show per query")
	license := fl.Bool("license", false, "print the WordNet licence notice and exit")
	if err := fl.parseFlagsOnly(args); err != nil {
		return err
	}
	if *license {
		fmt.Fprint(io.out, democorpus.Notice)
		return nil
	}
	path := *dirPath
	if path == "" {
		tmp, err := os.MkdirTemp("", "hermes-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		path = tmp
	}

	dir, err := storage.NewFS(path)
	if err != nil {
		return err
	}
	_, err = storage.ReadMetadata(dir)
	switch {
	case err == nil:
		fmt.Fprintf(io.out, "Using the index already in %s.\n\n", path)
	case errors.Is(err, fs.ErrNotExist):
		if err := demoIndex(ctx, path, io); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s holds an unreadable index: %w; pick another --dir", path, err)
	}

	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		return fmt.Errorf("open the demo index: %w", err)
	}
	defer r.Close()
	p := hitPrinter{schema: demoSchema(), fields: []string{"title", "text"}, color: isTerminal(io.out), reader: r}
	for _, q := range demoQueries {
		start := time.Now()
		parsed, err := r.ParseQuery(q.query)
		if err != nil {
			return fmt.Errorf("search %s: %w", q.query, err)
		}
		hits, err := r.SearchQuery(ctx, parsed, *hitsPer)
		if err != nil {
			return fmt.Errorf("search %s: %w", q.query, err)
		}
		p.parsed = parsed
		took := time.Since(start)
		fmt.Fprintf(io.out, "Query: %s    (%s)\n", q.query, q.about)
		docs, err := p.documents(ctx, hits)
		if err != nil {
			return err
		}
		p.printText(io.out, hits, docs)
		fmt.Fprintf(io.out, "    (%s in %s)\n\n", plural(len(hits), "hit", "hits"), took.Round(10*time.Microsecond))
	}
	if *dirPath != "" {
		fmt.Fprintf(io.out, "The index stays in %s. Try:\n  hermes search --index %s 'your words here'\n  hermes stats --index %s\n",
			path, shellQuote(path), shellQuote(path))
	} else {
		fmt.Fprintf(io.out, "Keep the index with 'hermes demo --dir DIR', then 'hermes search --index DIR ...'.\n")
	}
	fmt.Fprintf(io.out, "Index your own data: hermes index --index DIR --input docs.jsonl.gz\n")
	return nil
}

// demoIndex indexes the embedded corpus into path.
func demoIndex(ctx context.Context, path string, io stdio) error {
	data, err := democorpus.Open()
	if err != nil {
		return fmt.Errorf("the embedded demo corpus: %w", err)
	}
	defer data.Close()
	in, err := jsonl.NewReader("demo corpus", data, -1)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "Indexing the demo corpus (State of the Union passages and WordNet glosses) into %s ...\n", path)
	job := indexJob{dir: path, schema: demoSchema(), inferLines: 1, quiet: true, log: io.err}
	res, err := job.run(ctx, in)
	if err != nil {
		return err
	}
	secs := res.elapsed.Seconds()
	fmt.Fprintf(io.out, "Indexed %s documents in %.1f s (%s docs/s), committed as generation %d.\n\n",
		formatCount(res.docs), secs, formatCount(int64(float64(res.docs)/max(secs, 1e-9))), res.generation)
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '/' || r == ':') {
			safe = false
			break
		}
	}
	if safe && s != "" {
		return s
	}
	out := "'"
	for _, r := range s {
		if r == '\'' {
			out += `'\''`
		} else {
			out += string(r)
		}
	}
	return out + "'"
}
