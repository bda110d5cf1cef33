package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/storage"
)

// The end-to-end tests build the hermes binary once and run it as a user
// would, checking exit codes, stdout and stderr.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// hermesBin returns the path of a freshly built hermes binary.
func hermesBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "hermes-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "hermes")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// hermesCmd prepares a run of the binary. A race-enabled binary would
// sleep a second at exit; it exits at once, and with code 66 on a race.
func hermesCmd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(hermesBin(t), args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	return cmd
}

type result struct {
	code           int
	stdout, stderr string
}

// runHermes runs the binary with args and stdin, and returns what it did.
func runHermes(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := hermesCmd(t, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run hermes %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// corpus builds n documents; those whose index is a multiple of 7 mention
// "zebra" (the documents a search for it must return), the others do not.
func corpus(n int) (lines []string, zebras []string) {
	rng := rand.New(rand.NewSource(1))
	words := []string{"apple", "river", "stone", "cloud", "forest", "lamp", "violin", "harbor"}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("doc-%03d", i)
		var text []string
		for j := 0; j < 5+rng.Intn(10); j++ {
			text = append(text, words[rng.Intn(len(words))])
		}
		if i%7 == 0 {
			text = append(text, "zebra")
			zebras = append(zebras, id)
		}
		line, _ := json.Marshal(map[string]any{"id": id, "title": "Title " + id, "text": strings.Join(text, " "), "n": i})
		lines = append(lines, string(line))
	}
	return lines, zebras
}

func writeFile(t *testing.T, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docs.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// searchJSON runs search --json and decodes the hits.
func searchJSON(t *testing.T, dir, query string, extra ...string) []map[string]any {
	t.Helper()
	args := append([]string{"search", "--index", dir, "--json", "-k", "1000"}, extra...)
	r := runHermes(t, "", append(args, query)...)
	if r.code != 0 {
		t.Fatalf("search %q: %v", query, r)
	}
	var hits []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line == "" {
			continue
		}
		var h map[string]any
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatalf("search output line %q is not JSON: %v", line, err)
		}
		hits = append(hits, h)
	}
	return hits
}

func hitIDs(t *testing.T, hits []map[string]any) []string {
	t.Helper()
	var ids []string
	for _, h := range hits {
		id, ok := h["id"].(string)
		if !ok {
			t.Fatalf("hit %v has no string id", h)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// docCount reads the live document count with stats --json.
func docCount(t *testing.T, dir string) int64 {
	t.Helper()
	r := runHermes(t, "", "stats", "--index", dir, "--json")
	if r.code != 0 {
		t.Fatalf("stats: %v", r)
	}
	var st struct{ Docs int64 }
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("stats --json output %q: %v", r.stdout, err)
	}
	return st.Docs
}

func TestIndexThenSearchJSON(t *testing.T) {
	lines, zebras := corpus(60)
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--workers", "2")
	if r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	if !strings.Contains(r.stdout, "indexed 60 documents") {
		t.Errorf("summary does not report 60 documents:\n%s", r.stdout)
	}
	hits := searchJSON(t, dir, "zebra")
	if got := hitIDs(t, hits); strings.Join(got, ",") != strings.Join(zebras, ",") {
		t.Fatalf("search zebra: ids %v, want %v", got, zebras)
	}
	var last = 1e300
	for _, h := range hits {
		score, ok := h["score"].(float64)
		if !ok || score <= 0 || score > last {
			t.Fatalf("scores not positive and descending: %v", hits)
		}
		last = score
		text, _ := h["text"].(string)
		if !strings.Contains(text, "zebra") {
			t.Fatalf("hit %v: stored text does not contain the query word", h)
		}
		if _, ok := h["n"].(float64); !ok {
			t.Fatalf("hit %v: stored number field n missing", h)
		}
	}
	// --fields keeps only the named stored fields (and id, score, cursor).
	for _, h := range searchJSON(t, dir, "zebra", "--fields", "title") {
		if len(h) != 4 || h["title"] == nil || h["cursor"] == nil {
			t.Fatalf("--fields title: hit %v, want id, score, cursor, title", h)
		}
	}
	if n := docCount(t, dir); n != 60 {
		t.Fatalf("stats: %d documents, want 60", n)
	}
	// A query that cannot be answered is a usage error naming the field.
	if r := runHermes(t, "", "search", "--index", dir, "colour:red"); r.code != exitUsage || !strings.Contains(r.stderr, `"colour"`) {
		t.Fatalf("search on an unknown field: %v", r)
	}
}

func TestIndexGzipFromStdin(t *testing.T) {
	lines, zebras := corpus(30)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, strings.Join(lines, "\n"))
	zw.Close()
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, buf.String(), "index", "--index", dir, "--input", "-")
	if r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	if got := hitIDs(t, searchJSON(t, dir, "zebra")); strings.Join(got, ",") != strings.Join(zebras, ",") {
		t.Fatalf("ids %v, want %v", got, zebras)
	}
}

