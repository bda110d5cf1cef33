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

// The same worker runs in the writer's process: here with an in-memory
// directory of its own, from which the fetcher installs into the index. A
// builder past 80% of its budget (and 100 documents) is shipped unasked.
func TestLocalWorkerShipsPastItsBudget(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithDeadLetterThrottleInterval(time.Millisecond), actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
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
