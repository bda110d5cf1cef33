package tests

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

// The crash tests run a seeded workload (adds, commits, an abort) against a
// storage.FaultyDirectory and cut it short at every point: a power loss
// before the i-th mutating operation, or an I/O error from the i-th on, or a
// full disk, or random errors. Whatever happened, the durability contract of
// package hermes must hold: the index reopens, holds exactly the documents of
// the last commit that returned nil (or of the commit in flight, when its
// metadata rename reached the disk), each once, and a writer opened on it
// commits again.
//
// The loops that fault "the i-th operation" run the writer with
// Config.Deterministic (loopConfig), so that the i-th operation is the same
// one in every run: each loop lists the operations of two clean runs,
// requires them equal, and checks that the faulted operation is the listed
// one. A failure names it, e.g. "crash before operation 57 (sync s3.post)".

// crashConfig makes workers write segments mid-stream (512 KiB each) and
// keeps restarts and deadlines short, so that a hang fails the test quickly.
func crashConfig() hermes.Config {
	return hermes.Config{
		Workers:           2,
		MaxIndexingMemory: 1 << 20,
		BatchDocs:         16,
		WorkerBackoff:     fastBackoff,
		FlushDeadline:     10 * time.Second,
		Logger:            logger(),
		// Merges run when the plan says (stepForceMerge), not in the
		// background, so that generations follow the plan.
		MergePolicy: mergepolicy.NoMerge{},
	}
}

// loopConfig is crashConfig for the loops that fault the i-th operation of
// a workload: with Config.Deterministic the workload's operations come in
// the same order in every run, so that i names the same operation each
// time (opList checks it).
func loopConfig() hermes.Config {
	cfg := crashConfig()
	cfg.Deterministic = true
	return cfg
}

// opList records the mutating operations of a directory, each as its
// operation and its file's name with segment ids replaced by their order
// of first appearance ("sync s2.post"; ids are random), so that two runs'
// lists compare equal when they did the same thing.
type opList struct {
	mu  sync.Mutex
	ops []string
	ids map[string]string
}

// record notes op and returns its 1-based number.
func (l *opList) record(op storage.Op, name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids == nil {
		l.ids = map[string]string{}
	}
	// A segment file's name starts with its 32-digit id: id.kind, or
	// id_generation.del.
	if len(name) > 32 && (name[32] == '.' || name[32] == '_') {
		seg := name[:32]
		if _, ok := l.ids[seg]; !ok {
			l.ids[seg] = fmt.Sprintf("s%d", len(l.ids))
		}
		name = l.ids[seg] + name[32:]
	}
	l.ops = append(l.ops, op.String()+" "+name)
	return len(l.ops)
}

func (l *opList) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ops)
}

// sameOps fails unless two clean runs' operation lists are equal.
func sameOps(t testing.TB, first, second []string) {
	t.Helper()
	if slices.Equal(first, second) {
		return
	}
	i := 0
	for i < min(len(first), len(second)) && first[i] == second[i] {
		i++
	}
	at := func(ops []string) string {
		if i < len(ops) {
			return ops[i]
		}
		return "the end"
	}
	t.Fatalf("two clean runs made %d and %d mutating operations, different from operation %d on (%s, then %s): Config.Deterministic does not fix their order",
		len(first), len(second), i+1, at(first), at(second))
}

// callTimeout bounds every call of a workload: the writer must answer, with
// an error if need be, well within it.
const callTimeout = 20 * time.Second

type stepKind int

const (
	stepAdd stepKind = iota
	stepCommit
	stepAbort      // PrepareCommit, then Abort
	stepDelete     // DeleteByKey of committed keys
	stepForceMerge // ForceMerge
)

type step struct {
	kind stepKind
	docs []*hermes.Document // stepAdd
	keys []string           // stepDelete
}

// crashPlan is the workload: a small first commit; a batch large enough
// for mid-stream segments (workers pass their budget before the commit
// asks them to flush); and a commit with nothing new (metadata only). With
// abort, an aborted document comes after the first commit, and its key
// comes back in the second.
func crashPlan(seed uint64, abort bool) []step {
	rnd := rand.New(rand.NewPCG(seed, 7))
	docs := func(prefix string, from, n int, raw []byte) []*hermes.Document {
		out := make([]*hermes.Document, n)
		for i := range out {
			out[i] = newDoc(id(prefix, from+i), uint64(from+i), text(rnd)).AddBytes("raw", raw)
		}
		return out
	}
	small, large := []byte("r"), []byte(strings.Repeat("raw document source ", 225)) // 4.5 KB
	plan := []step{
		{kind: stepAdd, docs: docs("a", 0, 1, small)}, // one document, one segment: fewer operations
		{kind: stepCommit},
	}
	if abort {
		plan = append(plan,
			step{kind: stepAdd, docs: docs("b", 0, 1, small)},
			step{kind: stepAbort},
			step{kind: stepAdd, docs: append(docs("b", 0, 1, small), docs("c", 0, 1, small)...)},
		)
	}
	return append(plan,
		step{kind: stepAdd, docs: docs("d", 0, 240, large)},
		step{kind: stepCommit},
		step{kind: stepCommit},
		// Deletes files beside committed segments, then a merge that
		// drops the deleted documents and retires its sources' files.
		step{kind: stepDelete, keys: []string{id("a", 0), id("d", 3), id("d", 200)}},
		step{kind: stepCommit},
		step{kind: stepForceMerge},
	)
}

