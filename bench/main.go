// Command bench indexes the same documents with Hermes, bleve v2 and Lucene
// 4.10 and prints a side-by-side table: throughput, CPU, peak memory and
// index size, medians over interleaved rounds.
//
//	cd bench && go run . [--input FILE] [--limit N] [--workers 2,1] [--positions off,on]
//	                     [--engines hermes,lucene,bleve,floor] [--rounds 3]
//
// Each run happens in a child process (the program re-executes itself), so
// that the peak RSS reported for an engine is that engine's alone: it is the
// child's maximum resident set size as the kernel accounts it (rusage).
// Documents are streamed from the corpus as they are indexed by both engines,
// so decoding the JSON is part of both timings and the corpus itself is never
// held in memory.
//
// This is a separate Go module so that bleve never becomes a dependency of
// the library.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// result is what a child reports on its standard output.
type result struct {
	Engine    string  `json:"engine"`
	Workers   int     `json:"workers"` // Hermes workers, Lucene threads
	Positions bool    `json:"positions"`
	Docs      int     `json:"docs"`
	Seconds   float64 `json:"seconds"` // to a complete, committed, merged index
	// MergeSeconds is the part of Seconds spent after the commit, waiting
	// for merges.
	MergeSeconds float64 `json:"merge_seconds"`
	TextBytes    int64   `json:"text_bytes"`
	// Filled in by the parent.
	PeakRSS    int64   `json:"-"`
	IndexBytes int64   `json:"-"`
	CPUSeconds float64 `json:"-"` // user + system time of the child
}

type options struct {
	input         string
	limit         int
	workers       []int
	luceneThreads int
	luceneJars    string
	memory        int64
	engines       []string
	positions     []bool
	dir           string
	keep          bool
	rounds        int
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "search" {
		return runSearch(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var engines, positions, memory, workers string
	fs.StringVar(&o.input, "input", defaultInput(), "the corpus: JSON lines {id,title,text}, gzip-compressed if the name ends in .gz")
	fs.IntVar(&o.limit, "limit", 0, "index at most `N` documents (0: all)")
	fs.StringVar(&workers, "workers", "2", "Hermes indexing workers: one run per `list` entry, e.g. 2,1")
	fs.IntVar(&o.luceneThreads, "lucene-threads", 2, "Lucene indexing threads")
	fs.StringVar(&o.luceneJars, "lucene-jars", "/usr/share/java", "the `directory` holding lucene-core-4.10*.jar and lucene-analyzers-common-4.10*.jar")
	fs.StringVar(&memory, "memory", "256MiB", "Hermes indexing memory budget (e.g. 256MiB, 1GiB)")
	fs.StringVar(&engines, "engines", "hermes,bleve", "engines to run, comma-separated: hermes, bleve, lucene, floor (decode and tokenize only, one core)")
	fs.StringVar(&positions, "positions", "off,on", "positions settings to run, comma-separated (off, on)")
	fs.StringVar(&o.dir, "dir", "", "where to create the indexes (default: a temporary directory)")
	fs.BoolVar(&o.keep, "keep", false, "keep the indexes after the run")
	fs.IntVar(&o.rounds, "rounds", 1, "run every engine and setting `N` times, interleaved, and report the medians")
	child := fs.String("child", "", "internal: run one engine in this process and print its result")
	childPositions := fs.Bool("child-positions", false, "internal: index positions in the child")
	childDir := fs.String("child-dir", "", "internal: the child's index directory")
	childWorkers := fs.Int("child-workers", 2, "internal: the child's Hermes workers")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run . [flags]\n\nIndexes the same documents with Hermes, bleve v2 and Lucene 4.10, each in its own\nprocess, and prints docs/s, MB/s of text, CPU seconds, peak RSS and index size.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (all options are flags; see --help)", fs.Arg(0))
	}
	mem, err := parseBytes(memory)
	if err != nil {
		return fmt.Errorf("--memory: %w", err)
	}
	o.memory = mem
	if *child != "" {
		return runChild(*child, *childPositions, *childDir, *childWorkers, o, stdout)
	}
	for _, e := range strings.Split(engines, ",") {
		e = strings.TrimSpace(e)
		switch e {
		case "hermes", "bleve", "lucene", "floor":
		default:
			return fmt.Errorf("--engines: unknown engine %q (use hermes, bleve, lucene, floor)", e)
		}
		o.engines = append(o.engines, e)
	}
	for _, w := range strings.Split(workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			return fmt.Errorf("--workers: %q is not a positive number", w)
		}
		o.workers = append(o.workers, n)
	}
	if o.luceneThreads < 1 {
		return fmt.Errorf("--lucene-threads %d: use at least 1", o.luceneThreads)
	}
	for _, p := range strings.Split(positions, ",") {
		switch strings.TrimSpace(p) {
		case "off":
			o.positions = append(o.positions, false)
		case "on":
			o.positions = append(o.positions, true)
		default:
			return fmt.Errorf("--positions: %q is neither off nor on", p)
		}
	}
	if _, err := os.Stat(o.input); err != nil {
		return fmt.Errorf("the corpus: %w (pass --input FILE)", err)
	}
	if o.rounds < 1 {
		return fmt.Errorf("--rounds %d: run at least once", o.rounds)
	}
	return runAll(o, stdout, stderr)
}

