package shipping

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testTimeout = 10 * time.Second

var testSchema = func() *segment.Schema {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
	)
	if err != nil {
		panic(err)
	}
	return s
}()

// buildSegment builds a segment of n seeded random documents into dir.
func buildSegment(t *testing.T, dir storage.Directory, n int, seed uint64) *segment.Meta {
	t.Helper()
	toks, err := segment.ResolveTokenizers(testSchema, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	b := segment.NewBuilder(testSchema, toks)
	for i := range n {
		var text strings.Builder
		for range 40 {
			fmt.Fprintf(&text, "w%x ", rng.Uint32()%5000)
		}
		d := (&segment.Document{}).AddString("id", fmt.Sprintf("doc-%d", i)).AddString("text", text.String())
		if err := b.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	meta, err := b.Build(dir, segment.NewID())
	if err != nil {
		t.Fatal(err)
	}
	return meta
}

func newSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithDeadLetterThrottleInterval(time.Millisecond), actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
}

// rig is a node's scratch directory with its file server, and a writer's
// index directory with a fetcher, in one actor system.
type rig struct {
	sys     *actor.ActorSystem
	node    storage.Directory
	index   *storage.FaultyDirectory
	server  *actor.PID
	fetcher *actor.PID
}

func newRig(t *testing.T, cfg FetcherConfig) *rig {
	r := &rig{sys: newSystem(), node: storage.NewMem(), index: storage.NewFaulty(1)}
	r.server = r.sys.Root.Spawn(NewFileServer(r.node, slog.New(slog.DiscardHandler)))
	cfg.Dir = r.index
	r.fetcher = r.sys.Root.Spawn(NewFetcher(cfg))
	t.Cleanup(func() {
		_ = r.sys.Root.StopFuture(r.fetcher).Wait()
		_ = r.sys.Root.StopFuture(r.server).Wait()
		r.sys.Shutdown()
	})
	return r
}

// fetch asks the fetcher to install seg from source and waits for the answer.
func (r *rig) fetch(t *testing.T, seg *messages.ShippedSegment, source *actor.PID) *messages.SegmentInstalled {
	t.Helper()
	res, err := r.sys.Root.RequestFuture(r.fetcher, &messages.FetchSegment{Segment: seg, Source: source}, testTimeout).Result()
	if err != nil {
		t.Fatal(err)
	}
	return res.(*messages.SegmentInstalled)
}

// segmentFiles returns the files of seg in the index directory.
func (r *rig) segmentFiles(t *testing.T, seg *messages.ShippedSegment) []string {
	t.Helper()
	names, err := r.index.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, seg.Id+".") {
			out = append(out, n)
		}
	}
	return out
}

