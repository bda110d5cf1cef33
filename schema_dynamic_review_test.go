package hermes_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/storage"
	"github.com/hermes-search/hermes-go/supervisor"
)

// A JSON line that Writer.DecodeJSON refuses for a value of another type
// than its known field's grows nothing, even when it also holds new
// members: the schema would otherwise keep fields of a line never added.
func TestDynamicDecodeJSONRefusedLineGrowsNothing(t *testing.T) {
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), dynamicSchema(t), hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	before := w.Schema()
	for _, line := range []string{
		`{"id":"a","body":5,"fresh":1}`,
		`{"id":"b","fresh":2,"body":{"x":1}}`,
	} {
		if _, err := w.DecodeJSON([]byte(line)); err == nil {
			t.Fatalf("DecodeJSON(%s) accepted a value of another type than its field's", line)
		}
		if !w.Schema().Equal(before) {
			t.Fatalf("DecodeJSON(%s), refused, grew the schema: %v", line, w.Schema().Fields())
		}
	}
}

// Workers that crash on poison documents after the schema grew restart
// and get the grown schema with the batches they are re-sent: every other
// document is found by its new fields after the commit, and the poison
// ones are rejected.
func TestDynamicMappingWorkerRestarts(t *testing.T) {
	reg := analysis.NewRegistry()
	inner, err := reg.Get("simple")
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register("poison", poison{inner}); err != nil {
		t.Fatal(err)
	}
	s, err := segment.ParseSchema([]byte(`{"fields":[` +
		`{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},` +
		`{"name":"body","type":"text","indexed":true,"stored":true,"tokenizer":"poison"}],"unknown_fields":"dynamic"}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), s, hermes.Config{
		Workers: 2, BatchDocs: 4, Tokenizers: reg,
		WorkerBackoff: supervisor.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const docs = 120
	poisoned := 0
	for round := range 2 {
		for i := round * docs / 2; i < (round+1)*docs/2; i++ {
			d := new(hermes.Document).AddString("id", fmt.Sprint(i)).AddString("body", "common")
			if i >= 10 {
				d.AddI64(fmt.Sprintf("n%d", i/30), int64(i))
			}
			if i%17 == 5 {
				d = new(hermes.Document).AddString("id", fmt.Sprint(i)).AddString("body", "POISON").AddI64(fmt.Sprintf("n%d", i/30), int64(i))
				poisoned++
			}
			if err := w.AddDocumentWait(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		res, err := w.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d docs, %d rejected", round, res.Docs, len(res.Rejected))
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for g := 0; g < docs/30; g++ {
		lo, hi := max(10, g*30), g*30+29
		want := 0
		for i := lo; i <= hi; i++ {
			if i%17 != 5 {
				want++
			}
		}
		q := fmt.Sprintf("n%d:[%d TO %d]", g, lo, hi)
		if n, err := r.Count(ctx, q); err != nil || n != want {
			t.Fatalf("Count(%s) = %d (%v), want %d", q, n, err, want)
		}
	}
	if n, err := r.Count(ctx, "body:common"); err != nil || n != docs-poisoned {
		t.Fatalf("Count(body:common) = %d (%v), want %d", n, err, docs-poisoned)
	}
}
