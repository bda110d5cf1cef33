// Command bench indexes the same documents with Hermes and with bleve v2 and
// prints a side-by-side table: throughput, peak memory and index size.
//
//	cd bench && go run . [--input FILE] [--limit N] [--workers 2] [--positions off,on]
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
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// result is what a child reports on its standard output.
type result struct {
	Engine    string  `json:"engine"`
	Positions bool    `json:"positions"`
	Docs      int     `json:"docs"`
	Seconds   float64 `json:"seconds"`
	TextBytes int64   `json:"text_bytes"`
	// Filled in by the parent.
	PeakRSS    int64   `json:"-"`
	IndexBytes int64   `json:"-"`
	CPUSeconds float64 `json:"-"` // user + system time of the child
}

type options struct {
	input     string
	limit     int
	workers   int
	memory    int64
	engines   []string
	positions []bool
	dir       string
	keep      bool
	rounds    int
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
	var engines, positions, memory string
	fs.StringVar(&o.input, "input", defaultInput(), "the corpus: JSON lines {id,title,text}, gzip-compressed if the name ends in .gz")
	fs.IntVar(&o.limit, "limit", 0, "index at most `N` documents (0: all)")
	fs.IntVar(&o.workers, "workers", 2, "Hermes indexing workers")
	fs.StringVar(&memory, "memory", "256MiB", "Hermes indexing memory budget (e.g. 256MiB, 1GiB)")
	fs.StringVar(&engines, "engines", "hermes,bleve", "engines to run, comma-separated")
	fs.StringVar(&positions, "positions", "off,on", "positions settings to run, comma-separated (off, on)")
	fs.StringVar(&o.dir, "dir", "", "where to create the indexes (default: a temporary directory)")
	fs.BoolVar(&o.keep, "keep", false, "keep the indexes after the run")
	fs.IntVar(&o.rounds, "rounds", 1, "run every engine and setting `N` times, alternating, and report each one's fastest run")
	child := fs.String("child", "", "internal: run one engine in this process and print its result")
	childPositions := fs.Bool("child-positions", false, "internal: index positions in the child")
	childDir := fs.String("child-dir", "", "internal: the child's index directory")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run . [flags]\n\nIndexes the same documents with Hermes and with bleve v2, each in its own process,\nand prints docs/s, MB/s of text, peak RSS and index size.\n\nFlags:\n")
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
		return runChild(*child, *childPositions, *childDir, o, stdout)
	}
	for _, e := range strings.Split(engines, ",") {
		e = strings.TrimSpace(e)
		if e != "hermes" && e != "bleve" {
			return fmt.Errorf("--engines: unknown engine %q (use hermes, bleve or both)", e)
		}
		o.engines = append(o.engines, e)
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
// repository: ../shared/corpus from the repository root.
func defaultInput() string {
	for _, p := range []string{"../../shared/corpus/realmix.jsonl.gz", "../shared/corpus/realmix.jsonl.gz"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "../../shared/corpus/realmix.jsonl.gz"
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
	// Rounds alternate the engines, so that a burst of load on a shared
	// machine does not land on one engine only; each keeps its fastest run.
	best := map[string]result{}
	var order []string
	for round := 1; round <= o.rounds; round++ {
		for _, pos := range o.positions {
			for _, engine := range o.engines {
				dir := filepath.Join(base, fmt.Sprintf("%s-positions-%s", engine, onOff(pos)))
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "bench: %s, positions %s, round %d of %d ...\n", engine, onOff(pos), round, o.rounds)
				r, err := runOne(exe, engine, pos, dir, o, stderr)
				if err != nil {
					return fmt.Errorf("%s (positions %s): %w", engine, onOff(pos), err)
				}
				if !o.keep {
					os.RemoveAll(dir)
				}
				key := engine + "/" + onOff(pos)
				prev, seen := best[key]
				if !seen {
					order = append(order, key)
				}
				if !seen || r.Seconds < prev.Seconds {
					best[key] = r
				}
			}
		}
	}
	var results []result
	for _, key := range order {
		results = append(results, best[key])
	}
	printTable(stdout, results)
	return nil
}

// runOne runs one engine in a child process and completes its result with
// the child's peak RSS and the size of the index it left behind.
func runOne(exe, engine string, positions bool, dir string, o options, stderr io.Writer) (result, error) {
	args := []string{
		"--child", engine, "--child-positions=" + strconv.FormatBool(positions), "--child-dir", dir,
		"--input", o.input, "--limit", strconv.Itoa(o.limit),
		"--workers", strconv.Itoa(o.workers), "--memory", strconv.FormatInt(o.memory, 10),
	}
	cmd := exec.Command(exe, args...)
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
	size, err := dirSize(dir)
	if err != nil {
		return result{}, err
	}
	r.IndexBytes = size
	return r, nil
}

// runChild indexes the corpus with one engine and prints its result as JSON.
func runChild(engine string, positions bool, dir string, o options, stdout io.Writer) error {
	if dir == "" {
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
		n, err = runHermes(dir, c, positions, o.workers, o.memory)
	default:
		err = fmt.Errorf("unknown engine %q", engine)
	}
	if err != nil {
		return err
	}
	r := result{Engine: engine, Positions: positions, Docs: n, Seconds: time.Since(progressStart).Seconds(), TextBytes: c.TextBytes}
	return json.NewEncoder(stdout).Encode(r)
}

var (
	progressStart  time.Time
	progressEngine string
	progressLast   time.Time
)

// progress prints a line to stderr at most every 10 seconds.
func progress(docs int) {
	if time.Since(progressLast) < 10*time.Second {
		return
	}
	progressLast = time.Now()
	secs := time.Since(progressStart).Seconds()
	fmt.Fprintf(os.Stderr, "  %s: %d docs in %.0f s (%.0f docs/s)\n", progressEngine, docs, secs, float64(docs)/secs)
}

func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tpositions\tdocs\tseconds\tdocs/s\tMB/s\tCPU s\tdocs/CPU s\tpeak RSS\tindex size\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.0f\t%.2f\t%.1f\t%.0f\t%s\t%s\t\n", r.Engine, onOff(r.Positions), r.Docs, r.Seconds,
			float64(r.Docs)/r.Seconds, float64(r.TextBytes)/1e6/r.Seconds, r.CPUSeconds, float64(r.Docs)/r.CPUSeconds,
			mib(r.PeakRSS), mib(r.IndexBytes))
	}
	tw.Flush()
	for _, pos := range []bool{false, true} {
		var h, b *result
		for i := range results {
			if results[i].Positions != pos {
				continue
			}
			switch results[i].Engine {
			case "hermes":
				h = &results[i]
			case "bleve":
				b = &results[i]
			}
		}
		if h != nil && b != nil {
			fmt.Fprintf(w, "Hermes/bleve docs/s, positions %s: %.2fx\n", onOff(pos),
				(float64(h.Docs)/h.Seconds)/(float64(b.Docs)/b.Seconds))
		}
	}
	fmt.Fprintln(w, "MB/s counts the bytes of the text field; CPU s is the child's user+system time (less sensitive to a")
	fmt.Fprintln(w, "busy machine than wall time); peak RSS is each child process's maximum resident set size.")
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