// crashSchema is the tests' schema plus a stored-only field: large raw
// values fill a worker's memory budget quickly and cheaply, so that small
// workloads build segments mid-stream.
func crashSchema(t testing.TB) *hermes.Schema {
	t.Helper()
	fields := append(schema(t, "").Fields(), hermes.Field{Name: "raw", Type: segment.TypeBytes, Stored: true})
	s, err := segment.NewSchema(fields...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// model is what the workload knows about the index on disk.
type model struct {
	acked   map[string]bool // the documents of the last commit that returned nil
	pending map[string]bool // added since, not aborted
	deleted map[string]bool // committed documents deleted since, not aborted
	// inflight, when not nil, is what the index holds if the failed
	// commit's metadata reached the disk: acked plus the prepared documents.
	inflight map[string]bool
	// ackedGen is the generation of acked.
	ackedGen uint64
	// segments is the most segments a commit added.
	segments int
	// renames, when set, counts the metadata renames that took place;
	// renamed tells whether the failed commit's did.
	renames   *atomic.Int64
	renamesAt int64
	// dir, when set (and not crashed), is checked after each PrepareCommit
	// and Commit that returned nil: every file in it must be durable.
	dir *storage.FaultyDirectory
}

// renamed reports whether the commit in flight renamed its metadata into
// place (so that, without a crash, the index holds it).
func (m *model) renamed() bool {
	return m.inflight != nil && m.renames != nil && m.renames.Load() > m.renamesAt
}

func newModel(gen uint64) *model {
	return &model{acked: map[string]bool{}, pending: map[string]bool{}, deleted: map[string]bool{}, ackedGen: gen}
}

// allowed lists the states the index may be in after the workload stopped.
func (m *model) allowed() []map[string]bool {
	if m.inflight != nil {
		return []map[string]bool{m.acked, m.inflight}
	}
	return []map[string]bool{m.acked}
}

// runPlan runs plan on w and returns the first error of any call, with
// which call it was. m follows what was acknowledged.
func runPlan(w *hermes.Writer, plan []step, m *model) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	for i, st := range plan {
		switch st.kind {
		case stepAdd:
			for _, d := range st.docs {
				k, _ := d.Get("id")
				if err := w.AddDocumentWait(ctx, d); err != nil {
					return fmt.Errorf("step %d: add %s: %w", i, k.Str, err)
				}
				m.pending[k.Str] = true
			}
		case stepCommit, stepAbort:
			p, err := w.PrepareCommit(ctx)
			if err != nil {
				return fmt.Errorf("step %d: PrepareCommit: %w", i, err)
			}
			if err := m.checkDurable(); err != nil {
				return fmt.Errorf("step %d: PrepareCommit returned nil, but %w", i, err)
			}
			if got := p.Result().Docs; got != len(m.pending) {
				return fmt.Errorf("step %d: PrepareCommit prepared %d documents, %d were added: %w", i, got, len(m.pending), errModel)
			}
			if st.kind == stepAbort {
				if err := p.Abort(); err != nil {
					return fmt.Errorf("step %d: Abort: %w", i, err)
				}
				m.pending, m.deleted = map[string]bool{}, map[string]bool{}
				continue
			}
			m.inflight = maps.Clone(m.acked)
			maps.DeleteFunc(m.inflight, func(k string, _ bool) bool { return m.deleted[k] })
			maps.Copy(m.inflight, m.pending)
			if m.renames != nil {
				m.renamesAt = m.renames.Load()
			}
			res, err := p.Commit(ctx)
			if err != nil {
				return fmt.Errorf("step %d: Commit: %w", i, err)
			}
			if err := m.checkDurable(); err != nil {
				return fmt.Errorf("step %d: Commit returned nil, but %w", i, err)
			}
			if res.Generation != m.ackedGen+1 {
				return fmt.Errorf("step %d: Commit wrote generation %d after %d: %w", i, res.Generation, m.ackedGen, errModel)
			}
			m.acked, m.inflight, m.pending, m.ackedGen = m.inflight, nil, map[string]bool{}, res.Generation
			m.deleted = map[string]bool{}
			m.segments = max(m.segments, res.Segments)
		case stepDelete:
			for _, k := range st.keys {
				if !m.acked[k] || m.pending[k] {
					return fmt.Errorf("step %d: the plan deletes %s, which is not a committed document: %w", i, k, errModel)
				}
				if err := w.DeleteByKey(k); err != nil {
					return fmt.Errorf("step %d: delete %s: %w", i, k, err)
				}
				m.deleted[k] = true
			}
		case stepForceMerge:
			// The documents stay what they are; a crash leaves the
			// sources or the merged segment, either holding acked.
			if err := w.ForceMerge(ctx); err != nil {
				return fmt.Errorf("step %d: ForceMerge: %w", i, err)
			}
			st, err := w.Stats(ctx)
			if err != nil {
				return fmt.Errorf("step %d: Stats: %w", i, err)
			}
			if len(st.Segments) != 1 || st.LiveDocs != len(m.acked) {
				return fmt.Errorf("step %d: after ForceMerge %d segments, %d live docs; want 1 and %d: %w", i, len(st.Segments), st.LiveDocs, len(m.acked), errModel)
			}
			m.ackedGen = st.Generation
		}
	}
	return nil
}

// checkDurable fails when a file of m.dir would not surely survive a crash
// (its bytes or its name not synced). pk_bloom.bin is a cache outside the
// contract: a lost or torn one fails its checksum and is rebuilt on open.
func (m *model) checkDurable() error {
	if m.dir == nil {
		return nil
	}
	names, err := m.dir.List()
	if err != nil {
		return err
	}
	for _, name := range m.dir.Unsynced() {
		if name == pkindex.FileName {
			continue
		}
		if _, ok := slices.BinarySearch(names, name); ok {
			return fmt.Errorf("%s is not durable: %w", name, errModel)
		}
	}
	return nil
}

// errModel marks a workload error that breaks the contract by itself (a
// wrong count), as opposed to one caused by an injected fault.
var errModel = errors.New("contract broken")

// diff describes how got differs from want ("" when it holds exactly want,
// each once).
func diff(got map[string]int, want map[string]bool) string {
	var extra, missing, dup []string
	for k, n := range got {
		if n != 1 {
			dup = append(dup, fmt.Sprintf("%s x%d", k, n))
		}
		if !want[k] {
			extra = append(extra, k)
		}
	}
	for k := range want {
		if got[k] == 0 {
			missing = append(missing, k)
		}
	}
	if len(extra)+len(missing)+len(dup) == 0 {
		return ""
	}
	some := func(s []string) []string {
		slices.Sort(s)
		return s[:min(len(s), 4)]
	}
	return fmt.Sprintf("%d documents, want %d: %d never committed (e.g. %v), %d missing (e.g. %v), %d duplicated (e.g. %v)",
		len(got), len(want), len(extra), some(extra), len(missing), some(missing), len(dup), some(dup))
}

// checkOneOf fails unless got is exactly one of the allowed states, and
// returns which.
func checkOneOf(t testing.TB, got map[string]int, allowed []map[string]bool, when string) map[string]bool {
	t.Helper()
	var why []string
	for _, want := range allowed {
		d := diff(got, want)
		if d == "" {
			return want
		}
		why = append(why, d)
	}
	t.Fatalf("%s: the index holds %s", when, strings.Join(why, "; or, against the commit in flight, "))
	return nil
}

// openReaderIDs opens a reader on dir and returns its documents and
// generation.
func openReaderIDs(t testing.TB, dir storage.Directory, when string) (map[string]int, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		t.Fatalf("%s: the index does not reopen: %v", when, err)
	}
	defer r.Close()
	return allIDs(t, r), r.Generation()
}

