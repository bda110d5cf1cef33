package worker

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/shipping"
	"github.com/hermes-search/hermes-go/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// A worker as on a node, run here: with a directory of its own and a file
// server over it, from which the fetcher installs into the index. A builder
// past 80% of its budget (and 100 documents) is shipped unasked.
func TestWorkerShipsPastItsBudget(t *testing.T) {
	sys, schema, toks := newTestWorld(t)
	events := make(chan proto.Message, 100)
	coord := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*messages.RequestWork); ok {
			events <- m
		}
		if m, ok := ctx.Message().(*messages.SegmentShipped); ok {
			events <- m
		}
	}))
	scratch := storage.NewMem()
	files := sys.Root.Spawn(shipping.NewFileServer(scratch, slog.New(slog.DiscardHandler)))
	w := sys.Root.Spawn(Props(Config{
		Worker: 3, Generation: 1, Schema: schema, Tokenizers: func() map[string]analysis.Tokenizer { return toks },
		MemoryBudget: 64 << 10, Coordinator: coord, Dir: scratch, Files: files,
		NewID: func() (segment.ID, error) { return segment.NewID(), nil },
	}))
	index := storage.NewMem()
	fetcher := sys.Root.Spawn(shipping.NewFetcher(shipping.FetcherConfig{Dir: index}))
	defer func() {
		for _, pid := range []*actor.PID{w, fetcher, files, coord} {
			_ = sys.Root.StopFuture(pid).Wait()
		}
	}()

	var shipped *messages.SegmentShipped
	for seq := uint64(1); shipped == nil; seq++ {
		select {
		case m := <-events:
			switch m := m.(type) {
			case *messages.RequestWork:
				if seq > 100 {
					t.Fatal("no segment shipped after 100 batches")
				}
				b := &messages.Batch{Seq: seq, Generation: 1}
				for i := range 20 {
					b.Docs = append(b.Docs, testDoc(fmt.Sprint(seq, "-", i), fmt.Sprintf("batch %d document %d with some words w%d", seq, i, seq*100+uint64(i))))
				}
				sys.Root.Send(w, b)
			case *messages.SegmentShipped:
				shipped = m
			}
		case <-time.After(10 * time.Second):
			t.Fatal("worker silent")
		}
	}
	if shipped.Round != 0 || shipped.Segment.NumDocs < 100 || int(shipped.Segment.NumDocs) != 20*len(shipped.Batches) {
		t.Fatalf("shipped %v", shipped)
	}
	res, err := sys.Root.RequestFuture(fetcher, &messages.FetchSegment{Segment: shipped.Segment, Source: shipped.Files}, 10*time.Second).Result()
	if err != nil || res.(*messages.SegmentInstalled).Error != "" {
		t.Fatalf("install: %v %v", res, err)
	}
	id, _ := segment.ParseID(shipped.Segment.Id)
	r, err := segment.Open(index, id, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumDocs() != shipped.Segment.NumDocs {
		t.Fatalf("installed segment holds %d documents, shipped %d", r.NumDocs(), shipped.Segment.NumDocs)
	}
}

// Beside the writer a worker builds in the index directory (no Files): its
// SegmentShipped names the files in place, without checksums nobody would
// check, and the segment opens where it lies. Its budget also covers the
// documents the writer's ledger holds for it (LedgerInBudget), so with the
// same input and budget it ships sooner than a worker on a node.
func TestInPlaceWorkerCountsTheLedger(t *testing.T) {
	sys, schema, toks := newTestWorld(t)
	// shipAfter feeds 20-document batches until the worker ships unasked,
	// and returns what it shipped.
	shipAfter := func(dir storage.Directory, ledgerInBudget bool) *messages.SegmentShipped {
		events := make(chan proto.Message, 100)
		coord := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
			switch m := ctx.Message().(type) {
			case *messages.RequestWork, *messages.SegmentShipped:
				events <- m.(proto.Message)
			}
		}))
		defer func() { _ = sys.Root.StopFuture(coord).Wait() }()
		w := sys.Root.Spawn(Props(Config{
			Worker: 1, Generation: 1, Schema: schema, Tokenizers: func() map[string]analysis.Tokenizer { return toks },
			MemoryBudget: 1 << 20, LedgerInBudget: ledgerInBudget, Coordinator: coord, Dir: dir,
			NewID: func() (segment.ID, error) { return segment.NewID(), nil },
		}))
		defer func() { _ = sys.Root.StopFuture(w).Wait() }()
		for seq := uint64(1); ; {
			select {
			case m := <-events:
				if s, ok := m.(*messages.SegmentShipped); ok {
					return s
				}
				if seq > 500 {
					t.Fatal("no segment shipped after 500 batches")
				}
				b := &messages.Batch{Seq: seq, Generation: 1}
				for i := range 20 {
					b.Docs = append(b.Docs, testDoc(fmt.Sprint(seq, "-", i), fmt.Sprintf("batch %d document %d with some words w%d", seq, i, seq*100+uint64(i))))
				}
				sys.Root.Send(w, b)
				seq++
			case <-time.After(10 * time.Second):
				t.Fatal("worker silent")
			}
		}
	}
	index := storage.NewMem()
	local := shipAfter(index, true)
	remote := shipAfter(storage.NewMem(), false)
	if local.Files != nil || local.Round != 0 {
		t.Fatalf("in-place segment shipped with a file server or a round: %v", local)
	}
	for _, f := range local.Segment.Files {
		if f.Size != 0 || f.Xxhash64 != 0 {
			t.Fatalf("in-place segment file %s described with a checksum", f.Name)
		}
	}
	if local.Segment.NumDocs >= remote.Segment.NumDocs {
		t.Fatalf("counting the ledger, the worker shipped %d documents; without, %d: want fewer", local.Segment.NumDocs, remote.Segment.NumDocs)
	}
	id, _ := segment.ParseID(local.Segment.Id)
	r, err := segment.Open(index, id, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumDocs() != local.Segment.NumDocs {
		t.Fatalf("segment in place holds %d documents, shipped %d", r.NumDocs(), local.Segment.NumDocs)
	}
}

