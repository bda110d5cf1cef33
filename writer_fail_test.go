package hermes

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// An AddDocumentWait waiting for room in a full queue returns the
// writer's failure as soon as the writer fails, even if no credit ever
// comes back (here the queue waits for a commit, as under Deterministic;
// in a service, for workers that crashed for good): it must not wait out
// its context, which may never end.
func TestAddDocumentWaitReturnsWhenTheWriterFails(t *testing.T) {
	ctx := context.Background()
	schema, err := segment.NewSchema(segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	w, err := Create(ctx, storage.NewMem(), schema, Config{Workers: 1, QueueCapacity: 2, Deterministic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, id := range []string{"a", "b"} {
		if err := w.AddDocument(new(Document).AddString("id", id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddDocument(new(Document).AddString("id", "c")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("a third add to a queue of 2: %v, want ErrQueueFull", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second) // a backstop only
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.AddDocumentWait(waitCtx, new(Document).AddString("id", "c")) }()
	// Until it waits for credits.
	for buf := make([]byte, 1<<20); !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*credits).wait"); {
		runtime.Gosched()
	}
	w.fail(errors.New("test failure"))
	if err := <-done; !errors.Is(err, ErrWriterFailed) {
		t.Fatalf("AddDocumentWait after the writer failed: %v, want ErrWriterFailed", err)
	}
}