// closeWriter closes w, failing the test if Close hangs.
func closeWriter(t testing.TB, w *hermes.Writer) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		_ = w.Close() // after a fault Close may report it; it must still release everything
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(callTimeout):
		t.Fatalf("Writer.Close hung for %v", callTimeout)
	}
}

// checkRecovers checks the index in dir after a fault: it reopens (reader
// and writer) and holds exactly one of allowed; the writer takes the
// documents that were lost plus new ones and commits them; and that commit
// survives another power loss.
func checkRecovers(t testing.TB, dir *storage.FaultyDirectory, allowed []map[string]bool, when string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	ids, gen := openReaderIDs(t, dir, when)
	state := checkOneOf(t, ids, allowed, when)

	w, err := hermes.Open(ctx, dir, crashConfig())
	if err != nil {
		t.Fatalf("%s: the index opens for reading but not for writing: %v", when, err)
	}
	defer closeWriter(t, w)
	if d := diff(readerIDs(t, w), state); d != "" {
		t.Fatalf("%s: the reopened writer sees %s (OpenReader saw the index right)", when, d)
	}
	// Lost documents' keys are free: nothing of them may linger.
	want := maps.Clone(state)
	readd := 0
	for _, s := range allowed {
		for k := range s {
			if !want[k] {
				want[k] = true
				readd++
				if err := w.AddDocumentWait(ctx, newDoc(k, 0, "re-added after the fault")); err != nil {
					t.Fatalf("%s: re-adding lost document %s: %v", when, k, err)
				}
			}
		}
	}
	for i := 0; i < 10; i++ {
		k := id("after", i)
		want[k] = true
		if err := w.AddDocumentWait(ctx, newDoc(k, uint64(i), "written after recovery")); err != nil {
			t.Fatalf("%s: add after recovery: %v", when, err)
		}
	}
	res, err := w.Commit(ctx)
	if err != nil {
		t.Fatalf("%s: commit after recovery: %v", when, err)
	}
	if res.Docs != readd+10 || res.Generation <= gen {
		t.Fatalf("%s: commit after recovery: %d docs, generation %d; want %d docs and a generation above %d", when, res.Docs, res.Generation, readd+10, gen)
	}
	if d := diff(readerIDs(t, w), want); d != "" {
		t.Fatalf("%s: after the recovery commit the writer sees %s", when, d)
	}
	closeWriter(t, w)

	again, _ := openReaderIDs(t, dir.Crash(), when+", then another crash")
	if d := diff(again, want); d != "" {
		t.Fatalf("%s: the recovery commit did not survive a crash: the index holds %s", when, d)
	}
}

// crashAt cuts power just before the at-th mutating operation (1-based)
// that reaches its hook, and keeps what survived. It records the
// operations, so that the crash point can be checked against a clean run.
type crashAt struct {
	dir   *storage.FaultyDirectory
	at    int
	ops   opList
	after atomic.Pointer[storage.FaultyDirectory]
}

