package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/cmd/hermes/internal/jsonl"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/infer"
	"github.com/hermes-search/hermes-go/storage"
)

const indexAbout = `Indexes JSON lines, one document a line, into the index in DIR (created if
missing; an existing index is added to). The input is a file, plain or gzip,
or - for standard input; a UTF-8 byte-order mark at its start is ignored.

Without --schema, the schema is inferred from the first lines: "id" becomes
the primary key (a keyword, or i64 if it holds integers), other string fields
become stored text (the "simple" tokenizer, with positions), strings that are
all RFC 3339 timestamps or days (2024-05-01) stored fast dates, integers
stored fast i64 (u64 past the i64 range), other numbers stored fast f64,
true/false stored indexed fast bools. Nested objects become dotted field
names (author.name); arrays give multi-valued fields.

A malformed line (or one longer than 64 MiB) is reported with its number.
With --on-error stop (the default) the run stops and nothing after the last
commit is kept; with skip the line is reported and skipped. A run that
rejects every line fails. A run that fails before its first commit into a
new index leaves no index behind. Ctrl-C stops cleanly: committed documents
stay, the rest of the run is discarded, and the index is left unlocked.

Gzip input is checked member by member (a gzip file is one member unless it
was concatenated from several): with --commit-every, a commit waits until
the members its lines came from have been read to the end and their
checksums matched, so a corrupt member is never committed; a single-member
file is then committed once, at the end. --limit commits its documents
without reading the rest of their member.` + dynamicAbout

// indexOptions are the flags of hermes index.
type indexOptions struct {
	index       string
	input       string
	schema      string
	workers     int
	memory      byteSize
	commitEvery int
	onError     string
	inferLines  int
	inferAll    bool // --infer-lines all
	limit       int
	quiet       bool
	upsert      bool
}

func runIndex(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("index", "hermes index --index DIR --input FILE [flags]", indexAbout, io)
	o := indexOptions{memory: defaultMemory}
	fl.StringVar(&o.index, "index", "", "the index `directory`")
	fl.StringVar(&o.input, "input", "", "the documents: a JSON-lines `file` (plain or gzip), or - for stdin")
	fl.StringVar(&o.schema, "schema", "", "a schema `file` (JSON, {\"fields\":[...]}) for a new index, or one that adds fields to the existing index's; default: inferred")
	fl.IntVar(&o.workers, "workers", 0, "`number` of indexing workers (default: the number of CPUs)")
	fl.Var(&o.memory, "memory", "indexing memory `size` shared by the workers, e.g. 256MiB or 1GiB")
	fl.IntVar(&o.commitEvery, "commit-every", 0, "commit after every `N` documents (default: once, at the end)")
	fl.StringVar(&o.onError, "on-error", "stop", "`mode` for a malformed line: stop (keep only what was committed) or skip (report it and go on)")
	o.inferLines = 1000
	fl.Var(inferLinesFlag{&o.inferLines, &o.inferAll}, "infer-lines", "`lines` read to infer the schema without --schema, or all (default 1000)")
	fl.IntVar(&o.limit, "limit", 0, "index at most `N` documents (default: all)")
	fl.BoolVar(&o.quiet, "quiet", false, "print no progress, only the summary")
	var nodes nodeOptions
	addNodeFlags(fl, &nodes) // index_nodes.go
	fl.BoolVar(&o.upsert, "upsert", false, "a document whose primary key is already in the index (or earlier in the input) replaces the older one, instead of stopping the run")
	pos, err := fl.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q; the input is given with --input", pos[0])
	}
	if err := requireString("index", o.index, "./myindex"); err != nil {
		return err
	}
	if err := requireString("input", o.input, "docs.jsonl.gz"); err != nil {
		return err
	}
	if o.onError != "stop" && o.onError != "skip" {
		return usagef("--on-error %q: use stop or skip", o.onError)
	}
	if o.workers < 0 || o.commitEvery < 0 || o.limit < 0 || o.inferLines < 1 {
		return usagef("--workers, --commit-every and --limit cannot be negative, --infer-lines must be positive")
	}

	job := indexJob{
		dir:         o.index,
		cfg:         hermes.Config{Workers: o.workers, MaxIndexingMemory: int64(o.memory)},
		commitEvery: o.commitEvery,
		skip:        o.onError == "skip",
		limit:       o.limit,
		inferLines:  o.inferLines,
		quiet:       o.quiet,
		log:         io.err,
	}
	if err := nodes.apply(&job.cfg, o.workers); err != nil {
		return err
	}
	if o.upsert {
		job.cfg.OnDuplicate = hermes.ReplaceDuplicates
	}
	if o.schema != "" {
		data, err := os.ReadFile(o.schema)
		if err != nil {
			return fmt.Errorf("read the schema: %w", err)
		}
		s, err := segment.ParseSchema(data)
		if err != nil {
			return fmt.Errorf("%s: %w", o.schema, err)
		}
		job.schema = s
	}
	open := func() (*jsonl.Reader, error) { return jsonl.Open(o.input, io.in) }
	if base, ok := wholeInputBase(job.schema, o.inferAll, o.index); ok { // dynamic.go
		whole, err := newWholeInput(o.input, io.in)
		if err != nil {
			return err
		}
		defer whole.close()
		first, err := whole.open()
		if err != nil {
			return fmt.Errorf("open the input: %w", err)
		}
		job.schema, err = inferWholeInput(ctx, first, base, o.limit, io.err, o.quiet)
		first.Close()
		if err != nil {
			return err
		}
		open = whole.open
	}
	in, err := open()
	if err != nil {
		return fmt.Errorf("open the input: %w", err)
	}
	defer in.Close()
	res, err := job.run(ctx, in)
	if err != nil {
		return err
	}
	res.print(io.out, o.index)
	return nil
}

