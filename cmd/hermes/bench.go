package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/cmd/hermes/internal/jsonl"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/worker"
)

const benchAbout = `Indexes a corpus of JSON lines {"id","title","text"} with Hermes alone and
reports documents/s, MB/s of text (the title and text fields), peak memory
(the process's maximum resident set size) and index size (its committed
segments). The index goes to a temporary directory, removed afterwards. The default corpus is the
project's benchmark corpus, ../shared/corpus/realmix.jsonl.gz next to the
repository. For a side-by-side comparison with bleve, see bench/ in the
repository.`

func runBench(ctx context.Context, args []string, io stdio) error {
	if len(args) > 0 && args[0] == "search" {
		return runBenchSearch(ctx, args[1:], io)
	}
	fl := newFlags("bench", "hermes bench [--input FILE] [--workers N] [--memory SIZE] [--limit N] [--repeat N] [--commit-every N] [--merge-share F] [--positions] [--cpuprofile FILE]", benchAbout, io)
	input := fl.String("input", "", "the corpus `file` (JSON lines, plain or gzip; default: realmix.jsonl.gz, if found)")
	workers := fl.Int("workers", 0, "`number` of indexing workers (default: the number of CPUs)")
	memory := byteSize(defaultMemory)
	fl.Var(&memory, "memory", "indexing memory `size` shared by the workers, e.g. 256MiB")
	limit := fl.Int("limit", 0, "index at most `N` documents (default: all)")
	repeat := fl.Int("repeat", 0, "read the corpus `N` times over in one run, the ids of copy k suffixed -k (4: realmix at 4x)")
	commitEvery := fl.Int("commit-every", 0, "commit after every `N` documents, so merges run while indexing (default: once, at the end)")
	mergeShare := fl.Float64("merge-share", 0, "the share of one core background merges may take while indexing (default 0.5; negative: unpaced)")
	positions := fl.Bool("positions", false, "index positions of title and text (for phrase queries)")
	dirPath := fl.String("dir", "", "build the index in this `directory` and keep it (default: temporary)")
	cpuProfile := fl.String("cpuprofile", "", "write a CPU profile of the run to `file` (for go tool pprof)")
	if err := fl.parseFlagsOnly(args); err != nil {
		return err
	}
	if *workers < 0 || *limit < 0 || *repeat < 0 || *commitEvery < 0 {
		return usagef("--workers, --limit, --repeat and --commit-every cannot be negative")
	}
	if *input == "" {
		*input = defaultCorpus()
		if *input == "" {
			return usagef("no corpus found at ../shared/corpus/realmix.jsonl.gz next to the repository; pass --input FILE")
		}
	}
	path := *dirPath
	if path == "" {
		tmp, err := os.MkdirTemp("", "hermes-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		path = filepath.Join(tmp, "index")
	}
	var in *jsonl.Reader
	var err error
	if *repeat > 0 {
		copies := newRepeatReader(*input, *repeat)
		defer copies.Close()
		in, err = jsonl.Open("-", copies)
	} else {
		in, err = jsonl.Open(*input, io.in)
	}
	if err != nil {
		return fmt.Errorf("open the corpus: %w", err)
	}
	defer in.Close()

	job := indexJob{
		dir:         path,
		schema:      benchSchema(*positions),
		cfg:         hermes.Config{Workers: *workers, MaxIndexingMemory: int64(memory), MergeCPUShare: *mergeShare},
		limit:       *limit,
		commitEvery: *commitEvery,
		skip:        true, // a benchmark reports bad lines rather than stop
		quiet:       !isTerminal(io.err),
		inferLines:  1,
		log:         io.err,
		countText:   true,
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	before := readBenchStats()
	busyBefore, buildBefore := worker.Busy()
	rss := sampleRSS()
	res, err := job.run(ctx, in)
	peaks := rss.stop(res)
	if err != nil {
		return err
	}
	rs := readBenchStats().since(before)
	busy, build := worker.Busy()
	busy, build = busy-busyBefore, build-buildBefore
	size, err := dirSize(path)
	if err != nil {
		return err
	}
	secs := res.elapsed.Seconds()
	w := io.out
	fmt.Fprintf(w, "corpus      %s\n", *input)
	fmt.Fprintf(w, "settings    workers %s, memory %s, positions %v%s%s\n", workersString(*workers), formatBytes(int64(memory)), *positions,
		repeatString(*repeat), mergeString(*commitEvery, *mergeShare))
	fmt.Fprintf(w, "documents   %s in %.1f s, then %.1f s waiting for merges\n", formatCount(res.docs), secs, res.mergeWait.Seconds())
	if n := len(res.rejected); n > 0 {
		fmt.Fprintf(w, "rejected    %s (the schema is id, title, text), first: %s\n", plural(n, "line", "lines"), res.rejected[0])
	}
	fmt.Fprintf(w, "throughput  %s docs/s, %.2f MB/s of text\n", formatCount(int64(float64(res.docs)/max(secs, 1e-9))), float64(res.textBytes)/1e6/max(secs, 1e-9))
	// Cores over the whole run: the CPU seconds count the merge wait too.
	fmt.Fprintf(w, "CPU         %.1f s (%.2f cores)", rs.cpuSeconds, rs.cpuSeconds/max(secs+res.mergeWait.Seconds(), 1e-9))
	if peaks.indexingCPU > 0 {
		fmt.Fprintf(w, ", %.1f s of it indexing: %s docs per CPU second", peaks.indexingCPU, formatCount(int64(float64(res.docs)/peaks.indexingCPU)))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "GC          %d cycles, %.0f%% of CPU\n", rs.gcCycles, 100*rs.gcShare())
	// How busy the workers were tells what set the pace: busy all along,
	// they did; idle, the loop shows what they waited for.
	n := *workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0) // hermes.Config's default
	}
	fmt.Fprintf(w, "workers     busy %.1f s, %.0f%% of %s time (building segments %.1f s); the loop waited %.1f s for decoded lines, %.1f s for room in the queue, %.1f s for commits\n",
		busy.Seconds(), 100*busy.Seconds()/(float64(n)*max(secs, 1e-9)), plural(n, "worker's", "workers'"), build.Seconds(),
		res.waitInput.Seconds(), res.waitQueue.Seconds(), res.commits.Seconds())
	fmt.Fprintf(w, "peak RSS    %s\n", formatBytes(peakRSS()))
	if peaks.indexing > 0 {
		fmt.Fprintf(w, "            sampled: %s while indexing (heap and stacks %s)", formatBytes(peaks.indexing), formatBytes(peaks.indexingAnon))
		if peaks.merging > 0 {
			fmt.Fprintf(w, ", %s while merging (heap and stacks %s)", formatBytes(peaks.merging), formatBytes(peaks.mergingAnon))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "index size  %s (%s)", formatBytes(res.indexBytes), plural(res.segments, "segment", "segments"))
	if size > res.indexBytes {
		// Merged-away segments wait out Config.RetiredFileGrace, or the
		// next open, before they are deleted.
		fmt.Fprintf(w, "; %s on disk with the segments merges retired and the key filter", formatBytes(size))
	}
	fmt.Fprintln(w)
	return nil
}

func repeatString(n int) string {
	if n < 2 {
		return ""
	}
	return fmt.Sprintf(", corpus %dx", n)
}

func mergeString(commitEvery int, share float64) string {
	s := ""
	if commitEvery > 0 {
		s += fmt.Sprintf(", a commit every %s documents", formatCount(int64(commitEvery)))
	}
	switch {
	case share < 0:
		s += ", merges unpaced"
	case share > 0:
		s += fmt.Sprintf(", merges take %.2f of a core", share)
	}
	return s
}

func workersString(n int) string {
	if n == 0 {
		return "default"
	}
	return fmt.Sprint(n)
}

// benchSchema is the schema of the benchmark corpus.
func benchSchema(positions bool) *segment.Schema {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true, Positions: positions},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true, Positions: positions},
	)
	if err != nil {
		panic(err) // a fixed schema: only a bug in this file gets here
	}
	return s
}

// defaultCorpus finds ../shared/corpus/realmix.jsonl.gz next to the
// repository holding the current directory, or returns "".
func defaultCorpus() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(data), "module github.com/hermes-search/hermes-go\n") {
			p := filepath.Join(filepath.Dir(dir), "shared", "corpus", "realmix.jsonl.gz")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// startCPUProfile writes a CPU profile to path until stop is called; with
// an empty path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
