package worker

import (
	"fmt"
	"log/slog"
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
					b.Docs = append(b.Docs, &messages.Document{Values: []*messages.FieldValue{
						{Field: "id", Value: &messages.FieldValue_Str{Str: fmt.Sprint(seq, "-", i)}},
						{Field: "text", Value: &messages.FieldValue_Str{Str: fmt.Sprintf("batch %d document %d with some words w%d", seq, i, seq*100+uint64(i))}},
					}})
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
					b.Docs = append(b.Docs, &messages.Document{Values: []*messages.FieldValue{
						{Field: "id", Value: &messages.FieldValue_Str{Str: fmt.Sprint(seq, "-", i)}},
						{Field: "text", Value: &messages.FieldValue_Str{Str: fmt.Sprintf("batch %d document %d with some words w%d", seq, i, seq*100+uint64(i))}},
					}})
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
