package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

const benchSearchAbout = `Measures search latency and throughput on an existing index, in the style of
Lucene's luceneutil: a query set is generated from the index's own term
statistics in task families (LowTerm, MedTerm, HighTerm: single terms by
document frequency; AndHighHigh, AndHighMed: two required terms; OrHighHigh,
OrHighMed, OrHighLow: two optional terms; Phrase: two adjacent words of a
document; Prefix3: a three-letter prefix; Natural: three consecutive words of
a document, any of which may match). Every query runs --rounds times, the
families interleaved, and returns the top --k hits with each hit's primary
key, as an application would. Reported per family: p50, p90 and p99 latency;
then queries per second with 1 and with --goroutines goroutines.

The same tasks can be written with --write-tasks and run against bleve by
bench/ in the repository.`

// benchTask is one query of a task family, engine-neutral: bench/ reads
// these (as JSON lines) to run the same queries on bleve.
type benchTask struct {
	Family string   `json:"family"`
	Kind   string   `json:"kind"` // term, and, or, phrase, prefix
	Field  string   `json:"field"`
	Terms  []string `json:"terms"`
}

// queryString is the task in Hermes' query syntax.
func (t benchTask) queryString() string {
	switch t.Kind {
	case "and":
		parts := make([]string, len(t.Terms))
		for i, w := range t.Terms {
			parts[i] = "+" + t.Field + ":" + w
		}
		return strings.Join(parts, " ")
	case "phrase":
		return t.Field + `:"` + strings.Join(t.Terms, " ") + `"`
	case "prefix":
		return t.Field + ":" + t.Terms[0] + "*"
	default: // term, or
		parts := make([]string, len(t.Terms))
		for i, w := range t.Terms {
			parts[i] = t.Field + ":" + w
		}
		return strings.Join(parts, " ")
	}
}

var benchFamilies = []string{"LowTerm", "MedTerm", "HighTerm", "AndHighHigh", "AndHighMed",
	"OrHighHigh", "OrHighMed", "OrHighLow", "Phrase", "Prefix3", "Natural"}

func runBenchSearch(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("bench search", "hermes bench search --index DIR [--tasks F1,F2] [--queries N] [--rounds N] [--goroutines N]", benchSearchAbout, io)
	index := fl.String("index", "", "the index `directory`")
	families := fl.String("tasks", strings.Join(benchFamilies, ","), "task `families` to run, comma-separated")
	perTask := fl.Int("queries", 100, "queries per task `family`")
	rounds := fl.Int("rounds", 5, "run every query `N` times (the first round warms up and is not counted)")
	k := fl.Int("k", 10, "hits per query")
	goroutines := fl.Int("goroutines", runtime.GOMAXPROCS(0), "goroutines for the throughput run")
	seed := fl.Uint64("seed", 1, "seed of the query generator")
	writeTasks := fl.String("write-tasks", "", "also write the generated tasks to this `file` (JSON lines, for bench/)")
	readTasks := fl.String("read-tasks", "", "run the tasks of this `file` instead of generating them")
	cpuProfile := fl.String("cpuprofile", "", "write a CPU profile of the latency rounds to this `file`")
	if err := fl.parseFlagsOnly(args); err != nil {
		return err
	}
	if err := requireString("index", *index, "./myindex"); err != nil {
		return err
	}
	if *perTask < 1 || *rounds < 2 || *k < 1 || *goroutines < 1 {
		return usagef("--queries, --k and --goroutines must be at least 1, --rounds at least 2")
	}
	want := map[string]bool{}
	for _, f := range strings.Split(*families, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(benchFamilies, f) {
			return usagef("--tasks: unknown family %q (known: %s)", f, strings.Join(benchFamilies, ", "))
		}
		want[f] = true
	}
	var tasks []benchTask
	var err error
	if *readTasks != "" {
		tasks, err = readBenchTasks(*readTasks)
	} else {
		tasks, err = generateBenchTasks(*index, *perTask, *seed)
	}
	if err != nil {
		return err
	}
	tasks = slices.DeleteFunc(tasks, func(t benchTask) bool { return !want[t.Family] })
	if *writeTasks != "" {
		if err := writeBenchTasks(*writeTasks, tasks); err != nil {
			return err
		}
	}

	dir, err := storage.NewFS(*index)
	if err != nil {
		return err
	}
	start := time.Now()
	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		return fmt.Errorf("open the index at %s: %w", *index, err)
	}
	defer r.Close()
	openTime := time.Since(start)
	queries := make([]benchQuery, len(tasks))
	for i, t := range tasks {
		q, err := r.ParseQuery(t.queryString())
		if err != nil {
			return fmt.Errorf("task %s %q: %w", t.Family, t.queryString(), err)
		}
		queries[i] = benchQuery{task: t, q: q}
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	lat := map[string][]time.Duration{}
	cpu := map[string]time.Duration{}
	// One OS thread runs the latency rounds, so that its CPU time (less
	// disturbed than wall time on a busy machine) can be read per query.
	runtime.LockOSThread()
	for round := 0; round < *rounds; round++ {
		for i := range queries {
			if err := ctx.Err(); err != nil {
				return err
			}
			q := &queries[i]
			c0, t0 := threadCPU(), time.Now()
			n, err := benchRun(ctx, r, q, *k)
			d, c := time.Since(t0), threadCPU()-c0
			if err != nil {
				return fmt.Errorf("task %s %q: %w", q.task.Family, q.task.queryString(), err)
			}
			q.hits = n
			if round > 0 {
				lat[q.task.Family] = append(lat[q.task.Family], d)
				cpu[q.task.Family] += c
			}
		}
	}
	runtime.UnlockOSThread()
	w := io.out
	fmt.Fprintf(w, "index       %s: %s documents, opened in %s\n", *index, formatCount(int64(r.NumDocs())), openTime.Round(10*time.Microsecond))
	if anon, file := residentSplit(); anon > 0 {
		fmt.Fprintf(w, "memory      %s resident of the process's own (heap, stacks), %s of mapped index files (page cache)\n", formatBytes(anon), formatBytes(file))
	}
	fmt.Fprintf(w, "queries     %d tasks, %d rounds (first not counted), top %d with primary keys\n\n", len(queries), *rounds, *k)
	fmt.Fprintf(w, "%-12s %8s %9s %9s %9s %11s %9s\n", "task", "queries", "p50 µs", "p90 µs", "p99 µs", "CPU µs/q", "avg hits")
	for _, f := range benchFamilies {
		ds := lat[f]
		if len(ds) == 0 {
			continue
		}
		slices.Sort(ds)
		hits, n := 0, 0
		for _, q := range queries {
			if q.task.Family == f {
				hits += q.hits
				n++
			}
		}
		fmt.Fprintf(w, "%-12s %8d %9.1f %9.1f %9.1f %11.1f %9.1f\n", f, n, micros(pct(ds, 50)), micros(pct(ds, 90)), micros(pct(ds, 99)),
			micros(cpu[f])/float64(len(ds)), float64(hits)/float64(n))
	}
	fmt.Fprintln(w)
	passes := max(1, *rounds-1)
	qps1, err := benchQPS(ctx, r, queries, *k, 1, passes)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "QPS         %.0f with 1 goroutine", qps1)
	if *goroutines > 1 {
		qpsN, err := benchQPS(ctx, r, queries, *k, *goroutines, passes)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, ", %.0f with %d (%.2fx)", qpsN, *goroutines, qpsN/qps1)
	}
	fmt.Fprintln(w)
	return nil
}