func describe(t *testing.T, dir storage.Directory, meta *segment.Meta) *messages.ShippedSegment {
	t.Helper()
	seg, err := Describe(dir, meta)
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

func TestFetchInstallsSegment(t *testing.T) {
	r := newRig(t, FetcherConfig{ChunkBytes: 4 << 10, Window: 3})
	meta := buildSegment(t, r.node, 300, 1)
	seg := describe(t, r.node, meta)
	if last := seg.Files[len(seg.Files)-1].Name; last != meta.ID.String()+".meta" {
		t.Fatalf("Describe lists %s last, want the meta file", last)
	}
	want := map[string][]byte{}
	for _, name := range meta.Files {
		want[name], _ = storage.ReadAll(r.node, name)
	}
	res := r.fetch(t, seg, r.server)
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	if res.Bytes != meta.Bytes {
		t.Fatalf("installed %d bytes, the segment has %d", res.Bytes, meta.Bytes)
	}
	// Every byte arrived, durably: nothing of the segment is unsynced.
	for _, name := range meta.Files {
		got, err := storage.ReadAll(r.index, name)
		if err != nil || !bytes.Equal(got, want[name]) {
			t.Fatalf("%s: installed copy differs (%v)", name, err)
		}
	}
	if u := r.index.Unsynced(); len(u) != 0 {
		t.Fatalf("unsynced after install: %v", u)
	}
	reader, err := segment.Open(r.index, meta.ID, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if reader.NumDocs() != 300 {
		t.Errorf("installed segment has %d documents, want 300", reader.NumDocs())
	}
	reader.Close()
	// The fetcher released the node's copy. The release was sent before
	// the answer, and the server handles messages in order: ask it
	// something to be sure it is done.
	r.sys.Root.RequestFuture(r.server, &messages.ReadChunk{File: "x", Length: 1}, testTimeout).Result()
	if names, _ := r.node.List(); len(names) != 0 {
		t.Fatalf("node still holds %v after the install", names)
	}
}

// proxy stands between the fetcher and the file server and watches the
// requests: sizes, the order of files, and how many are in flight. It holds
// the server's answers until window requests are in flight (or every chunk
// has been asked for), so a fetcher that asked for fewer would stall and one
// that asked for more would be seen.
type proxy struct {
	server  *actor.PID
	window  int
	chunks  int // chunks the transfer needs
	killAt  int // stop after forwarding this many answers (0: never)
	mu      sync.Mutex
	sizes   []int32
	files   []string
	maxOpen int

	asked, answered int
	held            []*messages.Chunk
	fetcher         *actor.PID
}

func (p *proxy) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.ReadChunk:
		p.mu.Lock()
		p.sizes = append(p.sizes, m.Length)
		if len(p.files) == 0 || p.files[len(p.files)-1] != m.File {
			p.files = append(p.files, m.File)
		}
		p.asked++
		p.maxOpen = max(p.maxOpen, p.asked-p.answered)
		p.mu.Unlock()
		p.fetcher = m.ReplyTo
		fwd := proto.Clone(m).(*messages.ReadChunk)
		fwd.ReplyTo = ctx.Self()
		ctx.Send(p.server, fwd)
	case *messages.Chunk:
		p.held = append(p.held, m)
		p.mu.Lock()
		open := p.asked - p.answered
		p.mu.Unlock()
		if len(p.held) < open || (open < p.window && p.asked < p.chunks) {
			return
		}
		for _, c := range p.held {
			if p.killAt > 0 && p.answered == p.killAt {
				ctx.Stop(ctx.Self())
				return
			}
			p.mu.Lock()
			p.answered++
			p.mu.Unlock()
			ctx.Send(p.fetcher, c)
		}
		p.held = nil
	case *messages.ReleaseSegment:
		ctx.Forward(p.server)
	}
}

func chunksOf(seg *messages.ShippedSegment, chunk int64) int {
	n := 0
	for _, f := range seg.Files {
		n += int((f.Size + chunk - 1) / chunk)
	}
	return n
}

func TestFetchChunksWithABoundedWindowMetaLast(t *testing.T) {
	const chunk, window = 4 << 10, 3
	r := newRig(t, FetcherConfig{ChunkBytes: chunk, Window: window})
	meta := buildSegment(t, r.node, 300, 2)
	seg := describe(t, r.node, meta)
	p := &proxy{server: r.server, window: window, chunks: chunksOf(seg, chunk)}
	src := r.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return p }))
	defer r.sys.Root.Stop(src)
	var created []string
	r.index.OnOp(func(op storage.Op, name string) error {
		if op == storage.OpCreate {
			created = append(created, name)
		}
		return nil
	})
	if res := r.fetch(t, seg, src); res.Error != "" {
		t.Fatal(res.Error)
	}
	r.index.OnOp(nil)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sizes) != p.chunks || p.chunks < 10 {
		t.Fatalf("%d chunk requests for %d chunks", len(p.sizes), p.chunks)
	}
	for i, n := range p.sizes {
		if n <= 0 || n > chunk {
			t.Fatalf("request %d asks for %d bytes, chunk size %d", i, n, chunk)
		}
	}
	if p.maxOpen != window {
		t.Fatalf("at most %d requests in flight, want the window, %d", p.maxOpen, window)
	}
	metaName := meta.ID.String() + ".meta"
	if p.files[len(p.files)-1] != metaName || created[len(created)-1] != metaName {
		t.Fatalf("asked for %v, created %v: want the meta file last", p.files, created)
	}
	if !slices.Equal(p.files, created) {
		t.Fatalf("asked for %v but created %v", p.files, created)
	}
}