// A malformed line with --on-error stop: a non-zero exit naming the line,
// and the index keeps exactly what was committed before it.
func TestMalformedLineStops(t *testing.T) {
	lines, _ := corpus(10)
	lines[6] = `{"id":"doc-006","title":"broken",` // line 7
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--commit-every", "3", "--schema", writeSchema(t))
	if r.code == 0 {
		t.Fatalf("index succeeded on a malformed line: %v", r)
	}
	msg := strings.TrimSpace(r.stderr)
	lastLine := msg[strings.LastIndexByte(msg, '\n')+1:]
	if !strings.Contains(lastLine, "line 7") || !strings.Contains(lastLine, "--on-error skip") {
		t.Fatalf("error does not name line 7 and the fix in one line: %q", lastLine)
	}
	// Lines 1-6 were committed in two commits of 3; nothing after.
	if n := docCount(t, dir); n != 6 {
		t.Fatalf("index holds %d documents, want the 6 committed", n)
	}
}

func TestMalformedLineSkipped(t *testing.T) {
	lines, _ := corpus(10)
	lines[2] = `not json at all`                                    // line 3
	lines[8] = `{"id":"doc-008","title":"x","text":"y","n":"oops"}` // line 9: wrong type
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--on-error", "skip", "--schema", writeSchema(t))
	if r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	for _, want := range []string{"rejected 2 lines", "line 3:", "line 9:", `"n"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary does not mention %q:\n%s", want, r.stdout)
		}
	}
	if n := docCount(t, dir); n != 8 {
		t.Fatalf("index holds %d documents, want 8", n)
	}
}

func writeSchema(t *testing.T) string {
	t.Helper()
	schema := `{"fields":[
		{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},
		{"name":"title","type":"text","indexed":true,"stored":true},
		{"name":"text","type":"text","indexed":true,"stored":true,"positions":true},
		{"name":"n","type":"f64","stored":true,"fast":true}]}`
	path := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(path, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"index", "--bogus"}, "-bogus"},
		{[]string{"index", "--input", "x.jsonl"}, "--index is required"},
		{[]string{"index", "--index", "d", "--input", "x", "--on-error", "maybe"}, "stop or skip"},
		{[]string{"search", "--index", "d"}, "no query"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		r := runHermes(t, "", c.args...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d", c.args, r.code, exitUsage)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr %q, want one line mentioning %q", c.args, r.stderr, c.want)
		}
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range commands() {
		r := runHermes(t, "", c.name, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: hermes "+c.name) {
			t.Errorf("%s --help: %v", c.name, r)
		}
	}
}

// SIGINT during a run: the process exits cleanly, the index holds exactly
// the committed documents, and the lock is released.
func TestInterruptKeepsCommitted(t *testing.T) {
	lines, _ := corpus(5)
	dir := filepath.Join(t.TempDir(), "idx")
	cmd := hermesCmd(t, "index", "--index", dir, "--input", "-", "--commit-every", "3", "--schema", writeSchema(t))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	errLines := make(chan string, 100)
	var errText strings.Builder
	var errMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errMu.Lock()
			errText.WriteString(sc.Text() + "\n")
			errMu.Unlock()
			errLines <- sc.Text()
		}
		close(errLines)
	}()
	// Three documents make a commit; wait for it to be reported.
	io.WriteString(stdin, strings.Join(lines[:3], "\n")+"\n")
	waitFor(t, errLines, "committed generation")
	// Two more are read but never committed: stdin stays open, as from a
	// slow producer, until the interrupt.
	io.WriteString(stdin, strings.Join(lines[3:], "\n")+"\n")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d", err, exitInterrupted)
	}
	for range errLines {
	}
	errMu.Lock()
	if !strings.Contains(errText.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted:\n%s", errText.String())
	}
	errMu.Unlock()
	if n := docCount(t, dir); n != 3 {
		t.Fatalf("index holds %d documents, want the 3 committed", n)
	}
	ids := hitIDs(t, searchJSON(t, dir, "title"))
	if strings.Join(ids, ",") != "doc-000,doc-001,doc-002" {
		t.Fatalf("ids %v, want the first three", ids)
	}
	// The lock was released: another run can add the rest.
	r := runHermes(t, strings.Join(lines[3:], "\n"), "index", "--index", dir, "--input", "-")
	if r.code != 0 {
		t.Fatalf("index after the interrupt: %v", r)
	}
	if n := docCount(t, dir); n != 5 {
		t.Fatalf("index holds %d documents, want 5", n)
	}
}

// waitFor reads lines until one contains want.
func waitFor(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(60 * time.Second) // a hang, not a timing assumption
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stderr closed before %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no %q on stderr after 60 s", want)
		}
	}
}

func TestCheckFindsCorruption(t *testing.T) {
	lines, _ := corpus(20)
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines)); r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	if r := runHermes(t, "", "check", "--index", dir); r.code != 0 || !strings.Contains(r.stdout, "intact") {
		t.Fatalf("check of a fresh index: %v", r)
	}
	// Flip one bit in the middle of a segment file.
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	var victim string
	for _, n := range names {
		if filepath.Base(n) != "metadata.json" && !strings.HasPrefix(filepath.Base(n), ".") {
			victim = n
			break
		}
	}
	data, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x10
	if err := os.WriteFile(victim, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runHermes(t, "", "check", "--index", dir)
	if r.code == 0 {
		t.Fatalf("check passed a corrupt index: %v", r)
	}
	if !strings.Contains(r.stdout, filepath.Base(victim)) {
		t.Fatalf("check does not name the corrupt file %s: %v", filepath.Base(victim), r)
	}
}

func TestDemo(t *testing.T) {
	r := runHermes(t, "", "demo")
	if r.code != 0 {
		t.Fatalf("demo: %v", r)
	}
	if !strings.Contains(r.stdout, "Indexed 6,292 documents") {
		t.Errorf("demo did not index the whole corpus:\n%s", r.stdout)
	}
	for _, q := range demoQueries {
		i := strings.Index(r.stdout, "Query: "+q.query)
		if i < 0 {
			t.Fatalf("demo did not run %q:\n%s", q.query, r.stdout)
		}
		section := r.stdout[i+1:]
		if j := strings.Index(section, "Query: "); j >= 0 {
			section = section[:j]
		}
		if !strings.Contains(section, " 1. ") {
			t.Errorf("demo query %q found nothing", q.query)
		}
	}
}

// Without --schema, a line the schema cannot be inferred from stops the run
// before anything is indexed, and says how to go on.
func TestInferenceStopsOnBadSampleLine(t *testing.T) {
	lines, _ := corpus(5)
	lines[3] = `{"id":"doc-003","text":"x","flag":[[true]]}` // line 4: a nested array
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines))
	if r.code != exitFailure {
		t.Fatalf("exit %d, want %d: %v", r.code, exitFailure, r)
	}
	for _, want := range []string{"line 4", `"flag"`, "nothing was indexed", "--schema"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not mention %q: %s", want, r.stderr)
		}
	}
	// With skip, the line is reported and the others indexed.
	r = runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--on-error", "skip")
	if r.code != 0 || !strings.Contains(r.stdout, "line 4") {
		t.Fatalf("skip: %v", r)
	}
	if n := docCount(t, dir); n != 4 {
		t.Fatalf("index holds %d documents, want 4", n)
	}
}

// Indexing the same documents twice: the primary key catches the first
// duplicate, and the index keeps its documents.
func TestDuplicateKeysAreReported(t *testing.T) {
	lines, _ := corpus(8)
	path := writeFile(t, lines)
	dir := filepath.Join(t.TempDir(), "idx")
	if r := runHermes(t, "", "index", "--index", dir, "--input", path); r.code != 0 {
		t.Fatalf("first run: %v", r)
	}
	r := runHermes(t, "", "index", "--index", dir, "--input", path)
	if r.code != exitFailure || !strings.Contains(r.stderr, "line 1") || !strings.Contains(r.stderr, `duplicate id "doc-000"`) || !strings.Contains(r.stderr, "--upsert") {
		t.Fatalf("second run: %v", r)
	}
	if n := docCount(t, dir); n != 8 {
		t.Fatalf("index holds %d documents, want 8", n)
	}
}

func TestBenchCommand(t *testing.T) {
	lines, _ := corpus(50)
	lines[1] = `{"id":"doc-001","title":"t","text":"x","extra":1}` // not in the benchmark schema
	for i := range lines {
		lines[i] = strings.Replace(lines[i], fmt.Sprintf(`,"n":%d`, i), "", 1)
	}
	r := runHermes(t, "", "bench", "--input", writeFile(t, lines), "--limit", "40", "--workers", "1")
	if r.code != 0 {
		t.Fatalf("bench: %v", r)
	}
	for _, want := range []string{"documents   40 in", "rejected    1 line", "line 2:", "docs/s", "MB/s of text", "peak RSS", "index size",
		"waiting for merges", "CPU  ", "cores)", "GC  ", "cycles,", "% of CPU", "workers     busy", "% of 1 worker's time",
		"for decoded lines", "for room in the queue", "for commits"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bench output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// hermes bench's index size is the committed segments', not the directory's,
// which also holds the segments merges retired (kept for
// Config.RetiredFileGrace after the run) and the key filter.
func TestBenchIndexSizeIsTheCommittedSegments(t *testing.T) {
	lines, _ := corpus(60)
	for i := range lines { // the benchmark's schema is id, title, text
		lines[i] = strings.Replace(lines[i], fmt.Sprintf(`,"n":%d`, i), "", 1)
	}
	path := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "bench", "--input", writeFile(t, lines), "--workers", "1", "--commit-every", "5", "--dir", path)
	if r.code != 0 {
		t.Fatalf("bench: %v", r)
	}
	dir, err := storage.NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	for _, s := range meta.Segments {
		committed += s.Bytes
	}
	onDisk, err := dirSize(path)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("index size  %s (%s); %s on disk", formatBytes(committed), plural(len(meta.Segments), "segment", "segments"), formatBytes(onDisk))
	if !strings.Contains(r.stdout, want) {
		t.Fatalf("bench output lacks %q (12 commits, merged):\n%s", want, r.stdout)
	}
}

// hermes index leaves the index merged as the policy wants: with a commit
// every 5 documents, 14 commits make at least 14 segments, and the tiered
// policy (10 a tier) has merged them by the time index returns (it waits
// for a merge still running at the end).
func TestIndexWaitsForMerges(t *testing.T) {
	lines, _ := corpus(70)
	dir := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, "", "index", "--index", dir, "--input", writeFile(t, lines), "--workers", "1", "--commit-every", "5")
	if r.code != 0 {
		t.Fatalf("index: %v", r)
	}
	st := runHermes(t, "", "stats", "--index", dir, "--json")
	var stats struct {
		Docs     int64
		Segments []json.RawMessage
	}
	if err := json.Unmarshal([]byte(st.stdout), &stats); err != nil {
		t.Fatalf("stats --json output %q: %v", st.stdout, err)
	}
	if stats.Docs != 70 || len(stats.Segments) >= 10 {
		t.Fatalf("after index: %d documents in %d segments; want 70 in fewer than 10 (merged)", stats.Docs, len(stats.Segments))
	}
}