type benchQuery struct {
	task benchTask
	q    query.Query
	hits int
}

// benchRun runs one query and reads each hit's primary key, as an
// application listing results would.
func benchRun(ctx context.Context, r *hermes.Reader, q *benchQuery, k int) (int, error) {
	hits, err := r.SearchQuery(ctx, q.q, k)
	if err != nil {
		return 0, err
	}
	for i := range hits {
		if _, err := hitKey(ctx, &hits[i]); err != nil {
			return 0, err
		}
	}
	return len(hits), nil
}

// benchQPS runs every query passes times over g goroutines and returns
// queries per second.
func benchQPS(ctx context.Context, r *hermes.Reader, queries []benchQuery, k, g, passes int) (float64, error) {
	total := len(queries) * passes
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, g)
	start := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1)) - 1
				if j >= total {
					return
				}
				if _, err := benchRun(ctx, r, &queries[j%len(queries)], k); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return float64(total) / time.Since(start).Seconds(), nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func readBenchTasks(path string) ([]benchTask, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []benchTask
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var t benchTask
		if err := json.Unmarshal([]byte(line), &t); err != nil || len(t.Terms) == 0 || t.Field == "" {
			return nil, fmt.Errorf("%s:%d: not a task (want {\"family\",\"kind\",\"field\",\"terms\"})", path, i+1)
		}
		out = append(out, t)
	}
	return out, nil
}