// A segment whose node copy was damaged after it was described is caught by
// the digest; one described damaged (the digest matches) by its footer
// checksum; a truncated one by its size. Nothing of it stays in the index.
func TestFetchDetectsCorruption(t *testing.T) {
	for _, tc := range []struct {
		name           string
		describeBefore bool
		damage         func([]byte) []byte
		want           string
	}{
		{"digest", true, flip, "hash to"},
		{"footer", false, flip, "checksum mismatch"},
		{"truncated", true, func(b []byte) []byte { return b[:len(b)-100] }, "shorter than its digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, FetcherConfig{ChunkBytes: 4 << 10, Window: 2})
			meta := buildSegment(t, r.node, 200, 3)
			var seg *messages.ShippedSegment
			if tc.describeBefore {
				seg = describe(t, r.node, meta)
			}
			victim := meta.ID.String() + ".store"
			data, err := storage.ReadAll(r.node, victim)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.node.WriteAtomic(victim, tc.damage(data)); err != nil {
				t.Fatal(err)
			}
			if !tc.describeBefore {
				seg = describe(t, r.node, meta)
			}
			res := r.fetch(t, seg, r.server)
			if !strings.Contains(res.Error, victim) || !strings.Contains(res.Error, tc.want) {
				t.Fatalf("error %q, want one naming %s and %q", res.Error, victim, tc.want)
			}
			if left := r.segmentFiles(t, seg); len(left) != 0 {
				t.Fatalf("files left after a failed fetch: %v", left)
			}
		})
	}
}

func flip(b []byte) []byte {
	b = slices.Clone(b)
	b[len(b)/2] ^= 0x10
	return b
}

// The node dies (its file server terminates) in the middle of a file: the
// fetch fails at once and the partial files are removed.
func TestFetchFromANodeThatDies(t *testing.T) {
	const chunk, window = 4 << 10, 2
	r := newRig(t, FetcherConfig{ChunkBytes: chunk, Window: window})
	meta := buildSegment(t, r.node, 300, 4)
	seg := describe(t, r.node, meta)
	p := &proxy{server: r.server, window: window, chunks: chunksOf(seg, chunk), killAt: 5}
	src := r.sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return p }))
	res := r.fetch(t, seg, src)
	if !strings.Contains(res.Error, "node lost") {
		t.Fatalf("error %q, want the node lost", res.Error)
	}
	// Terminated, a system message, may overtake the last chunk forwarded.
	if res.Chunks < 4 || res.Chunks > 5 {
		t.Fatalf("%d chunks written before the node died, want 4 or 5", res.Chunks)
	}
	if left := r.segmentFiles(t, seg); len(left) != 0 {
		t.Fatalf("files left after a failed fetch: %v", left)
	}
	if u := r.index.Unsynced(); len(u) != 0 {
		t.Fatalf("removals not made durable: %v", u)
	}
	// The fetcher goes on with the next segment.
	if res := r.fetch(t, seg, r.server); res.Error != "" {
		t.Fatal(res.Error)
	}
}

