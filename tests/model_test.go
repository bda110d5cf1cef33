package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// TestModel runs random sequences of add, upsert, delete, commit, abort,
// merge, force-merge and reopen against the writer (tantivy's model test),
// and after every step that changes what is committed checks the index
// against a plain map of which key holds which document.
func TestModel(t *testing.T) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 5))
			ctx := context.Background()
			dir := storage.NewMem()
			cfg := hermes.Config{
				Workers: 1 + rnd.IntN(3), MaxIndexingMemory: 1 << 20, BatchDocs: 16,
				OnDuplicate: hermes.ReplaceDuplicates, Logger: logger(),
				MergePolicy: &mergepolicy.Tiered{SegmentsPerTier: 3, MaxMergeAtOnce: 4, FloorDocs: 5, MaxMergedDocs: 1 << 20},
			}
			w, err := hermes.Create(ctx, dir, schema(t, ""), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { w.Close() }()

			committed := map[string]string{} // key -> body
			type op struct {
				key, body string // body "" is a delete
			}
			var pending []op
			version := 0
			keys := func() string { return fmt.Sprintf("k%03d", rnd.IntN(150)) }

			check := func(step int, what string) {
				r, err := w.Reader()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				hits, err := r.SearchQuery(ctx, query.All{}, len(committed)+100)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for _, h := range hits {
					id := h.Key
					doc, err := h.Document(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if stored, _ := doc.Get("id"); stored.Str != id.Str {
						t.Fatalf("step %d (%s): hit with key %s has stored id %s", step, what, id.Str, stored.Str)
					}
					body, _ := doc.Get("body")
					if _, dup := got[id.Str]; dup {
						t.Fatalf("step %d (%s): key %s is in the index twice", step, what, id.Str)
					}
					got[id.Str] = body.Str
				}
				if len(got) != len(committed) || r.NumDocs() != len(committed) {
					t.Fatalf("step %d (%s): index holds %d docs (NumDocs %d), model %d", step, what, len(got), r.NumDocs(), len(committed))
				}
				for k, body := range committed {
					if got[k] != body {
						t.Fatalf("step %d (%s): key %s holds %q, model says %q", step, what, k, got[k], body)
					}
				}
				// The key is searchable exactly when the model holds it.
				k := keys()
				n, err := r.Count(ctx, "id:"+k)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := committed[k]; ok != (n == 1) || n > 1 {
					t.Fatalf("step %d (%s): id:%s matches %d docs; model holds it: %v", step, what, k, n, ok)
				}
			}

			for step := 0; step < 400; step++ {
				switch x := rnd.IntN(100); {
				case x < 55: // add or upsert
					version++
					o := op{keys(), fmt.Sprintf("version %d %s", version, text(rnd))}
					add(t, w, newDoc(o.key, uint64(version), o.body))
					pending = append(pending, o)
				case x < 70:
					k := keys()
					if err := w.DeleteByKey(k); err != nil {
						t.Fatal(err)
					}
					pending = append(pending, op{key: k})
				case x < 85:
					if _, err := w.Commit(ctx); err != nil {
						t.Fatalf("step %d: commit: %v", step, err)
					}
					for _, o := range pending {
						if o.body == "" {
							delete(committed, o.key)
						} else {
							committed[o.key] = o.body
						}
					}
					pending = nil
					check(step, "commit")
				case x < 90:
					p, err := w.PrepareCommit(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if err := p.Abort(); err != nil {
						t.Fatal(err)
					}
					pending = nil
					check(step, "abort")
				case x < 94:
					if err := w.WaitForMerges(ctx); err != nil {
						t.Fatal(err)
					}
					check(step, "merges")
				case x < 96:
					if err := w.ForceMerge(ctx); err != nil {
						t.Fatal(err)
					}
					check(step, "force merge")
				default:
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					pending = nil
					ctx2, cancel := context.WithTimeout(ctx, time.Minute)
					w, err = hermes.Open(ctx2, dir, cfg)
					cancel()
					if err != nil {
						t.Fatal(err)
					}
					check(step, "reopen")
				}
			}
			if _, err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			for _, o := range pending {
				if o.body == "" {
					delete(committed, o.key)
				} else {
					committed[o.key] = o.body
				}
			}
			if err := w.ForceMerge(ctx); err != nil {
				t.Fatal(err)
			}
			check(400, "final force merge")
		})
	}
}