// newTestWorld is what a worker's tests run in: an actor system that stops
// with the test, a keyed text schema and its tokenizers.
func newTestWorld(t *testing.T) (*actor.ActorSystem, *segment.Schema, map[string]analysis.Tokenizer) {
	sys := actor.NewActorSystem(actor.WithDeadLetterThrottleInterval(time.Millisecond), actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	t.Cleanup(sys.Shutdown)
	schema, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := segment.ResolveTokenizers(schema, analysis.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sys, schema, toks
}

// keyedBatch is a batch of n small documents for generation 1.
func keyedBatch(seq uint64, n int) *messages.Batch {
	b := &messages.Batch{Seq: seq, Generation: 1}
	for i := range n {
		b.Docs = append(b.Docs, testDoc(fmt.Sprint(seq, "-", i), fmt.Sprintf("batch %d document %d with some words w%d", seq, i, seq*1000+uint64(i))))
	}
	return b
}

// usedBy returns what a builder and the ledger hold for batches, as a
// worker beside the writer counts them.
func usedBy(t *testing.T, schema *segment.Schema, toks map[string]analysis.Tokenizer, batches ...*messages.Batch) int64 {
	t.Helper()
	w := &worker{cfg: Config{Schema: schema, Tokenizers: func() map[string]analysis.Tokenizer { return toks }, LedgerInBudget: true}}
	for _, b := range batches {
		w.add(b)
	}
	return w.builder.EstimatedMemoryBytes() + w.heldBytes
}

// The writer's pending primary keys share a worker's budget
// (Config.SharedBytes): with the same documents, a worker whose share of
// the keys fills the budget writes its segment, one without does not.
func TestPendingKeysFillTheBudget(t *testing.T) {
	sys, schema, toks := newTestWorld(t)
	first, second := keyedBatch(1, MinSegmentDocs), keyedBatch(2, MinSegmentDocs)
	// Builders take their term tables from a pool, grown by earlier tests;
	// two collections empty it, so the measuring builder and the worker's
	// both start on fresh tables of the same size.
	runtime.GC()
	runtime.GC()
	budget := 2 * usedBy(t, schema, toks, first, second) // both batches: 50% of it
	var keys atomic.Int64
	events := make(chan proto.Message, 10)
	coord := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *messages.RequestWork, *messages.SegmentShipped:
			events <- m.(proto.Message)
		}
	}))
	w := sys.Root.Spawn(Props(Config{
		Worker: 1, Generation: 1, Schema: schema, Tokenizers: func() map[string]analysis.Tokenizer { return toks },
		MemoryBudget: budget, LedgerInBudget: true, SharedBytes: keys.Load, Coordinator: coord, Dir: storage.NewMem(),
		NewID: func() (segment.ID, error) { return segment.NewID(), nil },
	}))
	defer func() {
		for _, pid := range []*actor.PID{w, coord} {
			_ = sys.Root.StopFuture(pid).Wait()
		}
	}()
	next := func() proto.Message {
		select {
		case m := <-events:
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("worker silent")
			return nil
		}
	}
	if m, ok := next().(*messages.RequestWork); !ok {
		t.Fatalf("a started worker sent %T, want RequestWork", m)
	}
	sys.Root.Send(w, first) // 25% of the budget, no keys: kept
	if m, ok := next().(*messages.RequestWork); !ok {
		t.Fatalf("after the first batch the worker sent %T, want RequestWork (no segment)", m)
	}
	keys.Store(budget / 2) // the keys take half the budget: with 50% for the builder, past 80%
	sys.Root.Send(w, second)
	shipped, ok := next().(*messages.SegmentShipped)
	if !ok {
		t.Fatal("with the keys filling the budget the worker shipped no segment")
	}
	if shipped.Round != 0 || shipped.Segment.NumDocs != 2*MinSegmentDocs || len(shipped.Batches) != 2 {
		t.Fatalf("shipped %v, want both batches", shipped)
	}
}