// Failing each of the fetch's operations on the index directory in turn
// (create, write, fsync, close, directory fsync, open, read): each run either
// installs the segment or reports the error and leaves nothing of it.
func TestFetchFailsAtEveryOperation(t *testing.T) {
	r := newRig(t, FetcherConfig{ChunkBytes: 16 << 10, Window: 2})
	meta := buildSegment(t, r.node, 100, 5)
	seg := describe(t, r.node, meta)
	for n := 1; ; n++ {
		// A fresh copy for each run: a fetch releases the node's copy.
		node := storage.NewMem()
		for _, name := range meta.Files {
			data, _ := storage.ReadAll(r.node, name)
			if err := node.WriteAtomic(name, data); err != nil {
				t.Fatal(err)
			}
		}
		server := r.sys.Root.Spawn(NewFileServer(node, slog.New(slog.DiscardHandler)))
		ops := 0
		var failed string
		r.index.OnOp(func(op storage.Op, name string) error {
			if op == storage.OpList || op == storage.OpLock {
				return nil
			}
			ops++
			if ops == n {
				failed = op.String() + " " + name
				return fmt.Errorf("injected at %s: %w", failed, storage.ErrInjected)
			}
			return nil
		})
		res := r.fetch(t, seg, server)
		r.index.OnOp(nil)
		_ = r.sys.Root.StopFuture(server).Wait()
		left := r.segmentFiles(t, seg)
		if res.Error == "" {
			if failed != "" {
				t.Fatalf("run %d: failure at %s not reported", n, failed)
			}
			if len(left) != len(meta.Files) {
				t.Fatalf("installed, but the index holds %v", left)
			}
			t.Logf("%d operations, each failed once", n-1)
			return
		}
		if !strings.Contains(res.Error, "injected") {
			t.Fatalf("run %d: error %q, want the injected one", n, res.Error)
		}
		if len(left) != 0 {
			t.Fatalf("run %d (failed at %s): files left: %v", n, failed, left)
		}
	}
}

// A FetchSegment naming files outside its segment is refused before
// anything is written.
func TestFetchRefusesForeignNames(t *testing.T) {
	r := newRig(t, FetcherConfig{})
	id := segment.NewID().String()
	for _, files := range [][]string{
		{id + ".post", "metadata.json", id + ".meta"},
		{id + ".post", "../" + id + ".meta"},
		{segment.NewID().String() + ".post", id + ".meta"},
		{id + ".post"},
		{id + "_3.del", id + ".meta"},
	} {
		seg := &messages.ShippedSegment{Id: id}
		for _, f := range files {
			seg.Files = append(seg.Files, &messages.FileDigest{Name: f, Size: 10})
		}
		res := r.fetch(t, seg, r.server)
		if res.Error == "" {
			t.Fatalf("%v accepted", files)
		}
		if names, _ := r.index.List(); len(names) != 0 {
			t.Fatalf("%v: wrote %v", files, names)
		}
	}
}

// A file the index already holds is never overwritten nor removed by a
// failed fetch.
func TestFetchKeepsExistingFiles(t *testing.T) {
	r := newRig(t, FetcherConfig{ChunkBytes: 16 << 10})
	meta := buildSegment(t, r.node, 100, 6)
	seg := describe(t, r.node, meta)
	name := meta.ID.String() + ".post"
	if err := r.index.WriteAtomic(name, []byte("already here")); err != nil {
		t.Fatal(err)
	}
	res := r.fetch(t, seg, r.server)
	if !strings.Contains(res.Error, name) {
		t.Fatalf("error %q, want one naming %s", res.Error, name)
	}
	got, err := storage.ReadAll(r.index, name)
	if err != nil || string(got) != "already here" {
		t.Fatalf("existing file: %q %v", got, err)
	}
	if left := r.segmentFiles(t, seg); !slices.Equal(left, []string{name}) {
		t.Fatalf("files left: %v", left)
	}
}

// A segment listed without one of its files (a node's bug, or a hostile
// node) is refused before anything is written: every file the listed ones
// are intact would install, and the writer would commit a segment that
// cannot be opened.
func TestFetchRefusesAPartialSegment(t *testing.T) {
	r := newRig(t, FetcherConfig{ChunkBytes: 16 << 10})
	meta := buildSegment(t, r.node, 100, 7)
	full := describe(t, r.node, meta)
	for i, omitted := range full.Files[:len(full.Files)-1] { // the meta file is required already
		seg := proto.Clone(full).(*messages.ShippedSegment)
		seg.Files = slices.Delete(seg.Files, i, i+1)
		res := r.fetch(t, seg, r.server)
		if !strings.Contains(res.Error, omitted.Name) {
			t.Fatalf("segment without %s: error %q, want one naming it", omitted.Name, res.Error)
		}
		if names, _ := r.index.List(); len(names) != 0 {
			t.Fatalf("segment without %s: wrote %v", omitted.Name, names)
		}
	}
}
