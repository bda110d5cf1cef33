package remote

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

var words = strings.Fields(`time person year way day thing man world life hand part child eye woman
place work week case point government company number group problem fact know take see come think`)

// The same documents through 2 local workers and through 1 local + 1
// remote worker: the same documents, and the same hits for every query.
func TestMetamorphicLocalVsRemote(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	var docs []*hermes.Document
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for j := 0; j < 3+rnd.IntN(20); j++ {
			r := rnd.Float64()
			b.WriteString(words[int(r*r*float64(len(words)))] + " ")
		}
		docs = append(docs, new(hermes.Document).AddString("id", fmt.Sprintf("k-%06d", i)).AddString("body", b.String()))
	}
	index := func(nodes []string, workers int) *hermes.Writer {
		cfg := hermes.Config{Workers: workers, BatchDocs: 40, FlushDeadline: 30 * time.Second}
		if nodes != nil {
			cfg.Nodes, cfg.ActorSystem = nodes, writer()
		}
		w, err := hermes.Create(context.Background(), storage.NewMem(), schema(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close() })
		if nodes != nil {
			waitStarted(t, w, workers+len(nodes)) // the remote worker starts once its node answers
		}
		for _, d := range docs {
			if err := w.AddDocumentWait(context.Background(), d); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		return w
	}
	local := index(nil, 2)
	remote := index([]string{startNode(t).addr}, 1)

	if l, r := ids(t, local), ids(t, remote); !maps(l, r) {
		t.Fatalf("the indexes hold different documents: %d local, %d remote", len(l), len(r))
	}
	lr, err := local.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	rr, err := remote.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	for _, q := range []string{"time", "person AND year", "\"way day\"", "woman OR child", "think -know", "government company"} {
		a, b := hitKeys(t, lr, q), hitKeys(t, rr, q)
		if q == "time" && len(a) == 0 {
			t.Fatal("no hits for the commonest word")
		}
		if !slices.Equal(a, b) {
			t.Errorf("query %q: %d hits locally, %d through the node (or different ones)", q, len(a), len(b))
		}
	}
}

// hitKeys lists the keys of every hit of q, sorted.
func hitKeys(t *testing.T, r *hermes.Reader, q string) []string {
	t.Helper()
	hits, err := r.Search(context.Background(), q, r.NumDocs()+1)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	for _, h := range hits {
		out = append(out, h.Key.Str)
	}
	slices.Sort(out)
	return out
}

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
