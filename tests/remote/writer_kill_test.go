package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/internal/nodetest"
	"github.com/hermes-search/hermes-go/node"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

// The writer-kill test runs the writer in a child process too, so that it
// can be killed with SIGKILL in the middle of fetching a remote worker's
// segment. The child (the test binary again, with writerDirEnv set) talks
// to the test on its stdout:
//
//	committed <generation>   the first commit returned nil
//	stalled <file>           the fetcher wrote the first chunk of <file>,
//	                         a file of a remote segment of the second
//	                         commit, and the child blocks it there
const (
	writerDirEnv  = "HERMES_TEST_WRITER_DIR"
	writerNodeEnv = "HERMES_TEST_WRITER_NODE"

	// Documents of the first commit (kept) and of the second (interrupted).
	firstCommitDocs  = 300
	secondCommitDocs = 300
)

// A child started with writerDirEnv is the writer; init runs before
// TestMain, so the child never runs tests.
func init() {
	if path := os.Getenv(writerDirEnv); path != "" {
		os.Exit(runWriterProcess(path, os.Getenv(writerNodeEnv)))
	}
}

// kill -9 of the writer in the middle of a transfer, then reopen: the last
// commit is intact (each of its documents once, nothing of the interrupted
// commit), the index passes the checks of hermes check, and Open's orphan
// cleanup removed the partial files of the interrupted transfer.
func TestWriterKilledMidTransfer(t *testing.T) {
	n := startNode(t)
	path := t.TempDir()
	w := startWriterProcess(t, path, n.addr)
	gen := w.expect(t, "committed")
	file := w.expect(t, "stalled")
	w.kill()

	dir, err := storage.NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.FileSize(file); err != nil {
		t.Fatalf("the interrupted transfer left no partial file %s: %v", file, err)
	}
	seg, _, _ := strings.Cut(file, ".")
	before, err := dir.List()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed while fetching %s; the index directory holds %d files", file, len(before))
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(meta.Generation) != gen {
		t.Fatalf("after the kill metadata.json is of generation %d; the last commit wrote %s", meta.Generation, gen)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wr, err := hermes.Open(ctx, dir, hermes.Config{Workers: 1, FlushDeadline: 30 * time.Second, Logger: debugLogger()})
	if err != nil {
		t.Fatalf("the index does not reopen after the writer was killed: %v", err)
	}
	defer wr.Close()
	checkExactly(t, ids(t, wr), firstCommitDocs)
	checkOnlyCommittedFiles(t, dir, seg)
	checkIndex(t, dir)

	// The documents of the interrupted commit are free to add again.
	addAll(t, wr, firstCommitDocs, firstCommitDocs+secondCommitDocs)
	if _, err := wr.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactly(t, ids(t, wr), firstCommitDocs+secondCommitDocs)
	if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	checkIndex(t, dir)
}

// checkOnlyCommittedFiles fails unless every file in dir is one the
// committed metadata names (with its kept generations, the segment-id
// journal and the key filter), and none is of segment seg.
func checkOnlyCommittedFiles(t *testing.T, dir storage.Directory, seg string) {
	t.Helper()
	names, err := dir.List()
	if err != nil {
		t.Fatal(err)
	}
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatal(err)
	}
	owned := map[string]bool{storage.MetadataFile: true, storage.SegmentIDsFile: true, pkindex.FileName: true}
	gens, err := storage.Generations(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gens {
		if g > meta.Generation {
			continue
		}
		owned[storage.GenerationFile(g)] = true
		m, err := storage.ReadGeneration(dir, g)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range m.Segments {
			for _, f := range s.Files {
				owned[f] = true
			}
			if name := deletesFile(s); name != "" {
				owned[name] = true
			}
		}
	}
	for _, name := range names {
		if strings.HasPrefix(name, seg) {
			t.Errorf("Open left %s, a file of the interrupted transfer", name)
		} else if !owned[name] {
			t.Errorf("Open left %s, which no kept commit names", name)
		}
	}
}

// checkIndex does what hermes check does: metadata.json and every kept
// generation read with their checksums; every file a committed segment
// lists exists, with the recorded total size, and passes its footer and
// checksum, deletes files included; the segments open for search.
func checkIndex(t *testing.T, dir storage.Directory) {
	t.Helper()
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	for _, s := range meta.Segments {
		files := s.Files
		if name := deletesFile(s); name != "" {
			files = append(files[:len(files):len(files)], name)
		}
		var size int64
		for i, name := range files {
			n, err := verifyFile(dir, name)
			if err != nil {
				t.Fatalf("check: segment %s: %v", s.ID, err)
			}
			if i < len(s.Files) {
				size += n
			}
		}
		if size != s.Bytes {
			t.Fatalf("check: segment %s: its files hold %d bytes, %s records %d", s.ID, size, storage.MetadataFile, s.Bytes)
		}
	}
	gens, err := storage.Generations(dir)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	for _, g := range gens {
		if g <= meta.Generation {
			if _, err := storage.ReadGeneration(dir, g); err != nil {
				t.Fatalf("check: kept generation %d: %v", g, err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		t.Fatalf("check: the index does not open for search: %v", err)
	}
	if got, want := r.NumDocs(), liveDocs(meta); got != want {
		t.Errorf("check: the index holds %d documents, %s records %d", got, storage.MetadataFile, want)
	}
	r.Close()
}

func liveDocs(meta *storage.Metadata) int {
	n := 0
	for _, s := range meta.Segments {
		n += int(s.NumDocs - s.NumDeleted)
	}
	return n
}

// deletesFile names the deletes file of s's current generation, if any.
func deletesFile(s storage.SegmentInfo) string {
	id, err := segment.ParseID(s.ID)
	if s.DelGen == 0 || err != nil {
		return ""
	}
	return segment.DeletesFileName(id, s.DelGen)
}

// verifyFile checks a file's footer and checksum (the footer names its
// kind) and returns its size.
func verifyFile(dir storage.Directory, name string) (int64, error) {
	f, err := dir.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var kind [4]byte
	if size := f.Size(); size >= storage.FooterSize {
		if _, err := f.ReadAt(kind[:], size-storage.FooterSize); err != nil && !errors.Is(err, io.EOF) {
			return size, err
		}
	}
	_, err = storage.Verify(f, kind)
	return f.Size(), err
}

// writerProcess is the writer running as a child process.
type writerProcess struct {
	cmd   *exec.Cmd
	lines chan string
	once  sync.Once
}

func startWriterProcess(t *testing.T, path, nodeAddr string) *writerProcess {
	t.Helper()
	cmd := nodetest.SelfCommand(nil, writerDirEnv+"="+path, writerNodeEnv+"="+nodeAddr)
	cmd.Stderr = os.Stderr
	if _, err := cmd.StdinPipe(); err != nil { // closed when the test process exits
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &writerProcess{cmd: cmd, lines: make(chan string)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(p.kill)
	return p
}

// expect waits for the child's next line, which must start with word, and
// returns the rest. The bound is for a child that hangs, not a schedule.
func (p *writerProcess) expect(t *testing.T, word string) string {
	t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			t.Fatalf("the writer process ended before saying %q", word)
		}
		rest, found := strings.CutPrefix(line, word+" ")
		if !found {
			t.Fatalf("the writer process said %q, want %q", line, word)
		}
		return rest
	case <-time.After(2 * time.Minute):
		t.Fatalf("the writer process did not say %q in 2 minutes", word)
	}
	return ""
}

// kill kills the child with SIGKILL, as a crash or the OOM killer would.
func (p *writerProcess) kill() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		for range p.lines { // until its stdout closes
		}
		_ = p.cmd.Wait()
	})
}

// runWriterProcess is the child: it creates an index in path with one
// local worker and one on the node at nodeAddr, commits the first
// documents, then adds the second ones and commits again; during that
// commit, the first chunk the fetcher writes of the remote worker's
// segment is the last thing it writes (see stallingDir). The writer runs
// with Config.Deterministic, so the remote worker surely gets documents of
// each commit: the flush gives each worker, in order, its share.
func runWriterProcess(path, nodeAddr string) int {
	go func() { // the test ended, or died: so does the child
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "writer process:", err)
		return 1
	}
	system := quietSystem()
	if _, err := node.StartRemote(system, "127.0.0.1", 0, nil); err != nil {
		return fail(err)
	}
	fsDir, err := storage.NewFS(path)
	if err != nil {
		return fail(err)
	}
	dir := &stallingDir{Directory: fsDir}
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
	)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	w, err := hermes.Create(ctx, dir, s, hermes.Config{
		Workers: 1, Nodes: []string{nodeAddr}, ActorSystem: system, BatchDocs: 50, Deterministic: true,
		FlushDeadline: time.Minute, Logger: slog.New(&fetchWatch{dir: dir}),
	})
	if err != nil {
		return fail(err)
	}
	if err := waitWorkers(w, 2); err != nil {
		return fail(err)
	}
	add := func(from, to int) error {
		for i := from; i < to; i++ {
			if err := w.AddDocumentWait(ctx, doc(i)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(0, firstCommitDocs); err != nil {
		return fail(err)
	}
	res, err := w.Commit(ctx)
	if err != nil {
		return fail(err)
	}
	fmt.Println("committed", res.Generation)
	dir.armed.Store(true)
	if err := add(firstCommitDocs, firstCommitDocs+secondCommitDocs); err != nil {
		return fail(err)
	}
	_, err = w.Commit(ctx) // stalls in the fetch until the test kills the process
	return fail(fmt.Errorf("the second commit returned (%v) without fetching a remote segment", err))
}

// waitWorkers waits until the writer has n workers running (the remote one
// starts once its node answered).
func waitWorkers(w *hermes.Writer, n int) error {
	for i := 0; i < 1000; i++ {
		workers, err := w.Workers(context.Background())
		if err != nil {
			return err
		}
		started := 0
		for _, wi := range workers {
			if wi.PID != nil {
				started++
			}
		}
		if started == n {
			return nil
		}
		time.Sleep(10 * time.Millisecond) // polling for a state change, not synchronising on time
	}
	return fmt.Errorf("the remote worker did not start")
}

// fetchWatch is the child writer's log handler: once the directory is
// armed, the segment the writer starts fetching is the one to stall.
type fetchWatch struct{ dir *stallingDir }

func (h *fetchWatch) Enabled(context.Context, slog.Level) bool { return true }
func (h *fetchWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "fetching segment" && h.dir.armed.Load() {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "segment" {
				id := a.Value.String()
				h.dir.target.CompareAndSwap(nil, &id)
			}
			return true
		})
	}
	if l := debugLogger(); l != nil {
		return l.Handler().Handle(context.Background(), r)
	}
	return nil
}
func (h *fetchWatch) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *fetchWatch) WithGroup(string) slog.Handler      { return h }

// stallingDir passes everything through, except that the first write to a
// file of the target segment (the one being fetched) is the fetcher's last:
// once it is written, the child says "stalled <file>" and blocks the
// fetcher there until it is killed.
type stallingDir struct {
	storage.Directory
	armed  atomic.Bool
	target atomic.Pointer[string]
}

func (d *stallingDir) Create(name string) (storage.WriteFile, error) {
	f, err := d.Directory.Create(name)
	if t := d.target.Load(); err != nil || t == nil || !strings.HasPrefix(name, *t) {
		return f, err
	}
	return &stallingFile{WriteFile: f}, nil
}

type stallingFile struct{ storage.WriteFile }

func (f *stallingFile) Write(p []byte) (int, error) {
	n, err := f.WriteFile.Write(p)
	if err == nil {
		fmt.Println("stalled", f.Name())
		select {} // the test kills the process now
	}
	return n, err
}