// defaultInput is the project's benchmark corpus, which lives next to the
// repository (../shared/corpus from its root): the first
// shared/corpus/realmix.jsonl.gz found going up from the current directory.
func defaultInput() string {
	const rel = "shared/corpus/realmix.jsonl.gz"
	dir, err := os.Getwd()
	if err != nil {
		return "../../" + rel
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "../../" + rel
		}
		dir = parent
	}
}

// setting is one engine with its settings: one row of the table.
type setting struct {
	engine    string
	workers   int // Hermes workers, Lucene threads, 0 for the others
	positions bool
}

func (st setting) label() string {
	switch st.engine {
	case "hermes":
		return fmt.Sprintf("hermes, %d worker%s", st.workers, plural(st.workers))
	case "lucene":
		return fmt.Sprintf("lucene 4.10, %d thread%s", st.workers, plural(st.workers))
	case "floor":
		return "floor: decode+tokenize, 1 core"
	}
	return st.engine
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runAll(o options, stdout, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to re-run it: %w", err)
	}
	base := o.dir
	if base == "" {
		base, err = os.MkdirTemp("", "hermes-bench-")
		if err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(base)
		}
	}
	var lc *lucene
	var settings []setting
	for i, pos := range o.positions {
		for _, engine := range o.engines {
			switch engine {
			case "hermes":
				for _, w := range o.workers {
					settings = append(settings, setting{engine, w, pos})
				}
			case "lucene":
				if lc == nil {
					if lc, err = prepareLucene(o.luceneJars, base); err != nil {
						fmt.Fprintf(stderr, "bench: lucene skipped: %v\n", err)
						continue
					}
				}
				settings = append(settings, setting{engine, o.luceneThreads, pos})
			case "floor":
				if i == 0 { // positions change nothing here
					settings = append(settings, setting{engine, 1, pos})
				}
			default:
				settings = append(settings, setting{engine, 0, pos})
			}
		}
	}
	// Rounds interleave the settings, and each round starts one setting
	// later than the last, so that a burst of load on a shared machine does
	// not land on one engine only; the table shows the medians.
	runs := make([][]result, len(settings))
	for round := 0; round < o.rounds; round++ {
		for k := range settings {
			i := (k + round) % len(settings)
			st := settings[i]
			dir := filepath.Join(base, fmt.Sprintf("%s-%d-positions-%s", st.engine, st.workers, onOff(st.positions)))
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "bench: %s, positions %s, round %d of %d ...\n", st.label(), onOff(st.positions), round+1, o.rounds)
			r, err := runOne(exe, lc, st, dir, o, stderr)
			if err != nil {
				return fmt.Errorf("%s (positions %s): %w", st.label(), onOff(st.positions), err)
			}
			if !o.keep {
				os.RemoveAll(dir)
			}
			fmt.Fprintf(stderr, "  %.1f s wall (%.1f s of it waiting for merges), %.1f s CPU, %s peak RSS\n", r.Seconds, r.MergeSeconds, r.CPUSeconds, mib(r.PeakRSS))
			runs[i] = append(runs[i], r)
		}
	}
	results := make([]row, len(settings))
	for i, st := range settings {
		results[i] = medians(st, runs[i])
	}
	printTable(stdout, results, o.rounds)
	return nil
}

// row is one setting's medians over its rounds.
type row struct {
	setting
	docs                     int
	seconds, mergeWait, cpu  float64
	textBytes, rss, idxBytes int64
}