func writeBenchTasks(path string, tasks []benchTask) error {
	var b strings.Builder
	for _, t := range tasks {
		line, err := json.Marshal(t)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// benchTerm is a term of the benchmark field with its document frequency.
type benchTerm struct {
	term string
	df   uint32
}

// generateBenchTasks draws perTask queries of each family from the index's
// largest segment: its terms' document frequencies (as fractions of its
// documents) classify terms as high (>= 5%), medium (1-5%) and low
// (0.1-1%), as luceneutil's families are drawn from bands of frequency;
// its stored documents give adjacent words for phrases. Only words of 3+
// ASCII letters that are not English stop words are used, so that engines
// with other analyzers (bleve's standard analyzer drops stop words) index
// the same terms.
func generateBenchTasks(path string, perTask int, seed uint64) ([]benchTask, error) {
	meta, schema, err := readIndexMeta(path)
	if err != nil {
		return nil, err
	}
	internal, err := index.InternalSchema(schema)
	if err != nil {
		return nil, err
	}
	field := ""
	var most uint64
	var largest *storage.SegmentInfo
	for i := range meta.Segments {
		if largest == nil || meta.Segments[i].NumDocs > largest.NumDocs {
			largest = &meta.Segments[i]
		}
	}
	if largest == nil {
		return nil, fmt.Errorf("the index at %s is empty", path)
	}
	dir, err := storage.NewFS(path)
	if err != nil {
		return nil, err
	}
	id, err := segment.ParseID(largest.ID)
	if err != nil {
		return nil, err
	}
	seg, err := segment.Open(dir, id, internal)
	if err != nil {
		return nil, err
	}
	defer seg.Close()
	for _, f := range schema.Fields() {
		if f.Type == segment.TypeText && f.Indexed && f.Positions && f.Stored {
			if st := seg.FieldStats(f.Name); st.SumTokens > most {
				field, most = f.Name, st.SumTokens
			}
		}
	}
	if field == "" {
		return nil, fmt.Errorf("the index at %s has no stored text field with positions to draw queries from", path)
	}
	n := float64(seg.NumDocs())
	var high, med, low []benchTerm
	dfs := map[string]uint32{}
	err = seg.Terms(field, nil, func(term []byte) bool {
		if !benchWord(term) {
			return true
		}
		df, err := seg.DocFreq(field, term)
		if err != nil {
			return false
		}
		t := benchTerm{string(term), df}
		dfs[t.term] = df
		switch frac := float64(df) / n; {
		case frac >= 0.05:
			high = append(high, t)
		case frac >= 0.01:
			med = append(med, t)
		case frac >= 0.001:
			low = append(low, t)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(high) < 2 || len(med) < 2 || len(low) < 2 {
		return nil, fmt.Errorf("the index at %s is too small to draw queries from (%d high, %d medium, %d low-frequency terms)", path, len(high), len(med), len(low))
	}
	rng := rand.New(rand.NewPCG(seed, 0x6865726d6573))
	pick := func(ts []benchTerm) string { return ts[rng.IntN(len(ts))].term }
	two := func(a, b []benchTerm) []string {
		for {
			x, y := pick(a), pick(b)
			if x != y {
				return []string{x, y}
			}
		}
	}
	var tasks []benchTask
	add := func(family, kind string, terms ...string) {
		tasks = append(tasks, benchTask{Family: family, Kind: kind, Field: field, Terms: terms})
	}
	prefixes := map[string]bool{}
	for _, t := range append(append([]benchTerm{}, high...), med...) {
		prefixes[t.term[:3]] = true
	}
	prefixList := make([]string, 0, len(prefixes))
	for p := range prefixes {
		prefixList = append(prefixList, p)
	}
	sort.Strings(prefixList)
	for i := 0; i < perTask; i++ {
		add("LowTerm", "term", pick(low))
		add("MedTerm", "term", pick(med))
		add("HighTerm", "term", pick(high))
		add("AndHighHigh", "and", two(high, high)...)
		add("AndHighMed", "and", two(high, med)...)
		add("OrHighHigh", "or", two(high, high)...)
		add("OrHighMed", "or", two(high, med)...)
		add("OrHighLow", "or", two(high, low)...)
		add("Prefix3", "prefix", prefixList[rng.IntN(len(prefixList))])
	}
	// Phrases and natural queries come from the text of random documents.
	phrases, natural := 0, 0
	minDF := uint32(n * 0.001)
	for tries := 0; (phrases < perTask || natural < perTask) && tries < 200*perTask; tries++ {
		doc, err := seg.Document(uint32(rng.IntN(int(seg.NumDocs()))))
		if err != nil {
			return nil, err
		}
		v, _ := doc.Get(field)
		words := strings.Split(v.Str, " ")
		if len(words) < 4 {
			continue
		}
		at := rng.IntN(len(words) - 3)
		run := []string{}
		for _, w := range words[at:] {
			lw := strings.ToLower(w)
			if !benchWord([]byte(lw)) || dfs[lw] < minDF {
				break
			}
			run = append(run, lw)
			if len(run) == 3 {
				break
			}
		}
		if len(run) >= 2 && phrases < perTask {
			add("Phrase", "phrase", run[:2]...)
			phrases++
		} else if len(run) == 3 && natural < perTask {
			add("Natural", "or", run...)
			natural++
		}
	}
	return tasks, nil
}

// benchWord reports whether term is 3+ ASCII lower-case letters and not an
// English stop word.
func benchWord(term []byte) bool {
	if len(term) < 3 {
		return false
	}
	for _, c := range term {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return !benchStopWords[string(term)]
}

// benchStopWords are English stop words of 3+ letters (from Lucene's and
// bleve's English lists), which bleve's standard analyzer drops.
var benchStopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`and are but for into not such that the their then there these they
		this was will with about after all also any because been before being between both can could
		did does doing down during each few from further had has have having her here hers herself him
		himself his how its itself just more most myself nor now off once only other our ours ourselves
		out over own same she should some than theirs them themselves those through too under until very
		were what when where which while who whom why would you your yours yourself yourselves again
		against below above who`) {
		m[w] = true
	}
	return m
}()

// hitKey returns a hit's primary key.
func hitKey(_ context.Context, h *hermes.Hit) (string, error) {
	return h.Key.Str, nil
}