// indexJob is one indexing run; demo and bench use it too.
type indexJob struct {
	dir         string
	schema      *segment.Schema // nil: the index's, or inferred
	cfg         hermes.Config
	commitEvery int
	skip        bool // skip malformed lines rather than stop
	limit       int
	inferLines  int
	quiet       bool
	log         io.Writer
	countText   bool // sum the bytes of text fields, for MB/s of text
}

// rejection is a line that was not indexed, and why.
type rejection struct {
	line   int // 0 for a document rejected at commit (only its key is known)
	key    string
	reason string
}

func (r rejection) String() string {
	if r.line > 0 {
		return fmt.Sprintf("line %d: %s", r.line, r.reason)
	}
	return fmt.Sprintf("document %q: %s", r.key, r.reason)
}

// indexResult summarizes a run.
type indexResult struct {
	docs       int64 // documents of this run that were committed
	rejected   []rejection
	generation uint64
	segments   int           // in the index after the run
	indexDocs  int64         // live documents in the index after the run
	indexBytes int64         // size of its committed segments
	elapsed    time.Duration // reading, indexing and committing
	mergeWait  time.Duration // then waiting for background merges
	inputBytes int64         // uncompressed JSON read
	textBytes  int64         // bytes of text-field values added, with countText
	// The indexing loop's waits: for the next decoded batch (reading,
	// gunzip and decoding fell behind) and for room in the writer's queue
	// (the workers fell behind).
	waitInput, waitQueue time.Duration
	// commits is the time spent in Commit: with one commit at the end,
	// the run's tail, when the workers build their last segments.
	commits time.Duration
}

func (r *indexResult) print(w io.Writer, dir string) {
	secs := r.elapsed.Seconds()
	fmt.Fprintf(w, "indexed %s documents in %.1f s (%s docs/s, %.1f MB/s of JSON)\n",
		formatCount(r.docs), secs, formatCount(int64(float64(r.docs)/max(secs, 1e-9))), float64(r.inputBytes)/1e6/max(secs, 1e-9))
	if r.mergeWait >= 100*time.Millisecond {
		fmt.Fprintf(w, "then waited %.1f s for background merges to finish\n", r.mergeWait.Seconds())
	}
	r.printRejected(w)
	fmt.Fprintf(w, "index %s: generation %d, %s in %s, %s\n", dir, r.generation,
		plural(int(r.indexDocs), "document", "documents"), plural(r.segments, "segment", "segments"), formatBytes(r.indexBytes))
}

