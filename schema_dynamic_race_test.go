package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// Adds from several goroutines, each growing the dynamic schema with
// fields of its own as it goes, race with commits: every add that
// returned nil is in exactly one commit, and none is refused by a worker
// (a document that overtook the grown schema it needs, or a commit's
// prepare, would be: an unknown field, or a document missing from its
// commit); the last commit, with no add running, finds nothing left in
// the intake.
func TestIntakeConcurrentAddsGrowthAndCommits(t *testing.T) {
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), dynamicSchema(t), hermes.Config{Workers: 2, BatchDocs: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const adders, perAdder = 6, 300
	var added sync.WaitGroup
	acked := make([]int, adders)
	for g := range adders {
		added.Add(1)
		go func() {
			defer added.Done()
			for i := 0; i < perAdder; {
				var docs []*hermes.Document
				for range 1 + i%3 {
					d := new(hermes.Document).AddString("id", fmt.Sprintf("g%d-%d", g, i)).AddString("body", "word")
					if i%25 == 0 { // a field no document had: the schema grows
						d.AddI64(fmt.Sprintf("f%d_%d", g, i), int64(i))
					}
					docs = append(docs, d)
					i++
				}
				n, err := w.AddDocuments(docs)
				acked[g] += n
				if err != nil && !errors.Is(err, hermes.ErrQueueFull) {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { added.Wait(); close(done) }()
	committed, commits := 0, 0
	commit := func() {
		res, err := w.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rejected {
			t.Errorf("commit %d rejected %s: %s", commits, r.Key, r.Reason)
		}
		committed += res.Docs
		commits++
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		commit()
	}
	commit() // nothing was added since
	total := 0
	for _, n := range acked {
		total += n
	}
	if committed != total {
		t.Fatalf("%d commits hold %d documents; %d adds were acknowledged", commits, committed, total)
	}
}