// The keys count up to MaxSharedShare of a budget, so however many there
// are, a builder keeps BuildThreshold - MaxSharedShare of it.
func TestPendingKeysAreCapped(t *testing.T) {
	_, schema, toks := newTestWorld(t)
	b := keyedBatch(1, MinSegmentDocs)
	for _, c := range []struct {
		name   string
		budget func(used int64) int64 // from what the builder and ledger hold
		keys   func(used int64) int64
		want   bool
	}{
		{"25%", func(u int64) int64 { return 4 * u }, func(int64) int64 { return 0 }, false},
		{"25% + 25%", func(u int64) int64 { return 4 * u }, func(u int64) int64 { return u }, false},
		{"50% + 25%", func(u int64) int64 { return 2 * u }, func(u int64) int64 { return u / 2 }, false},
		{"50% + 30%", func(u int64) int64 { return 2 * u }, func(u int64) int64 { return u*3/5 + 1 }, true},
		{"25% + capped at 50%", func(u int64) int64 { return 4 * u }, func(int64) int64 { return 1 << 40 }, false},
		{"33% + capped at 50%", func(u int64) int64 { return 3 * u }, func(int64) int64 { return 1 << 40 }, true},
		{"10% + capped at 50%", func(u int64) int64 { return 10 * u }, func(int64) int64 { return 1 << 40 }, false},
		{"100%", func(u int64) int64 { return u }, func(int64) int64 { return 0 }, true},
	} {
		var keys int64
		w := &worker{cfg: Config{Schema: schema, Tokenizers: func() map[string]analysis.Tokenizer { return toks },
			LedgerInBudget: true, SharedBytes: func() int64 { return keys }}}
		w.add(b)
		// Measured on this worker's own builder: its term tables may come
		// from a pool, so another builder's size could differ.
		used := w.builder.EstimatedMemoryBytes() + w.heldBytes
		w.cfg.MemoryBudget, keys = c.budget(used), c.keys(used)
		if got := w.overBudget(); got != c.want {
			t.Errorf("%s: builder %d bytes, keys %d, budget %d: overBudget %v, want %v", c.name, used, keys, w.cfg.MemoryBudget, got, c.want)
		}
	}
}

// testDoc is the wire form of a document of an id and a text.
func testDoc(id, text string) []byte {
	d := new(segment.Document)
	d.AddString("id", id)
	d.AddString("text", text)
	return messages.AppendDocument(nil, d)
}

// A document whose wire form is damaged (cut short) makes the worker panic
// naming it, as an add that panics does, so the coordinator blames that
// document alone and re-delivers the rest of its batch; the documents
// before it were added, each decoded into the same reused values.
func TestDamagedDocumentIsBlamed(t *testing.T) {
	_, schema, toks := newTestWorld(t)
	w := &worker{cfg: Config{Worker: 2, Generation: 1, Schema: schema, Tokenizers: func() map[string]analysis.Tokenizer { return toks }}}
	b := keyedBatch(7, 3)
	b.Docs[1] = b.Docs[1][:len(b.Docs[1])-3]
	var reason any
	func() {
		defer func() { reason = recover() }()
		w.add(b)
	}()
	ap, ok := reason.(AddPanic)
	if !ok || ap.Batch != 7 || ap.Doc != 1 {
		t.Fatalf("panic %#v, want an AddPanic for document 1 of batch 7", reason)
	}
	failed := Failed(2, 1, nil, reason, b)
	if failed.BlamedBatch != 7 || failed.GetBlamedDoc() != 1 {
		t.Fatalf("WorkerFailed %v, want document 1 of batch 7 blamed", failed)
	}
	if n := w.builder.NumDocs(); n != 1 {
		t.Fatalf("%d documents added before the damaged one, want 1", n)
	}
}