// printRejected lists the first rejected lines.
func (r *indexResult) printRejected(w io.Writer) {
	n := len(r.rejected)
	if n == 0 {
		return
	}
	what := plural(n, "line", "lines")
	for _, rj := range r.rejected {
		if rj.line == 0 { // rejected at commit: a document, not a line
			what = plural(n, "document", "documents")
		}
	}
	fmt.Fprintf(w, "rejected %s:\n", what)
	for i, rj := range r.rejected {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more\n", n-10)
			break
		}
		fmt.Fprintf(w, "  %s\n", rj)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatCount(int64(n)) + " " + many
}

// run indexes the lines of in. On a stop (a malformed line with --on-error
// stop, Ctrl-C, a failure) the documents added since the last commit are
// discarded and the error says what the index holds.
func (j *indexJob) run(ctx context.Context, in *jsonl.Reader) (*indexResult, error) {
	start := time.Now()
	res := &indexResult{}
	defer limitMemory(j.cfg.MaxIndexingMemory)()

	// An existing index keeps its schema; a new one takes --schema or an
	// inferred one. The directory of a new index is created only once
	// there is a schema, so a run that stops before leaves nothing behind.
	var dir *storage.FSDirectory
	var meta *storage.Metadata
	exists := false
	// What was in the directory before the run: only what the run added
	// may be removed again.
	var before map[string]bool // nil: the directory did not exist
	canRemove := true
	switch entries, err := os.ReadDir(j.dir); {
	case err == nil:
		before = make(map[string]bool, len(entries))
		for _, e := range entries {
			before[e.Name()] = true
		}
	case !errors.Is(err, fs.ErrNotExist):
		canRemove = false // not a directory, or unreadable: never touch it
	}
	if _, err := os.Stat(j.dir); err == nil {
		if dir, err = storage.NewFS(j.dir); err != nil {
			return nil, fmt.Errorf("open the index directory: %w", err)
		}
		meta, err = storage.ReadMetadata(dir)
		exists = err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read the index in %s: %w (run 'hermes check --index %s')", j.dir, err, j.dir)
		}
	}
	var pending *lineBatch
	schema := j.schema
	switch {
	case exists:
		existing, err := segment.ParseSchema(meta.Schema)
		if err != nil {
			return nil, fmt.Errorf("the schema of the index in %s: %w", j.dir, err)
		}
		codec := schema != nil && schema.StoredCompression() != existing.StoredCompression()
		if schema != nil && (!schema.Equal(existing) || schema.UnknownFields() != existing.UnknownFields() || codec) && (!grownFrom(schema, existing) || codec) {
			if codec && grownFrom(schema, existing) { // the index schema made, another codec
				schema = existing.WithStoredCompression(schema.StoredCompression())
			}
			if !schema.Extends(existing) {
				return nil, fmt.Errorf("the index in %s already has a different schema (%s); drop --schema to add to it, give one that only adds fields to it, or index into a new directory",
					j.dir, infer.Describe(existing))
			}
			if err := hermes.ExtendSchema(ctx, dir, schema, j.cfg); err != nil { // dynamic.go's fields, or --schema's
				if errors.Is(err, storage.ErrLocked) {
					return nil, fmt.Errorf("the index in %s is locked by another writer; wait for it to finish", j.dir)
				}
				return nil, fmt.Errorf("add fields to the index in %s: %w", j.dir, err)
			}
			if !j.quiet && !schema.Equal(existing) {
				fmt.Fprintf(j.log, "the index's schema now has %s too\n", addedFields(schema, existing))
			}
			if c := schema.StoredCompression(); !j.quiet && c != existing.StoredCompression() {
				fmt.Fprintf(j.log, "the index's new segments compress their stored fields with %s\n", c)
			}
			if meta, err = storage.ReadMetadata(dir); err != nil {
				return nil, fmt.Errorf("read the index in %s: %w", j.dir, err)
			}
			existing = schema
		}
		schema = existing
		res.generation = meta.Generation
	case schema == nil:
		var rejected []rejection
		var err error
		schema, pending, rejected, err = j.inferSchema(ctx, in)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(j.log, "hermes index: interrupted while reading the first lines to infer the schema; nothing was indexed\n")
			return nil, errInterrupted
		}
		if err != nil {
			return nil, err
		}
		res.rejected = append(res.rejected, rejected...)
		if !j.quiet {
			fmt.Fprintf(j.log, "schema inferred from the first %s: %s\n", plural(pending.len(), "line", "lines"), infer.Describe(schema))
		}
	}
	if dir == nil {
		var err error
		if dir, err = storage.NewFS(j.dir); err != nil {
			return nil, fmt.Errorf("create the index directory: %w", err)
		}
	}
	// A new index that ends up holding none of this run's documents (the
	// run failed, or rejected every line) is removed again, so a failed
	// first run leaves nothing behind to trip up the next one.
	discardNew := func() {
		if !exists && res.docs == 0 && canRemove {
			j.removeNew(before)
		}
	}

	var w *hermes.Writer
	var err error
	if exists {
		w, err = hermes.Open(ctx, dir, j.cfg)
	} else {
		w, err = hermes.Create(ctx, dir, schema, j.cfg)
	}
	if err != nil {
		if !errors.Is(err, storage.ErrLocked) {
			discardNew()
		}
		if errors.Is(err, storage.ErrLocked) {
			return nil, fmt.Errorf("the index in %s is locked by another writer; wait for it to finish", j.dir)
		}
		return nil, fmt.Errorf("open the index in %s: %w", j.dir, err)
	}

	prog := startProgress(j.log, in, "hermes index", j.quiet)
	runErr := j.loop(ctx, w, schema, in, pending, prog, res)
	prog.finish()
	res.elapsed = time.Since(start)
	res.inputBytes = in.Bytes()
	if runErr != nil {
		// Close discards what was not committed, and releases the lock.
		closeErr := w.Close()
		discardNew()
		return nil, j.stopped(runErr, closeErr, res)
	}
	// As Lucene's IndexWriter.close does, let background merges finish so
	// the index is left tidy. Ctrl-C stops the wait (the merges resume
	// when the index is next opened for writing); a failed merge leaves
	// the index as it was.
	mergeStart := time.Now()
	if err := w.WaitForMerges(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(j.log, "hermes index: a background merge failed; the index is intact: %v\n", err)
	}
	res.mergeWait = time.Since(mergeStart)
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("close the index: %w", err)
	}
	if res.docs == 0 && len(res.rejected) > 0 {
		discardNew()
		res.printRejected(j.log)
		what := "the index is as it was"
		if !exists {
			what = "no index was created"
		}
		return nil, fmt.Errorf("%s: every document was rejected (%s); %s", in.Name(), plural(len(res.rejected), "line", "lines"), what)
	}
	// Describe the index as it now stands on disk.
	if meta, err := storage.ReadMetadata(dir); err == nil {
		res.generation = meta.Generation
		res.segments = len(meta.Segments)
		for _, s := range meta.Segments {
			res.indexDocs += int64(s.NumDocs) - int64(s.NumDeleted)
			res.indexBytes += s.Bytes
		}
	}
	return res, nil
}

