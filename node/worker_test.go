package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

var workerSchema = func() *segment.Schema {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true},
	)
	if err != nil {
		panic(err)
	}
	return s
}()

// coordinatorStub stands for the writer's coordinator: everything it
// receives goes to a channel the test reads.
// writerClockSkew is how far the stub writer's clock is from the node's.
const writerClockSkew = -time.Hour

func coordinatorStub(t *testing.T, sys *actor.ActorSystem) (*actor.PID, <-chan proto.Message) {
	ch := make(chan proto.Message, 100)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*messages.SegmentIDRequest); ok {
			// The writer allocates segment ids, on its clock.
			ctx.Respond(&messages.SegmentIDResponse{Id: segment.NewIDAt(time.Now().Add(writerClockSkew)).String()})
			return
		}
		if m, ok := ctx.Message().(proto.Message); ok {
			if _, system := m.(*actor.Terminated); !system {
				ch <- m
			}
		}
	}))
	t.Cleanup(func() { _ = sys.Root.StopFuture(pid).Wait() })
	return pid, ch
}

// next returns the coordinator's next message, which must be an M.
func next[M proto.Message](t *testing.T, ch <-chan proto.Message) M {
	t.Helper()
	var want M
	select {
	case m := <-ch:
		got, ok := m.(M)
		if !ok {
			t.Fatalf("coordinator got %T %v, want %T", m, m, want)
		}
		return got
	case <-time.After(testTimeout):
		t.Fatalf("coordinator got nothing, want %T", want)
	}
	return want
}

func batch(seq, gen uint64, first, n int) *messages.Batch {
	b := &messages.Batch{Seq: seq, Generation: gen}
	for i := first; i < first+n; i++ {
		// Marshalled by proto: a document's wire form is a Document's.
		wire, err := proto.Marshal(&messages.Document{Values: []*messages.FieldValue{
			{Field: "id", Value: &messages.FieldValue_Str{Str: fmt.Sprint("doc-", i)}},
			{Field: "text", Value: &messages.FieldValue_Str{Str: fmt.Sprintf("document number %d of the remote test", i)}},
		}})
		if err != nil {
			panic(err)
		}
		b.Docs = append(b.Docs, wire)
	}
	return b
}

func startWorker(t *testing.T, sys *actor.ActorSystem, h *Host, m *messages.StartWorker) *messages.WorkerStarted {
	t.Helper()
	res, err := sys.Root.RequestFuture(h.PID, m, testTimeout).Result()
	if err != nil {
		t.Fatal(err)
	}
	return res.(*messages.WorkerStarted)
}

// A worker on a node pulls batches, builds a segment on a flush, and the
// writer fetches it into its own directory; a poison batch stops it and is
// blamed; the next generation is a new actor; a tokenizer the node lacks is
// named.
func TestRemoteWorker(t *testing.T) {
	t.Parallel()
	n, sys := pair(t)
	h, err := Connect(sys, n.addr, "host-"+t.Name(), writerActor(t, sys), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	coord, events := coordinatorStub(t, sys)
	schemaJSON, err := workerSchema.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	// The writer's clock is an hour behind the node's: ids are the writer's.
	writerClock := time.Now().Add(writerClockSkew)
	start := &messages.StartWorker{Worker: 1, Generation: 1, Schema: schemaJSON, MemoryBudget: 64 << 20, Coordinator: coord}
	started := startWorker(t, sys, h, start)
	if started.Error != "" || started.Pid == nil {
		t.Fatalf("StartWorker: %v", started)
	}
	w := started.Pid
	if r := next[*messages.RequestWork](t, events); r.Worker != 1 || r.Generation != 1 {
		t.Fatalf("RequestWork %v", r)
	}
	sys.Root.Send(w, batch(1, 1, 0, 60))
	next[*messages.RequestWork](t, events)
	sys.Root.Send(w, batch(2, 1, 60, 60))
	next[*messages.RequestWork](t, events)

	sys.Root.Send(w, &messages.FlushRequest{Round: 1, ReplyTo: coord})
	shipped := next[*messages.SegmentShipped](t, events)
	if shipped.Round != 1 || shipped.Worker != 1 || shipped.Generation != 1 || len(shipped.Batches) != 2 || shipped.Segment.NumDocs != 120 || !shipped.Files.Equal(h.Files) {
		t.Fatalf("SegmentShipped %v", shipped)
	}
	id, _ := segment.ParseID(shipped.Segment.Id)
	if d := id.Time().Sub(writerClock); d < 0 || d > time.Minute {
		t.Fatalf("segment id dated %v, %v after the writer's clock", id.Time(), d)
	}
	index := storage.NewMem()
	res := fetch(t, sys, startFetcher(t, sys, index), shipped.Files, shipped.Segment)
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	r, err := segment.Open(index, id, workerSchema)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := r.Document(7)
	r.Close()
	if v, _ := doc.Get("id"); err != nil || v.Str != "doc-7" {
		t.Fatalf("document 7 of the fetched segment: %v %v", doc, err)
	}

	// Nothing held: a plain FlushAck.
	sys.Root.Send(w, &messages.FlushRequest{Round: 2, ReplyTo: coord})
	if ack := next[*messages.FlushAck](t, events); ack.Round != 2 || ack.Segment != nil {
		t.Fatalf("empty flush: %v", ack)
	}

	// A poison batch: the worker stops and the batch is blamed.
	gone := watch(t, sys, w)
	poison := batch(3, 1, 200, 2)
	poison.Docs[1] = messages.AppendValue(poison.Docs[1], &segment.FieldValue{Field: "nope", Kind: segment.KindU64, U64: 1})
	sys.Root.Send(w, poison)
	failed := next[*messages.WorkerFailed](t, events)
	if failed.BlamedBatch != 3 || failed.Worker != 1 || failed.Generation != 1 || !strings.Contains(failed.Reason, "nope") {
		t.Fatalf("WorkerFailed %v", failed)
	}
	waitTerminated(t, gone, "failed worker", testTimeout)

	// The next generation is a new actor.
	start.Generation = 2
	again := startWorker(t, sys, h, start)
	if again.Error != "" || again.Pid.Equal(w) {
		t.Fatalf("generation 2: %v (generation 1 was %v)", again, w)
	}
	if r := next[*messages.RequestWork](t, events); r.Generation != 2 {
		t.Fatalf("RequestWork %v", r)
	}
	// The same generation twice is refused.
	if dup := startWorker(t, sys, h, start); !strings.Contains(dup.Error, "already started") {
		t.Fatalf("generation 2 again: %v", dup)
	}

	// A tokenizer the node lacks is named.
	start.Generation, start.Tokenizers = 3, map[string]string{"text": "klingon"}
	if res := startWorker(t, sys, h, start); !strings.Contains(res.Error, "klingon") {
		t.Fatalf("unknown tokenizer: %v", res)
	}
}
