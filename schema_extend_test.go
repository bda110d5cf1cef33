package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// growDoc is the model of one document of TestExtendSchemaModel.
type growDoc struct {
	tag      string // "" for none
	price    float64
	hasPrice bool
	note     string // "" for none
	n        int64
	hasN     bool
}

func growSchemas(t *testing.T) (v1, v2, v3 *hermes.Schema) {
	t.Helper()
	id := hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true}
	body := hermes.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true}
	tag := hermes.Field{Name: "tag", Type: segment.TypeKeyword, Indexed: true, Stored: true, Fast: true}
	price := hermes.Field{Name: "price", Type: segment.TypeF64, Indexed: true, Fast: true}
	note := hermes.Field{Name: "note", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true}
	n := hermes.Field{Name: "n", Type: segment.TypeI64, Stored: true, Fast: true}
	var err error
	if v1, err = segment.NewSchema(id, body); err != nil {
		t.Fatal(err)
	}
	if v2, err = segment.NewSchema(id, body, tag, price); err != nil {
		t.Fatal(err)
	}
	// A field added between others, not only at the end.
	if v3, err = segment.NewSchema(id, body, note, tag, price, n); err != nil {
		t.Fatal(err)
	}
	return v1, v2, v3
}

// TestExtendSchemaModel grows an index's schema twice between commits,
// with deletes and a forced merge of segments of three schemas, and checks
// searches, aggregations and stored fields on old and new fields against a
// model, through the writer's reader and a reader opened afresh.
func TestExtendSchemaModel(t *testing.T) {
	ctx := context.Background()
	v1, v2, v3 := growSchemas(t)
	dir := storage.NewMem()
	cfg := hermes.Config{Workers: 2}
	rng := rand.New(rand.NewSource(12))
	model := map[string]*growDoc{}
	next := 0
	add := func(w *hermes.Writer, schema *hermes.Schema, count int) {
		t.Helper()
		_, hasTag := schema.Field("tag")
		_, hasNote := schema.Field("note")
		for range count {
			next++
			id := fmt.Sprintf("d%04d", next)
			doc := new(hermes.Document).AddString("id", id).AddString("body", "common w"+fmt.Sprint(rng.Intn(5)))
			m := &growDoc{}
			if hasTag && rng.Intn(4) > 0 {
				m.tag = fmt.Sprintf("t%d", rng.Intn(5))
				doc.AddString("tag", m.tag)
			}
			if hasTag && rng.Intn(3) > 0 {
				m.price, m.hasPrice = float64(rng.Intn(400))/4, true
				doc.AddF64("price", m.price)
			}
			if hasNote && rng.Intn(2) == 0 {
				m.note = []string{"alpha beta", "beta gamma", "alpha"}[rng.Intn(3)]
				doc.AddString("note", m.note)
			}
			if hasNote && rng.Intn(2) == 0 {
				m.n, m.hasN = int64(rng.Intn(200)-100), true
				doc.AddI64("n", m.n)
			}
			if err := w.AddDocumentWait(ctx, doc); err != nil {
				t.Fatal(err)
			}
			model[id] = m
		}
	}
	deleteSome := func(w *hermes.Writer, count int) {
		t.Helper()
		var ids []string
		for id := range model {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, i := range rng.Perm(len(ids))[:count] {
			if err := w.DeleteByKey(ids[i]); err != nil {
				t.Fatal(err)
			}
			delete(model, ids[i])
		}
	}
	commit := func(w *hermes.Writer) {
		t.Helper()
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	extend := func(s *hermes.Schema) *hermes.Writer {
		t.Helper()
		if err := hermes.ExtendSchema(ctx, dir, s, cfg); err != nil {
			t.Fatal(err)
		}
		w, err := hermes.Open(ctx, dir, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !w.Schema().Equal(s) {
			t.Fatalf("writer schema %v, want %v", w.Schema().Fields(), s.Fields())
		}
		return w
	}

	w, err := hermes.Create(ctx, dir, v1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	add(w, v1, 80)
	commit(w)
	add(w, v1, 40)
	commit(w)
	// A document with a field the schema lacks is refused, as before.
	if err := w.AddDocument(new(hermes.Document).AddString("id", "x").AddString("tag", "t1")); err == nil {
		t.Fatal("a document with an unknown field was accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	w = extend(v2)
	add(w, v2, 70)
	deleteSome(w, 15)
	commit(w)
	add(w, v2, 50)
	commit(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	w = extend(v3)
	defer w.Close()
	add(w, v3, 60)
	deleteSome(w, 10)
	commit(w)
	mixed, err := w.Reader() // segments of v1, v2 and v3
	if err != nil {
		t.Fatal(err)
	}
	t.Run("segments of three schemas", func(t *testing.T) { checkGrowModel(t, mixed, v3, model) })
	mixed.Close()
	if err := w.ForceMerge(ctx); err != nil { // into one segment of v3
		t.Fatal(err)
	}
	add(w, v3, 30)
	commit(w)

	wr, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer wr.Close()
	or, err := hermes.OpenReader(ctx, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer or.Close()
	for name, r := range map[string]*hermes.Reader{"writer's reader": wr, "OpenReader": or} {
		t.Run(name, func(t *testing.T) { checkGrowModel(t, r, v3, model) })
	}
}

func checkGrowModel(t *testing.T, r *hermes.Reader, schema *hermes.Schema, model map[string]*growDoc) {
	ctx := context.Background()
	if !r.Schema().Equal(schema) {
		t.Fatalf("reader schema %v", r.Schema().Fields())
	}
	count := func(q string, want int) {
		t.Helper()
		got, err := r.Count(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Count(%q) = %d, want %d", q, got, want)
		}
	}
	count("body:common", len(model))
	tags := map[string]int{}
	notes := map[string]int{}
	var price, n hermes.FieldStats
	price.Min, price.Max, n.Min, n.Max = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, d := range model {
		if d.tag != "" {
			tags[d.tag]++
		}
		for _, w := range strings.Fields(d.note) {
			notes[w]++
		}
		if d.hasPrice {
			price.Count++
			price.Sum += d.price
			price.Min, price.Max = min(price.Min, d.price), max(price.Max, d.price)
		}
		if d.hasN {
			v := float64(d.n)
			n.Count++
			n.Sum += v
			n.Min, n.Max = min(n.Min, v), max(n.Max, v)
		}
	}
	for i := range 6 {
		tag := fmt.Sprintf("t%d", i)
		count("tag:"+tag, tags[tag])
	}
	for _, w := range []string{"alpha", "beta", "gamma"} {
		count("note:"+w, notes[w])
	}
	count(`note:"alpha beta"`, func() int {
		c := 0
		for _, d := range model {
			if d.note == "alpha beta" {
				c++
			}
		}
		return c
	}())
	count("price:[10 TO 20]", func() int {
		c := 0
		for _, d := range model {
			if d.hasPrice && d.price >= 10 && d.price <= 20 {
				c++
			}
		}
		return c
	}())

	res, err := r.SearchRequest(ctx, hermes.SearchRequest{Parsed: query.All{}, Aggs: map[string]hermes.Aggregation{
		"tags":  &hermes.TermsAgg{Field: "tag", Size: 10},
		"price": &hermes.StatsAgg{Field: "price"},
		"n":     &hermes.StatsAgg{Field: "n"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, b := range res.Aggs["tags"].Buckets {
		got[b.Key] = b.Count
	}
	if fmt.Sprint(got) != fmt.Sprint(tags) {
		t.Errorf("terms on tag: %v, want %v", got, tags)
	}
	for name, want := range map[string]hermes.FieldStats{"price": price, "n": n} {
		s := res.Aggs[name].Stats
		if s.Count != want.Count || s.Min != want.Min || s.Max != want.Max || math.Abs(s.Sum-want.Sum) > 1e-6 {
			t.Errorf("stats on %s: %+v, want count %d min %v max %v sum %v", name, *s, want.Count, want.Min, want.Max, want.Sum)
		}
	}

	// Sorted by a new field: every document comes back, those with a
	// price in price order.
	sorted, err := r.SearchRequest(ctx, hermes.SearchRequest{Parsed: query.All{}, K: len(model) + 1, Sort: []hermes.SortField{{Field: "price"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sorted.Hits) != len(model) {
		t.Fatalf("sorted by price: %d hits, want %d", len(sorted.Hits), len(model))
	}
	last := math.Inf(-1)
	for _, h := range sorted.Hits {
		m := model[h.Key.Str]
		if m == nil {
			t.Fatalf("sorted by price: hit %q is not in the model", h.Key.Str)
		}
		if m.hasPrice {
			if m.price < last {
				t.Fatalf("sorted by price: %v after %v", m.price, last)
			}
			last = m.price
		}
	}
	// Highlighting a new field.
	hl, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: "note:alpha", K: len(model), Highlight: &hermes.HighlightRequest{Fields: []string{"note"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hl.Hits) != notes["alpha"] {
		t.Fatalf("note:alpha: %d hits, want %d", len(hl.Hits), notes["alpha"])
	}
	for _, h := range hl.Hits {
		if len(h.Highlights["note"]) == 0 {
			t.Fatalf("hit %s: no highlight of note", h.Key.Str)
		}
	}

	// Stored fields of every document, old and new.
	for id, m := range model {
		doc, err := r.Document(ctx, id)
		if err != nil {
			t.Fatalf("Document(%s): %v", id, err)
		}
		tag, hasTag := doc.Get("tag")
		note, hasNote := doc.Get("note")
		nv, hasN := doc.Get("n")
		if hasTag != (m.tag != "") || hasTag && tag.Str != m.tag || hasNote != (m.note != "") || hasNote && note.Str != m.note ||
			hasN != m.hasN || hasN && nv.I64 != m.n {
			t.Fatalf("Document(%s) = %v, want %+v", id, doc, m)
		}
	}
	if _, err := r.Document(ctx, "nosuch"); !errors.Is(err, hermes.ErrNotFound) {
		t.Fatalf("Document(nosuch): %v", err)
	}
}

// TestExtendSchemaRefuses: ExtendSchema changes nothing when a writer holds
// the index, or when the schema does not extend the index's; the same
// schema writes no new generation.
func TestExtendSchemaRefuses(t *testing.T) {
	ctx := context.Background()
	v1, v2, _ := growSchemas(t)
	dir := storage.NewMem()
	w, err := hermes.Create(ctx, dir, v2, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := hermes.ExtendSchema(ctx, dir, v2, hermes.Config{}); err == nil {
		t.Fatal("ExtendSchema ran while a writer held the index")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := storage.ReadAll(dir, storage.MetadataFile)
	if err != nil {
		t.Fatal(err)
	}
	changed := v2.Fields()
	changed[3].Fast = false // price
	changedSchema, err := segment.NewSchema(changed...)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*hermes.Schema{"fields removed": v1, "field changed": changedSchema, "same": v2} {
		err := hermes.ExtendSchema(ctx, dir, s, hermes.Config{})
		if (err == nil) != (name == "same") {
			t.Errorf("%s: %v", name, err)
		}
		after, rerr := storage.ReadAll(dir, storage.MetadataFile)
		if rerr != nil || string(after) != string(before) {
			t.Fatalf("%s: metadata.json changed (%v)", name, rerr)
		}
	}
}

// TestExtendSchemaCrash cuts power before each operation of ExtendSchema:
// the index always reopens with the old schema or the new one, with every
// committed document, and accepts documents of the schema it opened with.
func TestExtendSchemaCrash(t *testing.T) {
	ctx := context.Background()
	v1, v2, _ := growSchemas(t)
	const docs = 50
	sawOld := false
	for cut := 1; ; cut++ {
		dir := storage.NewFaulty(int64(cut))
		w, err := hermes.Create(ctx, dir, v1, hermes.Config{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i := range docs {
			if err := w.AddDocumentWait(ctx, new(hermes.Document).AddString("id", fmt.Sprint(i)).AddString("body", "common")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		ops := 0
		var after *storage.FaultyDirectory
		dir.OnOp(func(storage.Op, string) error {
			if ops++; ops == cut {
				after = dir.Crash()
			}
			return nil
		})
		err = hermes.ExtendSchema(ctx, dir, v2, hermes.Config{})
		finished := after == nil
		if finished { // ExtendSchema finished before the cut
			if err != nil {
				t.Fatal(err)
			}
			if cut < 3 {
				t.Fatalf("ExtendSchema took %d operations", cut-1)
			}
			after = dir.Crash()
		}
		w, err = hermes.Open(ctx, after, hermes.Config{Workers: 1})
		if err != nil {
			t.Fatalf("cut %d: reopen: %v", cut, err)
		}
		grown := w.Schema().Equal(v2)
		if !grown && !w.Schema().Equal(v1) {
			t.Fatalf("cut %d: schema %v", cut, w.Schema().Fields())
		}
		doc := new(hermes.Document).AddString("id", "new").AddString("body", "common")
		if grown {
			doc.AddString("tag", "t1")
		}
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := w.Reader()
		if err != nil {
			t.Fatal(err)
		}
		n, err := r.Count(ctx, "body:common")
		r.Close()
		if err != nil || n != docs+1 {
			t.Fatalf("cut %d: %d documents (%v), want %d", cut, n, err, docs+1)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if finished {
			if !grown {
				t.Fatal("a completed ExtendSchema was lost")
			}
			if !sawOld {
				t.Fatal("no cut left the old schema")
			}
			t.Logf("cut before each of ExtendSchema's %d operations", cut-1)
			return
		}
		sawOld = sawOld || !grown
	}
}
