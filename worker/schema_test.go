package worker

import (
	"fmt"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
)

// A batch of a newer schema version makes the worker write what it holds
// as a segment of the older schema, unasked, and build the next segment
// with the new one, which the batch carries; a later batch of the same (or
// an older) version carries none and changes nothing.
func TestWorkerRollsItsBuilderOnANewSchema(t *testing.T) {
	sys, schema, toks := newTestWorld(t)
	grown, grownJSON := grownSchema(t, schema)
	events := make(chan proto.Message, 100)
	coord := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *messages.SegmentShipped, *messages.FlushAck:
			events <- m.(proto.Message)
		}
	}))
	dir := storage.NewMem()
	w := spawnSchemaWorker(t, sys, schema, toks, coord, dir)
	doc := func(id string, n bool) []byte {
		d := new(segment.Document)
		d.AddString("id", id)
		if n {
			d.AddI64("n", 7)
		}
		return messages.AppendDocument(nil, d)
	}
	next := func() *messages.SegmentShipped {
		t.Helper()
		select {
		case m := <-events:
			s, ok := m.(*messages.SegmentShipped)
			if !ok {
				t.Fatalf("got %T, want a segment", m)
			}
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("worker silent")
		}
		return nil
	}
	sys.Root.Send(w, &messages.Batch{Seq: 1, Generation: 1, Docs: [][]byte{doc("a", false), doc("b", false)}})
	sys.Root.Send(w, &messages.Batch{Seq: 2, Generation: 1, SchemaVersion: 1, Schema: grownJSON, Docs: [][]byte{doc("c", true)}})
	rolled := next()
	if rolled.Round != 0 || fmt.Sprint(rolled.Batches) != "[1]" || rolled.Segment.NumDocs != 2 {
		t.Fatalf("rolled segment %v, want batch 1's 2 documents, unasked", rolled)
	}
	sys.Root.Send(w, &messages.Batch{Seq: 3, Generation: 1, SchemaVersion: 1, Docs: [][]byte{doc("d", true)}})
	sys.Root.Send(w, &messages.Batch{Seq: 4, Generation: 1, Docs: [][]byte{doc("e", false)}}) // re-delivered, older
	sys.Root.Send(w, &messages.FlushRequest{Round: 9, ReplyTo: coord})
	flushed := next()
	if flushed.Round != 9 || fmt.Sprint(flushed.Batches) != "[2 3 4]" || flushed.Segment.NumDocs != 3 {
		t.Fatalf("flushed segment %v, want batches 2-4", flushed)
	}
	for s, want := range map[*messages.SegmentShipped]*segment.Schema{rolled: schema, flushed: grown} {
		id, _ := segment.ParseID(s.Segment.Id)
		r, err := segment.Open(dir, id, want)
		if err != nil {
			t.Fatalf("segment %s under its schema: %v", s.Segment.Id, err)
		}
		r.Close()
		if want == grown {
			if r, err := segment.Open(dir, id, schema); err == nil {
				r.Close()
				t.Fatalf("segment %s opens under the older schema: it was not built with the grown one", s.Segment.Id)
			}
		}
	}
}

// An empty batch makes an empty builder, of the schema it came with; a
// newer schema then replaces it like a full one, so the next document,
// which uses a new field, is not refused (a panic, blamed on it).
func TestWorkerReplacesAnEmptyBuilderOnANewSchema(t *testing.T) {
	sys, schema, toks := newTestWorld(t)
	grown, grownJSON := grownSchema(t, schema)
	shipped := make(chan *messages.SegmentShipped, 10)
	coord := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*messages.SegmentShipped); ok {
			shipped <- m
		}
	}))
	dir := storage.NewMem()
	w := spawnSchemaWorker(t, sys, schema, toks, coord, dir)
	d := new(segment.Document).AddString("id", "c").AddI64("n", 7)
	sys.Root.Send(w, &messages.Batch{Seq: 1, Generation: 1})
	sys.Root.Send(w, &messages.Batch{Seq: 2, Generation: 1, SchemaVersion: 1, Schema: grownJSON, Docs: [][]byte{messages.AppendDocument(nil, d)}})
	sys.Root.Send(w, &messages.FlushRequest{Round: 9, ReplyTo: coord})
	select {
	case s := <-shipped:
		if s.Round != 9 || s.Segment.NumDocs != 1 {
			t.Fatalf("flushed segment %v, want batch 2's document", s)
		}
		id, _ := segment.ParseID(s.Segment.Id)
		r, err := segment.Open(dir, id, grown)
		if err != nil {
			t.Fatalf("segment under the grown schema: %v", err)
		}
		r.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("worker silent: the document with the new field was refused")
	}
}

// grownSchema is schema with a field "n" added, and its JSON.
func grownSchema(t *testing.T, schema *segment.Schema) (*segment.Schema, []byte) {
	t.Helper()
	grown, err := segment.NewSchema(append(schema.Fields(), segment.Field{Name: "n", Type: segment.TypeI64, Stored: true, Fast: true})...)
	if err != nil {
		t.Fatal(err)
	}
	grownJSON, err := grown.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return grown, grownJSON
}

// spawnSchemaWorker spawns worker 0 of generation 1 with schema, reporting
// to coord and writing to dir; the test's end stops it and coord.
func spawnSchemaWorker(t *testing.T, sys *actor.ActorSystem, schema *segment.Schema, toks map[string]analysis.Tokenizer, coord *actor.PID, dir storage.Directory) *actor.PID {
	w := sys.Root.Spawn(Props(Config{
		Worker: 0, Generation: 1, Schema: schema, Tokenizers: func() map[string]analysis.Tokenizer { return toks },
		MemoryBudget: 64 << 20, Coordinator: coord, Dir: dir,
		NewID: func() (segment.ID, error) { return segment.NewID(), nil },
	}))
	t.Cleanup(func() {
		for _, pid := range []*actor.PID{w, coord} {
			_ = sys.Root.StopFuture(pid).Wait()
		}
	})
	return w
}