// removeNew removes the index this run created: the directory if it did
// not exist before (before is nil), else the entries not in before.
func (j *indexJob) removeNew(before map[string]bool) {
	if before == nil {
		_ = os.RemoveAll(j.dir)
		return
	}
	entries, _ := os.ReadDir(j.dir)
	for _, e := range entries {
		if !before[e.Name()] {
			_ = os.RemoveAll(filepath.Join(j.dir, e.Name()))
		}
	}
}

// stopped turns the reason a run stopped into the error the user sees: what
// happened, and what the index holds now.
func (j *indexJob) stopped(runErr, closeErr error, res *indexResult) error {
	holds := fmt.Sprintf("the index holds what was committed: %s of this run (generation %d)",
		plural(int(res.docs), "document", "documents"), res.generation)
	if res.docs == 0 && res.generation == 0 {
		holds = "nothing was committed"
	}
	var le *lineError
	switch {
	case errors.Is(runErr, context.Canceled):
		fmt.Fprintf(j.log, "hermes index: interrupted; %s, the rest of the run was discarded\n", holds)
		return errInterrupted
	case errors.As(runErr, &le):
		return fmt.Errorf("%s: %v; %s. Fix the line, or pass --on-error skip to skip such lines", le.input, le, holds)
	}
	if closeErr != nil {
		runErr = errors.Join(runErr, closeErr)
	}
	return fmt.Errorf("%v; %s", runErr, holds)
}