func medians(st setting, runs []result) row {
	med := func(f func(r result) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return row{
		setting:   st,
		docs:      runs[0].Docs,
		textBytes: runs[0].TextBytes,
		seconds:   med(func(r result) float64 { return r.Seconds }),
		mergeWait: med(func(r result) float64 { return r.MergeSeconds }),
		cpu:       med(func(r result) float64 { return r.CPUSeconds }),
		rss:       int64(med(func(r result) float64 { return float64(r.PeakRSS) })),
		idxBytes:  int64(med(func(r result) float64 { return float64(r.IndexBytes) })),
	}
}

// runOne runs one engine in a child process and completes its result with
// the child's peak RSS and the size of the index it left behind.
func runOne(exe string, lc *lucene, st setting, dir string, o options, stderr io.Writer) (result, error) {
	var cmd *exec.Cmd
	if st.engine == "lucene" {
		cmd = lc.command(o.input, dir, o.limit, st.workers, o.memory, st.positions)
	} else {
		cmd = exec.Command(exe, "--child", st.engine, "--child-positions="+strconv.FormatBool(st.positions), "--child-dir", dir,
			"--input", o.input, "--limit", strconv.Itoa(o.limit),
			"--child-workers", strconv.Itoa(max(st.workers, 1)), "--memory", strconv.FormatInt(o.memory, 10))
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return result{}, fmt.Errorf("read the child's result %q: %w", out.String(), err)
	}
	r.PeakRSS = peakRSS(cmd.ProcessState)
	r.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	if st.engine != "floor" {
		size, err := dirSize(dir)
		if err != nil {
			return result{}, err
		}
		r.IndexBytes = size
	}
	return r, nil
}

// runChild indexes the corpus with one engine and prints its result as JSON.
func runChild(engine string, positions bool, dir string, workers int, o options, stdout io.Writer) error {
	if dir == "" && engine != "floor" {
		return fmt.Errorf("--child-dir is required with --child")
	}
	c, err := openCorpus(o.input, o.limit)
	if err != nil {
		return err
	}
	defer c.Close()
	progressStart = time.Now()
	progressEngine = engine
	var n int
	switch engine {
	case "bleve":
		n, err = runBleve(dir, c, positions)
	case "hermes":
		n, err = runHermes(dir, c, positions, workers, o.memory)
	case "floor":
		n, err = runFloor(c)
	default:
		err = fmt.Errorf("unknown engine %q", engine)
	}
	if err != nil {
		return err
	}
	r := result{Engine: engine, Workers: workers, Positions: positions, Docs: n, Seconds: time.Since(progressStart).Seconds(), MergeSeconds: mergeWait.Seconds(), TextBytes: c.TextBytes}
	return json.NewEncoder(stdout).Encode(r)
}

var (
	progressStart  time.Time
	progressEngine string
	progressMu     sync.Mutex
	progressLast   time.Time
)

// progress prints a line to stderr at most every 10 seconds.
func progress(docs int) {
	progressMu.Lock()
	defer progressMu.Unlock()
	if time.Since(progressLast) < 10*time.Second {
		return
	}
	progressLast = time.Now()
	secs := time.Since(progressStart).Seconds()
	fmt.Fprintf(os.Stderr, "  %s: %d docs in %.0f s (%.0f docs/s)\n", progressEngine, docs, secs, float64(docs)/secs)
}

func printTable(w io.Writer, rows []row, rounds int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tpositions\tdocs\twall s\tmerge wait s\tdocs/s\tMB/s\tCPU s\tdocs/CPU s\tpeak RSS\tindex size\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%.0f\t%.2f\t%.1f\t%.0f\t%s\t%s\t\n", r.label(), onOff(r.positions), r.docs, r.seconds, r.mergeWait,
			float64(r.docs)/r.seconds, float64(r.textBytes)/1e6/r.seconds, r.cpu, float64(r.docs)/r.cpu,
			mib(r.rss), mib(r.idxBytes))
	}
	tw.Flush()
	for _, pos := range []bool{false, true} {
		var hermes, lucene, bleve, floor *row
		for i := range rows {
			r := &rows[i]
			if r.engine == "floor" {
				floor = r
				continue
			}
			if r.positions != pos {
				continue
			}
			switch r.engine {
			case "hermes":
				if hermes == nil || r.workers > hermes.workers {
					hermes = r
				}
			case "lucene":
				lucene = r
			case "bleve":
				bleve = r
			}
		}
		if hermes == nil {
			continue
		}
		rate := func(r *row) float64 { return float64(r.docs) / r.seconds }
		if lucene != nil {
			fmt.Fprintf(w, "positions %s: %s / %s: %.2fx the docs/s, %.2fx the CPU s\n", onOff(pos), hermes.label(), lucene.label(),
				rate(hermes)/rate(lucene), hermes.cpu/lucene.cpu)
		}
		if bleve != nil {
			fmt.Fprintf(w, "positions %s: %s / bleve: %.2fx the docs/s\n", onOff(pos), hermes.label(), rate(hermes)/rate(bleve))
		}
		if floor != nil && floor.docs == hermes.docs {
			fmt.Fprintf(w, "positions %s: %s CPU s / the floor's: %.2fx\n", onOff(pos), hermes.label(), hermes.cpu/floor.cpu)
		}
	}
	fmt.Fprintf(w, "Medians of %d interleaved round(s). Wall s runs to a committed index with its merges done (merge wait s:\n", rounds)
	fmt.Fprintln(w, "the part after the commit); docs/s is over wall s. MB/s counts the bytes of the text field; CPU s is the child's")
	fmt.Fprintln(w, "user+system time (less sensitive to a busy machine than wall time); peak RSS is each child process's")
	fmt.Fprintln(w, "maximum resident set size. The floor reads, decodes and tokenizes on one core and builds nothing.")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
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

// parseBytes reads a size such as 256MiB, 1GiB, 512MB, 64k or a plain number
// of bytes.
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size (use e.g. 256MiB or 1GiB)", s)
	}
	return int64(n * float64(mult)), nil
}
