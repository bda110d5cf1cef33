package remote

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// A node's worker builds with the fields dynamic mapping adds while it
// runs: the local worker is held at the gate with its first batch, so the
// node takes every document after it, those of the grown schema included
// (two versions: an i64 from a Go value, then a bool and a date from JSON),
// and every one of them is found by the new fields after the commit.
func TestRemoteWorkerBuildsGrownSchema(t *testing.T) {
	a := startNode(t)
	g := newGate(t)
	logs := &installs{}
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(context.Background(), dir, gatedSchema(t).WithUnknownFields(segment.DynamicUnknown), hermes.Config{
		Workers: 1, Nodes: []string{a.addr}, ActorSystem: writer(), BatchDocs: 50,
		Tokenizers: tokenizersWith(g), FlushDeadline: flushDeadline, Logger: slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	waitStarted(t, w, 2)
	const plain, withN, withJSON = 200, 300, 200
	addAll(t, w, 0, plain)
	ctx := context.Background()
	for i := plain; i < plain+withN; i++ {
		if err := w.AddDocumentWait(ctx, doc(i).AddI64("n", int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := plain + withN; i < plain+withN+withJSON; i++ {
		d, err := w.DecodeJSON(fmt.Appendf(nil, `{"id":"k-%06d","body":"json %d","meta":{"ok":%v,"at":"2025-01-02T03:04:05Z"}}`, i, i, i%2 == 0))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddDocumentWait(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	g.release()
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	const total = plain + withN + withJSON
	checkExactly(t, ids(t, w), total)
	if logs.count() == 0 {
		t.Fatal("no segment was fetched from the node")
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for q, want := range map[string]int{
		fmt.Sprintf("n:[%d TO %d]", plain, plain+withN): withN,
		"meta.ok:true":                       withJSON / 2,
		"meta.at:[2025-01-01 TO 2025-01-03]": withJSON,
	} {
		if n, err := r.Count(ctx, q); err != nil || n != want {
			t.Fatalf("Count(%q) = %d (%v), want %d", q, n, err, want)
		}
	}
	t.Logf("%d segments fetched from the node", logs.count())
}