// lineError is a malformed input line.
type lineError struct {
	input  string
	line   int
	reason string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.reason) }

// inferSchema reads the first lines and infers a schema from them. Lines
// that cannot be sampled are errors, or with skip, rejections.
func (j *indexJob) inferSchema(ctx context.Context, in *jsonl.Reader) (*segment.Schema, *lineBatch, []rejection, error) {
	pending, err := readPending(ctx, in, j.inferLines)
	if err != nil {
		return nil, nil, nil, err
	}
	var s infer.Sampler
	var rejected []rejection
	kept := &lineBatch{}
	for i := 0; i < pending.len(); i++ {
		var err error
		var long *jsonl.LongLineError
		if errors.As(pending.readErr(i), &long) {
			err = fmt.Errorf("line %d: %s", long.Line, long.Reason())
		} else {
			err = s.Add(pending.line(i), pending.nos[i])
		}
		if err != nil {
			if !j.skip {
				return nil, nil, nil, fmt.Errorf("%s: %v; nothing was indexed. Fix the line, pass --on-error skip, or pass --schema", in.Name(), err)
			}
			rejected = append(rejected, rejection{line: pending.nos[i], reason: strings.TrimPrefix(err.Error(), fmt.Sprintf("line %d: ", pending.nos[i]))})
			continue
		}
		kept.add(pending.line(i), pending.nos[i], pending.offs[i])
	}
	schema, err := s.Schema()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %v", in.Name(), err)
	}
	return schema, kept, rejected, nil
}

// loop feeds the documents to the writer and commits. Lines are decoded
// ahead of it on several goroutines (see decode); it adds their documents
// in input order.
//
// With --commit-every, a commit waits until every line added before it is
// verified (jsonl.Reader.Verified): from gzip input, until the end of the
// gzip member the lines came from, where its checksum is checked, so that
// no line of a corrupt member is ever committed.
func (j *indexJob) loop(ctx context.Context, w *hermes.Writer, schema *segment.Schema, in *jsonl.Reader,
	pending *lineBatch, prog *progress, res *indexResult) error {
	// The feeding and decoding goroutines end with ctx; cancelling on
	// return also ends them when the loop stops first.
	feedCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := decode(feedCtx, feed(feedCtx, in, pending), schema, 0)
	var added int64 // documents added since the last commit
	commit := func() error {
		commitStart := time.Now()
		cr, err := w.Commit(ctx)
		res.commits += time.Since(commitStart)
		if err != nil {
			return err
		}
		for _, rj := range cr.Rejected {
			res.rejected = append(res.rejected, rejection{key: rj.Key, reason: rj.Reason})
		}
		res.docs += int64(cr.Docs)
		res.generation = cr.Generation
		added = 0
		if !j.quiet && j.commitEvery > 0 {
			prog.message("hermes index: committed generation %d, %s so far", cr.Generation, plural(int(res.docs), "document", "documents"))
		}
		return nil
	}
	total := 0
	for {
		var b *decodedBatch
		waitStart := time.Now()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b = <-batches:
		}
		if b == nil { // the feeder stopped: ctx ended
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.done:
		}
		res.waitInput += time.Since(waitStart)
		for i := 0; i < b.len(); {
			if j.limit > 0 && total >= j.limit {
				return commit()
			}
			// A run of decoded documents goes to the writer in one call (one
			// trip to the coordinator rather than one a document). It ends
			// before the next bad line, at the limit, and at the line after
			// which --commit-every commits, so the outcome is line by line
			// what adding them one at a time gives.
			end := i
			for end < b.len() && b.errs[end] == nil {
				end++
			}
			if j.limit > 0 {
				end = min(end, i+j.limit-total)
			}
			if j.commitEvery > 0 && i < b.verified {
				end = min(end, i+max(1, j.commitEvery-int(added)))
			}
			n, err := 0, b.errs[i]
			if err == nil {
				n, err = j.addRun(ctx, w, schema, b.docs[i:end], res)
			}
			total += n
			added += int64(n)
			prog.add(int64(n))
			i += n
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				reason, ok := lineProblem(err)
				if !ok {
					return fmt.Errorf("line %d: %w", b.nos[i], err)
				}
				if !j.skip {
					return &lineError{input: in.Name(), line: b.nos[i], reason: reason}
				}
				res.rejected = append(res.rejected, rejection{line: b.nos[i], reason: reason})
				i++
			}
			if j.commitEvery > 0 && added >= int64(j.commitEvery) && i-1 < b.verified {
				if err := commit(); err != nil {
					return err
				}
			}
		}
		b.release() // the writer holds copies of the documents
		if j.limit > 0 && total >= j.limit {
			// Done at this batch's last line: wait for no further input,
			// which may never come (a pipe left open) or fail.
			return commit()
		}
		if b.err == io.EOF {
			return commit()
		}
		if b.err != nil {
			return b.err
		}
	}
}