func (c *crashAt) hook(op storage.Op, name string) error {
	if op.Mutating() && c.ops.record(op, name) == c.at {
		c.after.Store(c.dir.Crash()) // the operation then fails: the directory is gone
	}
	return nil
}

// cleanCrashRun runs plan from Create to Close without a fault and returns
// the mutating operations it made, with what it acknowledged.
func cleanCrashRun(t *testing.T, plan []step, seed int64) ([]string, *model, *storage.FaultyDirectory) {
	t.Helper()
	dir := storage.NewFaulty(seed)
	var ops opList
	dir.OnOp(func(op storage.Op, name string) error {
		if op.Mutating() {
			ops.record(op, name)
		}
		return nil
	})
	w, err := hermes.Create(context.Background(), dir, crashSchema(t), loopConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(1)
	m.dir = dir
	if err := runPlan(w, plan, m); err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	dir.OnOp(nil)
	return ops.list(), m, dir
}

// TestCrashAtEveryOperation cuts power before each mutating operation of
// the workload in turn, from Create to the last commit.
func TestCrashAtEveryOperation(t *testing.T) {
	const seed = 1
	plan := crashPlan(seed, true)

	// Two clean runs list the operations: the same list, so that crash
	// point i is the same operation in every run.
	start := time.Now()
	ops, m, clean := cleanCrashRun(t, plan, seed)
	t.Logf("clean run: %d mutating operations in %v", len(ops), time.Since(start))
	again, _, _ := cleanCrashRun(t, plan, seed)
	sameOps(t, ops, again)
	ids, _ := openReaderIDs(t, clean.Crash(), "clean run")
	checkExactly(t, ids, m.acked, "clean run, after a crash")
	if m.segments < 3 {
		t.Fatalf("clean run: at most %d segments in a commit; the workload must make 2 workers build segments mid-stream", m.segments)
	}

	for at := 1; at <= len(ops); at++ {
		dir := storage.NewFaulty(int64(seed*1000 + at))
		c := &crashAt{dir: dir, at: at}
		dir.OnOp(c.hook)
		when := fmt.Sprintf("crash before operation %d (%s)", at, ops[at-1])
		m := newModel(1)
		w, err := hermes.Create(context.Background(), dir, crashSchema(t), loopConfig())
		if err != nil {
			after := c.after.Load()
			if after == nil {
				t.Fatalf("%s: Create failed without a fault: %v", when, err)
			}
			if got := c.ops.list()[at-1]; got != ops[at-1] {
				t.Fatalf("%s: the run crashed before %s instead: the operations' order differs from the clean run's", when, got)
			}
			// No index was acknowledged: there is none, or an empty one.
			if _, err := storage.ReadMetadata(after); errors.Is(err, fs.ErrNotExist) {
				w, err := hermes.Create(context.Background(), after, crashSchema(t), crashConfig())
				if err != nil {
					t.Fatalf("%s during Create: Create again: %v", when, err)
				}
				closeWriter(t, w)
			}
			checkRecovers(t, after, []map[string]bool{{}}, when+" during Create")
			continue
		}
		err = runPlan(w, plan, m)
		closeWriter(t, w)
		after := c.after.Load()
		switch {
		case errors.Is(err, errModel):
			t.Fatalf("%s: %v", when, err)
		case after == nil && err != nil:
			t.Fatalf("%s: the workload failed without a fault: %v", when, err)
		case after == nil:
			t.Fatalf("%s: the workload ended after %d operations, before the crash point", when, len(c.ops.list()))
		}
		if got := c.ops.list()[at-1]; got != ops[at-1] {
			t.Fatalf("%s: the run crashed before %s instead: the operations' order differs from the clean run's", when, got)
		}
		checkRecovers(t, after, m.allowed(), when)
	}
}

// TestErrorAtEveryOperation is pebble's error-injection loop: the i-th
// mutating operation after Create and every later one fail, for i = 0, 1,
// ..., n, where n is the operations of a clean run (two clean runs list the
// same operations; at n nothing fails and the workload succeeds). Each run
// whose failed operations are not all best effort must end in an error (no
// panic, no hang). Then, with the fault gone, the writer is closed and
// the index must hold exactly the last commit that returned nil, or the
// failed one if its metadata rename happened before the error (WriteAtomic
// failed at its directory sync); it reopens, takes new commits, and
// survives a crash.
func TestErrorAtEveryOperation(t *testing.T) {
	errorLoop(t, crashPlan(2, false), loopConfig(), false)
}

// TestErrorAtEveryOperationSameWriter is the same loop, but after a failed
// PrepareCommit the same writer must commit every pending document as soon
// as the fault is gone: "On error no document is lost: intake resumes and
// the next PrepareCommit covers them."
func TestErrorAtEveryOperationSameWriter(t *testing.T) {
	cfg := loopConfig()
	cfg.BatchDocs = 4 // each commit's 12 documents in 3 batches: 2 for one worker, 1 for the other
	errorLoop(t, flushPlan(3), cfg, true)
}

// flushPlan is a cheaper workload for the same-writer loop, where a retry
// rebuilds every pending segment: three commits of small documents, each
// spread over both workers, so that one worker's flush can fail after the
// other's succeeded. (TestRandomIOErrors and TestDiskFull retry over
// mid-stream segments.)
func flushPlan(seed uint64) []step {
	var plan []step
	for c := range 3 {
		plan = append(plan, step{kind: stepAdd, docs: someDocs(seed+uint64(c), fmt.Sprint("f", c), 12, nil)}, step{kind: stepCommit})
	}
	return plan
}

// errorLoop fails the i-th mutating operation after Create and every later
// one, for each i from 0 to the clean run's count (where nothing fails).
// cfg is Deterministic: the i-th operation is the same in every run.
func errorLoop(t *testing.T, plan []step, cfg hermes.Config, sameWriter bool) {
	const seed = 2
	ops := countOps(t, plan, cfg, seed)
	again := countOps(t, plan, cfg, seed)
	sameOps(t, ops, again)
	for i := 0; i <= len(ops); i++ {
		when := fmt.Sprintf("FailAfter(%d)", i)
		if i < len(ops) {
			when += fmt.Sprintf(" (%s)", ops[i])
		}
		dir := storage.NewFaulty(int64(seed*1000 + i))
		w, err := hermes.Create(context.Background(), dir, crashSchema(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		m := newModel(1)
		m.renames, m.dir = new(atomic.Int64), dir
		// The hook is FailAfter(i) that also records the operations: the
		// i-th mutating operation and every later one fail.
		var seen opList
		dir.OnOp(func(op storage.Op, name string) error {
			if !op.Mutating() {
				return nil
			}
			if seen.record(op, name) > i {
				return storage.ErrInjected
			}
			if op == storage.OpRename && name == storage.MetadataFile {
				m.renames.Add(1)
			}
			return nil
		})
		err = runPlan(w, plan, m)
		dir.OnOp(nil)
		run := seen.list()
		switch {
		case errors.Is(err, errModel):
			t.Fatalf("%s: %v", when, err)
		case i < len(ops) && len(run) <= i:
			t.Fatalf("%s: the run made %d operations, the clean run %d (%v)", when, len(run), len(ops), err)
		case i < len(ops) && run[i] != ops[i]:
			t.Fatalf("%s: the run's operation %d was %s instead: the operations' order differs from the clean run's", when, i+1, run[i])
		case i == len(ops) && (err != nil || len(run) > i):
			t.Fatalf("%s: with every operation of the clean run let through, the run made %d operations and failed with %v", when, len(run), err)
		case err == nil && !onlyBestEffort(run, i):
			t.Fatalf("%s: the workload succeeded although operations failed (%v): an error was dropped", when, run[i:])
		case err == nil:
			closeWriter(t, w)
			checkRecovers(t, dir, []map[string]bool{m.acked}, when+", only best-effort operations failed")
			continue
		}
		if strings.Contains(err.Error(), "deadline") {
			t.Fatalf("%s: %v; a failed write must fail the call at once, not let it wait out its deadline", when, err)
		}

		switch {
		case errors.Is(err, hermes.ErrWriterFailed):
			if cerr := w.AddDocument(newDoc("late", 0, "x")); !errors.Is(cerr, hermes.ErrWriterFailed) {
				t.Fatalf("%s: after the failed commit (%v), AddDocument returned %v, want ErrWriterFailed", when, err, cerr)
			}
		case sameWriter:
			// A failed prepare loses nothing: the same writer commits
			// every document once the disk works again. (Reopening after
			// a failed prepare is TestErrorAtEveryOperation's part.)
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			res, cerr := w.Commit(ctx)
			cancel()
			if cerr != nil {
				t.Fatalf("%s: after %v, with the fault gone, the same writer cannot commit: %v", when, err, cerr)
			}
			if res.Docs != len(m.pending) {
				t.Fatalf("%s: after %v, the retried commit has %d documents, want the %d pending", when, err, res.Docs, len(m.pending))
			}
			maps.Copy(m.acked, m.pending)
			closeWriter(t, w)
			ids, _ := openReaderIDs(t, dir.Crash(), when)
			checkExactly(t, ids, m.acked, fmt.Sprintf("%s: after the retried commit and a crash", when))
			continue
		}
		closeWriter(t, w)
		// Without a crash the state is certain: the failed commit is there
		// exactly when its rename happened.
		want := m.acked
		if m.renamed() {
			want = m.inflight
		}
		checkRecovers(t, dir, []map[string]bool{want}, fmt.Sprintf("%s (%v)", when, err))
	}
	t.Logf("%d runs: every failure point of a %d-operation workload", len(ops)+1, len(ops))
}

// countOps lists the mutating operations of a clean run of plan after
// Create, up to the end of the plan (not Close's).
func countOps(t *testing.T, plan []step, cfg hermes.Config, seed int64) []string {
	t.Helper()
	dir := storage.NewFaulty(seed)
	w, err := hermes.Create(context.Background(), dir, crashSchema(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ops opList
	dir.OnOp(func(op storage.Op, name string) error {
		if op.Mutating() {
			ops.record(op, name)
		}
		return nil
	})
	m := newModel(1)
	m.dir = dir
	if err := runPlan(w, plan, m); err != nil {
		t.Fatal(err)
	}
	dir.OnOp(nil)
	closeWriter(t, w)
	return ops.list()
}

// dirUsage sums the sizes of dir's files.
func dirUsage(t testing.TB, dir storage.Directory) int64 {
	t.Helper()
	names, err := dir.List()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, name := range names {
		size, err := dir.FileSize(name)
		if err != nil {
			t.Fatal(err)
		}
		n += size
	}
	return n
}

// createWith makes an index in dir and commits docs.
func createWith(t testing.TB, dir storage.Directory, cfg hermes.Config, docs []*hermes.Document) (*hermes.Writer, map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	w, err := hermes.Create(ctx, dir, crashSchema(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	for _, d := range docs {
		add(t, w, d)
		k, _ := d.Get("id")
		acked[k.Str] = true
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return w, acked
}

// someDocs makes n seeded documents; raw, when set, is stored with each.
func someDocs(seed uint64, prefix string, n int, raw []byte) []*hermes.Document {
	rnd := rand.New(rand.NewPCG(seed, 11))
	out := make([]*hermes.Document, n)
	for i := range out {
		out[i] = newDoc(id(prefix, i), uint64(i), text(rnd))
		if raw != nil {
			out[i].AddBytes("raw", raw)
		}
	}
	return out
}

var largeRaw = []byte(strings.Repeat("raw document source ", 225))

func TestDiskFull(t *testing.T) {
	// The disk fills while workers build segments (mid-stream and in the
	// flush): PrepareCommit fails with ErrDiskFull, and once space is freed
	// the same writer commits every document it was given.
	t.Run("prepare/same writer recovers", func(t *testing.T) {
		dir := storage.NewFaulty(3)
		w, acked := createWith(t, dir, crashConfig(), someDocs(3, "a", 12, nil))
		defer closeWriter(t, w)
		dir.SetDiskLimit(dirUsage(t, dir) + 2048) // room for no segment
		pending := maps.Clone(acked)
		for _, d := range someDocs(4, "b", 240, largeRaw) {
			add(t, w, d)
			k, _ := d.Get("id")
			pending[k.Str] = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		var fullErr error
		for try := 0; try < 2; try++ { // and again: still full, still an error
			_, err := w.Commit(ctx)
			if err == nil {
				t.Fatalf("commit %d on a full disk succeeded", try)
			}
			if !errors.Is(err, hermes.ErrPrepareFailed) || errors.Is(err, hermes.ErrWriterFailed) {
				t.Fatalf("commit %d on a full disk: %v; want ErrPrepareFailed (nothing lost), not a dead writer", try, err)
			}
			if !strings.Contains(err.Error(), "disk full") {
				t.Fatalf("commit %d on a full disk: %q does not say the disk is full", try, err)
			}
			fullErr = err
			ids, _ := openReaderIDs(t, dir, "disk full")
			checkExactly(t, ids, acked, "while the disk is full")
		}
		t.Run("error wraps ErrDiskFull", func(t *testing.T) {
			checkDiskFullError(t, fullErr)
		})
		dir.SetDiskLimit(0)
		res, err := w.Commit(ctx)
		if err != nil {
			t.Fatalf("commit after freeing space: %v", err)
		}
		if res.Docs != 240 {
			t.Fatalf("commit after freeing space: %d documents, want the 240 added while the disk was full", res.Docs)
		}
		checkExactly(t, readerIDs(t, w), pending, "after freeing space")
		closeWriter(t, w)
		checkRecovers(t, dir, []map[string]bool{pending}, "after freeing space")
	})

	// The disk fills while metadata.json is written: Commit fails with
	// ErrDiskFull and the writer is dead (the contract: a failed metadata
	// write is fatal). The index holds the previous commit; a reopened
	// writer takes the documents again once space is freed.
	t.Run("commit/reopened writer recovers", func(t *testing.T) {
		dir := storage.NewFaulty(4)
		w, acked := createWith(t, dir, crashConfig(), someDocs(5, "a", 12, nil))
		defer closeWriter(t, w)
		inflight := maps.Clone(acked)
		for _, d := range someDocs(6, "b", 40, nil) {
			add(t, w, d)
			k, _ := d.Get("id")
			inflight[k.Str] = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		p, err := w.PrepareCommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dir.SetDiskLimit(dirUsage(t, dir) + 16) // the segments fit, the new metadata does not
		_, err = p.Commit(ctx)
		if err == nil {
			t.Fatal("commit on a full disk succeeded")
		}
		if !errors.Is(err, hermes.ErrWriterFailed) {
			t.Fatalf("failed metadata write: %v; want ErrWriterFailed", err)
		}
		checkDiskFullError(t, err)
		dir.SetDiskLimit(0)
		if err := w.AddDocument(newDoc("late", 0, "x")); !errors.Is(err, hermes.ErrWriterFailed) {
			t.Fatalf("add after the failed commit, space freed: %v; want ErrWriterFailed", err)
		}
		if _, err := w.Commit(ctx); !errors.Is(err, hermes.ErrWriterFailed) {
			t.Fatalf("commit after the failed commit, space freed: %v; want ErrWriterFailed", err)
		}
		closeWriter(t, w)
		ids, _ := openReaderIDs(t, dir, "after the failed metadata write")
		checkExactly(t, ids, acked, "after the failed metadata write") // the temporary file never got renamed
		checkRecovers(t, dir, []map[string]bool{acked, inflight}, "reopened after a full disk")
	})
}

// checkDiskFullError checks that err says the disk is full and wraps
// storage.ErrDiskFull, so that a service can tell it from a bug.
func checkDiskFullError(t testing.TB, err error) {
	t.Helper()
	if !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %q does not say the disk is full", err)
	}
	if !errors.Is(err, storage.ErrDiskFull) {
		t.Errorf("error %q does not wrap storage.ErrDiskFull (errors.Is is false)", err)
	}
}

// TestFailedPrepareKeepsOtherWorkersSegments: two workers flush in a
// prepare; the first one's segment is written and acknowledged, then the
// second one's write fails. The prepare fails, but nothing is lost: once
// the disk works, the same writer commits every document, the first
// worker's included.
func TestFailedPrepareKeepsOtherWorkersSegments(t *testing.T) {
	for attempt := 0; attempt < 3; attempt++ {
		dir := storage.NewFaulty(int64(attempt))
		cfg := crashConfig()
		cfg.FlushDeadline = 5 * time.Second
		w, acked := createWith(t, dir, cfg, someDocs(7, "a", 4, nil))
		want := maps.Clone(acked)
		for _, d := range someDocs(8, "b", 200, nil) {
			add(t, w, d)
			k, _ := d.Get("id")
			want[k.Str] = true
		}
		// The first segment the flush writes succeeds; the other worker
		// fails once the first one has synced its last file.
		var (
			mu        sync.Mutex
			first     string
			armed     = true
			firstDone = make(chan struct{})
			closeOnce sync.Once
		)
		dir.OnOp(func(op storage.Op, name string) error {
			seg, _, ok := strings.Cut(name, ".")
			if !ok || len(seg) != 32 {
				return nil // metadata, the directory itself
			}
			mu.Lock()
			if first == "" {
				first = seg
			}
			isFirst, on := seg == first, armed
			mu.Unlock()
			switch {
			case !on:
				return nil
			case isFirst:
				if op == storage.OpSync && strings.HasSuffix(name, ".meta") {
					closeOnce.Do(func() { close(firstDone) })
				}
				return nil
			}
			select {
			case <-firstDone:
			case <-time.After(callTimeout):
				return errors.New("test: the first segment never finished")
			}
			return fmt.Errorf("test: %w", storage.ErrDiskFull)
		})
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		_, err := w.PrepareCommit(ctx)
		mu.Lock()
		armed = false
		mu.Unlock()
		if err == nil {
			// Only one worker held documents: nothing to test this time.
			cancel()
			closeWriter(t, w)
			continue
		}
		res, err := w.Commit(ctx)
		cancel()
		if err != nil {
			t.Fatalf("after a prepare that failed on one worker, with the fault gone, the same writer cannot commit: %v", err)
		}
		if res.Docs != 200 {
			t.Fatalf("the retried commit has %d documents, want the 200 added", res.Docs)
		}
		checkExactly(t, readerIDs(t, w), want, "after the retried commit")
		closeWriter(t, w)
		return
	}
	t.Fatal("in 3 attempts the flush never had two workers with documents")
}

// TestOpenDeletesOrphanedSegments: a crash after PrepareCommit leaves
// durable segment files no commit names. The contract (doc.go) says they
// are orphans, deleted on Open.
func TestOpenDeletesOrphanedSegments(t *testing.T) {
	dir := storage.NewFaulty(5)
	w, acked := createWith(t, dir, crashConfig(), someDocs(9, "a", 20, nil))
	for _, d := range someDocs(10, "b", 50, nil) {
		add(t, w, d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := w.PrepareCommit(ctx); err != nil {
		t.Fatal(err)
	}
	after := dir.Crash()
	closeWriter(t, w)
	before, err := after.List()
	if err != nil {
		t.Fatal(err)
	}
	w, err = hermes.Open(ctx, after, crashConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer closeWriter(t, w)
	checkExactly(t, readerIDs(t, w), acked, "after the crash")
	meta, err := storage.ReadMetadata(after)
	if err != nil {
		t.Fatal(err)
	}
	// metadata.json, the segment-id journal, and the kept generations (the
	// current one and the one before, which names a subset of its files).
	owned := map[string]bool{storage.MetadataFile: true, storage.SegmentIDsFile: true,
		storage.GenerationFile(meta.Generation): true, storage.GenerationFile(meta.Generation - 1): true}
	for _, s := range meta.Segments {
		for _, f := range s.Files {
			owned[f] = true
		}
	}
	if len(before) <= len(owned) {
		t.Fatalf("the crash left %d files, %d of them committed: no orphan to delete", len(before), len(owned))
	}
	names, err := after.List()
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, n := range names {
		if !owned[n] && n != pkindex.FileName {
			orphans = append(orphans, n)
		}
	}
	if len(orphans) > 0 {
		t.Fatalf("Open left %d files %s does not name, e.g. %v", len(orphans), storage.MetadataFile, orphans[:min(3, len(orphans))])
	}
}

// TestRandomIOErrors runs many commits while every mutating operation and
// every read fails with a small seeded probability. Nothing may panic or
// hang; every commit that returned nil survives a final crash; the index
// holds exactly those documents. A writer that failed (or, in the first
// mode, whose prepare failed) is closed and the index reopened; in the
// second mode a failed prepare is retried on the same writer.
func TestRandomIOErrors(t *testing.T) {
	t.Run("reopen after a failure", func(t *testing.T) { randomErrors(t, false) })
	t.Run("retry on the same writer", func(t *testing.T) {
		randomErrors(t, true)
	})
}

func randomErrors(t *testing.T, sameWriter bool) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			const p = 0.01
			dir := storage.NewFaulty(int64(seed))
			w, acked := createWith(t, dir, crashConfig(), someDocs(seed, "a", 10, nil))
			defer func() { closeWriter(t, w) }()
			gen := uint64(2)
			rnd := rand.New(rand.NewPCG(seed, 13))
			pending := map[string]bool{}
			commits, failures, next := 0, 0, 0

			// reopen closes w and checks that the index holds one of
			// allowed; then it opens the index again with errors injected:
			// Open must fail cleanly or succeed. Open reads every segment
			// (~30 faultable operations each, and NoMerge lets them pile
			// up: 350+ by the last rounds, so at 1% it succeeds about one
			// try in 40), so after openTries failures it must succeed at
			// once without faults: each failed Open left nothing behind
			// (the lock, a damaged file) that a clean one trips on.
			reopen := func(allowed []map[string]bool, why error) {
				closeWriter(t, w)
				dir.InjectErrors(0)
				ids, g := openReaderIDs(t, dir, fmt.Sprintf("after %v", why))
				acked = checkOneOf(t, ids, allowed, fmt.Sprintf("after %v", why))
				gen, pending = g, map[string]bool{}
				const openTries = 20
				for try := 0; ; try++ {
					if try < openTries {
						dir.InjectErrors(p)
					} else {
						dir.InjectErrors(0)
					}
					ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
					nw, err := hermes.Open(ctx, dir, crashConfig())
					cancel()
					dir.InjectErrors(p)
					if err == nil {
						w = nw
						return
					}
					if try >= openTries {
						t.Fatalf("Open failed without faults after %d tries with %.0f%% of operations failing: %v", openTries, p*100, err)
					}
					if !errors.Is(err, storage.ErrInjected) {
						t.Fatalf("Open failed with %.0f%% of operations failing, not by an injected fault: %v", p*100, err)
					}
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*callTimeout)
			defer cancel()
			dir.InjectErrors(p)
			for round := 0; round < 12; round++ {
				n, raw := 10+rnd.IntN(40), []byte(nil)
				if rnd.IntN(3) == 0 {
					n, raw = 150, largeRaw // mid-stream segments
				}
				var failed error
				for i := 0; i < n && failed == nil; i++ {
					k := id("r", next)
					d := newDoc(k, uint64(next), text(rnd))
					if raw != nil {
						d.AddBytes("raw", raw)
					}
					next++
					switch err := w.AddDocumentWait(ctx, d); {
					case err == nil:
						pending[k] = true
					case errors.Is(err, hermes.ErrWriterFailed):
						failed = err
					default: // a failed read of the key index: not added
						failures++
					}
				}
				inflight := maps.Clone(acked)
				maps.Copy(inflight, pending)
				if failed != nil {
					failures++
					reopen([]map[string]bool{acked}, failed) // no commit was in flight
					continue
				}
				res, err := w.Commit(ctx)
				switch {
				case err == nil:
					if res.Docs != len(pending) || res.Generation <= gen {
						t.Fatalf("round %d: commit of %d documents after generation %d returned %d documents, generation %d", round, len(pending), gen, res.Docs, res.Generation)
					}
					acked, pending, gen = inflight, map[string]bool{}, res.Generation
					commits++
				case strings.Contains(err.Error(), "deadline"):
					t.Fatalf("round %d: %v; a failed write must fail the commit at once", round, err)
				case errors.Is(err, hermes.ErrWriterFailed):
					failures++
					reopen([]map[string]bool{acked, inflight}, err)
				case !sameWriter && errors.Is(err, hermes.ErrPrepareFailed):
					failures++
					reopen([]map[string]bool{acked}, err) // no metadata was written
				case errors.Is(err, hermes.ErrPrepareFailed):
					failures++ // pending stays: the next commit covers it
				default:
					t.Fatalf("round %d: commit: %v; want ErrPrepareFailed or ErrWriterFailed", round, err)
				}
			}
			dir.InjectErrors(0)
			inflight := maps.Clone(acked)
			maps.Copy(inflight, pending)
			if res, err := w.Commit(ctx); err == nil {
				acked = inflight
				commits++
				if res.Docs != len(pending) {
					t.Fatalf("final commit: %d documents, want %d", res.Docs, len(pending))
				}
			} else if sameWriter || !errors.Is(err, hermes.ErrWriterFailed) {
				t.Fatalf("final commit without faults: %v", err)
			}
			closeWriter(t, w)
			t.Logf("%d commits succeeded, %d calls failed", commits, failures)
			if commits < 3 || failures == 0 {
				t.Fatalf("%d commits succeeded and %d calls failed: the test needs both", commits, failures)
			}
			ids, _ := openReaderIDs(t, dir.Crash(), "final crash")
			checkExactly(t, ids, acked, "after the final crash")
		})
	}
}

// onlyBestEffort reports whether every operation of run from the i-th on
// (those FailAfter(i) failed) was one whose failure is logged, not
// returned: a write of the primary-key filter (a cache; a missing or torn
// pk_bloom.bin is rebuilt on open), its directory sync included, or the
// removal of a file no commit names any more (an orphan, which the next
// cleanup deletes).
func onlyBestEffort(run []string, i int) bool {
	for k := i; k < len(run); k++ {
		op, name, _ := strings.Cut(run[k], " ")
		switch {
		case op == storage.OpRemove.String(), strings.Contains(name, pkindex.FileName):
		case op == storage.OpSyncDir.String() && k > 0 && run[k-1] == storage.OpRename.String()+" "+pkindex.FileName:
		default:
			return false
		}
	}
	return true
}
