package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// modelOp is one step of a model run.
type modelOp struct {
	kind      string // add, delete, commit, abort, merges, forcemerge, reopen
	key, body string // for add and delete; for the others, a key to probe
}

func (o modelOp) String() string {
	switch o.kind {
	case "add":
		return fmt.Sprintf("add %s %q", o.key, o.body)
	case "delete":
		return "delete " + o.key
	}
	return o.kind
}

// modelOps draws a random sequence of n operations.
func modelOps(rnd *rand.Rand, n int) []modelOp {
	keys := func() string { return fmt.Sprintf("k%03d", rnd.IntN(150)) }
	ops := make([]modelOp, 0, n)
	for step := 0; step < n; step++ {
		var o modelOp
		switch x := rnd.IntN(100); {
		case x < 55: // add or upsert
			o = modelOp{kind: "add", key: keys(), body: fmt.Sprintf("version %d %s", step, text(rnd))}
		case x < 70:
			o = modelOp{kind: "delete", key: keys()}
		case x < 85:
			o = modelOp{kind: "commit", key: keys()}
		case x < 90:
			o = modelOp{kind: "abort", key: keys()}
		case x < 94:
			o = modelOp{kind: "merges", key: keys()}
		case x < 96:
			o = modelOp{kind: "forcemerge", key: keys()}
		default:
			o = modelOp{kind: "reopen", key: keys()}
		}
		ops = append(ops, o)
	}
	return append(ops, modelOp{kind: "commit", key: "k000"}, modelOp{kind: "forcemerge", key: "k000"})
}

// TestModel runs random sequences of add, upsert, delete, commit, abort,
// merge, force-merge and reopen against the writer (tantivy's model test),
// and after every step that changes what is committed checks the index
// against a plain map of which key holds which document. A failing
// sequence is shrunk (operations dropped while it still fails) and printed.
func TestModel(t *testing.T) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 5))
			workers := 1 + rnd.IntN(3)
			ops := modelOps(rnd, 400)
			err := runModel(workers, ops)
			if err == nil {
				return
			}
			small, smallErr := shrinkModel(workers, ops, err)
			var b strings.Builder
			for i, o := range small {
				fmt.Fprintf(&b, "\n  %3d  %s", i, o)
			}
			t.Fatalf("%v\nshrunk to %d of %d operations (workers %d), failing with: %v%s", err, len(small), len(ops), workers, smallErr, b.String())
		})
	}
}

// shrinkModel drops chunks of operations, then single ones, while the run
// still fails, within a bounded number of runs.
func shrinkModel(workers int, ops []modelOp, err error) ([]modelOp, error) {
	runs := 0
	for chunk := len(ops) / 2; chunk >= 1 && runs < 150; chunk /= 2 {
		for i := 0; i+chunk <= len(ops) && runs < 150; {
			try := append(append([]modelOp{}, ops[:i]...), ops[i+chunk:]...)
			runs++
			if e := runModel(workers, try); e != nil {
				ops, err = try, e
				continue
			}
			i += chunk
		}
	}
	return ops, err
}

// runModel runs ops on a fresh index and returns the first disagreement
// with the model, or an error of the writer.
func runModel(workers int, ops []modelOp) (err error) {
	ctx := context.Background()
	dir := storage.NewMem()
	cfg := hermes.Config{
		Workers: workers, MaxIndexingMemory: 1 << 20, BatchDocs: 16,
		OnDuplicate: hermes.ReplaceDuplicates, Logger: logger(),
		MergePolicy: &mergepolicy.Tiered{SegmentsPerTier: 3, MaxMergeAtOnce: 4, FloorDocs: 5, MaxMergedDocs: 1 << 20},
	}
	s, err := schemaErr("")
	if err != nil {
		return err
	}
	w, err := hermes.Create(ctx, dir, s, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if w != nil {
			w.Close()
		}
	}()

	committed := map[string]string{} // key -> body
	var pending []modelOp

	check := func(o modelOp) error {
		r, err := w.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		hits, err := r.SearchQuery(ctx, query.All{}, len(committed)+100)
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, h := range hits {
			id := h.Key
			doc, err := h.Document(ctx)
			if err != nil {
				return err
			}
			if stored, _ := doc.Get("id"); stored.Str != id.Str {
				return fmt.Errorf("hit with key %s has stored id %s", id.Str, stored.Str)
			}
			body, _ := doc.Get("body")
			if _, dup := got[id.Str]; dup {
				return fmt.Errorf("key %s is in the index twice", id.Str)
			}
			got[id.Str] = body.Str
		}
		if len(got) != len(committed) || r.NumDocs() != len(committed) {
			return fmt.Errorf("index holds %d docs (NumDocs %d), model %d", len(got), r.NumDocs(), len(committed))
		}
		for k, body := range committed {
			if got[k] != body {
				return fmt.Errorf("key %s holds %q, model says %q", k, got[k], body)
			}
		}
		// The key is searchable exactly when the model holds it.
		n, err := r.Count(ctx, "id:"+o.key)
		if err != nil {
			return err
		}
		if _, ok := committed[o.key]; ok != (n == 1) || n > 1 {
			return fmt.Errorf("id:%s matches %d docs; model holds it: %v", o.key, n, ok)
		}
		return nil
	}

	for step, o := range ops {
		var err error
		switch o.kind {
		case "add":
			addCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			err = w.AddDocumentWait(addCtx, newDoc(o.key, uint64(step), o.body))
			cancel()
			pending = append(pending, o)
		case "delete":
			err = w.DeleteByKey(o.key)
			pending = append(pending, o)
		case "commit":
			if _, err = w.Commit(ctx); err == nil {
				for _, p := range pending {
					if p.kind == "delete" {
						delete(committed, p.key)
					} else {
						committed[p.key] = p.body
					}
				}
				pending = nil
				err = check(o)
			}
		case "abort":
			var p *hermes.PreparedCommit
			if p, err = w.PrepareCommit(ctx); err == nil {
				if err = p.Abort(); err == nil {
					pending = nil
					err = check(o)
				}
			}
		case "merges":
			if err = w.WaitForMerges(ctx); err == nil {
				err = check(o)
			}
		case "forcemerge":
			if err = w.ForceMerge(ctx); err == nil {
				err = check(o)
			}
		case "reopen":
			if err = w.Close(); err != nil {
				break
			}
			pending = nil
			openCtx, cancel := context.WithTimeout(ctx, time.Minute)
			w, err = hermes.Open(openCtx, dir, cfg)
			cancel()
			if err != nil {
				w = nil
				return fmt.Errorf("step %d (%s): %w", step, o, err)
			}
			err = check(o)
		}
		if err != nil {
			return fmt.Errorf("step %d (%s): %w", step, o, err)
		}
	}
	return nil
}