// lineProblem says what is wrong with a line whose document was refused:
// a malformed or over-long line, a document that does not fit the schema,
// or a duplicate key. ok is false for any other error (a failing writer).
func lineProblem(err error) (reason string, ok bool) {
	var de *segment.DocumentError
	var dk *hermes.DuplicateKeyError
	var long *jsonl.LongLineError
	switch {
	case errors.As(err, &de):
		de.Line = 0
		return de.Error(), true
	case errors.As(err, &dk):
		return fmt.Sprintf("duplicate %s %q (already in the index or earlier in the input; --upsert replaces it)", dk.Field, dk.Key), true
	case errors.As(err, &long):
		return long.Reason(), true
	}
	return "", false
}

// addRun hands documents to the writer in order, waiting while its queue
// is full, and returns how many it added: all of them, or those before the
// one whose error it returns.
func (j *indexJob) addRun(ctx context.Context, w *hermes.Writer, schema *segment.Schema, docs []*segment.Document, res *indexResult) (int, error) {
	added := 0
	for added < len(docs) {
		// At most addChunk at a time: AddDocuments validates all it is
		// given before it finds the queue full, and then again.
		n, err := w.AddDocuments(docs[added:min(len(docs), added+addChunk)])
		j.addTextBytes(schema, docs[added:added+n], res)
		added += n
		if errors.Is(err, hermes.ErrQueueFull) {
			// Wait for room with the one that did not fit, then go on
			// with the rest as one run again.
			waitStart := time.Now()
			err = w.AddDocumentWait(ctx, docs[added])
			res.waitQueue += time.Since(waitStart)
			if err == nil {
				j.addTextBytes(schema, docs[added:added+1], res)
				added++
			}
		}
		if err != nil {
			return added, err
		}
	}
	return added, nil
}

// addChunk bounds the documents of one AddDocuments call.
const addChunk = 64

// addTextBytes adds the bytes of the text-field values of docs to
// res.textBytes when the job counts them (hermes bench).
func (j *indexJob) addTextBytes(schema *segment.Schema, docs []*segment.Document, res *indexResult) {
	if !j.countText {
		return
	}
	for _, d := range docs {
		for _, v := range d.Values {
			if f, ok := schema.Field(v.Field); ok && f.Type == segment.TypeText {
				res.textBytes += int64(len(v.Str))
			}
		}
	}
}

// defaultMemory is --memory's default, the library's MaxIndexingMemory.
const defaultMemory = 256 << 20
