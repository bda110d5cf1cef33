package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// dynamicSchema is {id: keyword, primary; body: text}, dynamic.
func dynamicSchema(t testing.TB) *hermes.Schema {
	t.Helper()
	s, err := segment.ParseSchema([]byte(`{"fields":[` +
		`{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},` +
		`{"name":"body","type":"text","indexed":true,"stored":true}],"unknown_fields":"dynamic"}`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dynDoc is the model of one document of TestDynamicMappingModel. Every
// field but id and body is one dynamic mapping adds when a document first
// holds it: n (i64) and price (f64) and note (text) from Go values, and
// meta.ok (bool), meta.at (date) and tags (text, repeated) from JSON.
type dynDoc struct {
	n        int64 // unique, so that a sort on it has no ties
	hasN     bool
	price    float64
	hasPrice bool
	note     string
	ok       *bool
	at       time.Time // zero: none
	tags     []string
}

// dynFieldTypes are the types dynamic mapping gives the model's fields.
var dynFieldTypes = map[string]segment.FieldType{
	"n": segment.TypeI64, "price": segment.TypeF64, "note": segment.TypeText,
	"meta.ok": segment.TypeBool, "meta.at": segment.TypeDate, "tags": segment.TypeText,
}

// TestDynamicMappingModel adds documents with new fields to a running
// writer, with commits, aborted commits, deletes, forced merges and
// reopens, and checks searches, aggregations, sorts and stored fields on
// the new fields against a brute-force model after each commit, and that a
// field whose documents were all discarded (an abort, then a close before
// any commit) is not in the reopened index's schema.
func TestDynamicMappingModel(t *testing.T) {
	ctx := context.Background()
	dir := storage.NewMem()
	cfg := hermes.Config{Workers: 2, BatchDocs: 8}
	rng := rand.New(rand.NewSource(1207))
	w, err := hermes.Create(ctx, dir, dynamicSchema(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { w.Close() }()

	committed := map[string]*dynDoc{} // what the last commit holds
	pending := map[string]*dynDoc{}   // added since; nil: deleted
	committedFields := map[string]bool{}
	writerFields := map[string]bool{} // grown in the running writer
	next := 0
	words := []string{"alpha", "beta", "gamma", "delta"}

	add := func() {
		next++
		id := fmt.Sprintf("d%04d", next)
		m := &dynDoc{}
		var doc *hermes.Document
		if rng.Intn(3) == 0 { // JSON
			var members []string
			members = append(members, fmt.Sprintf(`"id":%q,"body":"common"`, id))
			var meta []string
			if rng.Intn(2) == 0 {
				b := rng.Intn(2) == 0
				m.ok = &b
				meta = append(meta, fmt.Sprintf(`"ok":%v`, b))
			}
			if rng.Intn(2) == 0 {
				m.at = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Intn(730)) * 24 * time.Hour)
				meta = append(meta, fmt.Sprintf(`"at":%q`, m.at.Format(time.RFC3339)))
			}
			if rng.Intn(4) == 0 {
				meta = append(meta, `"gone":null`) // adds nothing
			}
			if len(meta) > 0 {
				members = append(members, `"meta":{`+strings.Join(meta, ",")+`}`)
			}
			if rng.Intn(2) == 0 {
				for range 1 + rng.Intn(2) {
					m.tags = append(m.tags, words[rng.Intn(len(words))])
				}
				members = append(members, fmt.Sprintf(`"tags":["%s"]`, strings.Join(m.tags, `","`)))
			}
			if rng.Intn(3) == 0 {
				m.n, m.hasN = int64(next)*7%1000-500, true
				members = append(members, fmt.Sprintf(`"n":%d`, m.n))
			}
			doc, err = w.DecodeJSON([]byte("{" + strings.Join(members, ",") + "}"))
			if err != nil {
				t.Fatalf("DecodeJSON %s: %v", id, err)
			}
		} else {
			doc = new(hermes.Document).AddString("id", id).AddString("body", "common")
			if rng.Intn(2) == 0 {
				m.n, m.hasN = int64(next)*7%1000-500, true
				doc.AddI64("n", m.n)
			}
			if rng.Intn(2) == 0 {
				m.price, m.hasPrice = float64(rng.Intn(400))/4, true
				doc.AddF64("price", m.price)
			}
			if rng.Intn(2) == 0 {
				m.note = words[rng.Intn(len(words))] + " " + words[rng.Intn(len(words))]
				doc.AddString("note", m.note)
			}
		}
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			t.Fatalf("add %s: %v", id, err)
		}
		for name := range dynFieldTypes {
			if has(m, name) {
				writerFields[name] = true
			}
		}
		pending[id] = m
	}
	commit := func() {
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		for id, m := range pending {
			if m == nil {
				delete(committed, id)
			} else {
				committed[id] = m
			}
		}
		clear(pending)
		for f := range writerFields {
			committedFields[f] = true
		}
	}
	conflicts := func() {
		// A value of another type than its field's, or a new field of two
		// types: refused, nothing added or grown.
		before := w.Schema()
		if _, ok := before.Field("n"); ok {
			if err := w.AddDocument(new(hermes.Document).AddString("id", "bad1").AddString("n", "seven")); err == nil {
				t.Fatal("a string in the i64 field n was accepted")
			}
		}
		err := w.AddDocument(new(hermes.Document).AddString("id", "bad2").AddI64("twice", 1).AddString("twice", "x"))
		var de *segment.DocumentError
		if !errors.As(err, &de) || de.Field != "twice" {
			t.Fatalf("a new field of two types: %v", err)
		}
		if _, err := w.DecodeJSON([]byte(`{"id":"bad3","mixed":[1,"one"]}`)); err == nil || !strings.Contains(err.Error(), `"mixed"`) || !strings.Contains(err.Error(), "declare the field in the schema") {
			t.Fatalf("a JSON field of two types: %v", err)
		}
		if !w.Schema().Equal(before) {
			t.Fatalf("a refused document grew the schema: %v", w.Schema().Fields())
		}
	}

	ops := map[string]int{}
	for step := 0; step < 60; step++ {
		op := rng.Intn(20)
		ops[[]string{10: "add", 13: "commit", 14: "abort", 15: "delete", 17: "merge", 18: "conflicts", 20: "reopen"}[dynOp(op)]]++
		switch {
		case op < 10:
			for range 1 + rng.Intn(25) {
				add()
			}
		case op < 13:
			commit()
			checkDynamicModel(t, w, committed, committedFields)
		case op < 14:
			p, err := w.PrepareCommit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Abort(); err != nil {
				t.Fatal(err)
			}
			clear(pending) // the fields stay in the writer's schema
		case op < 15:
			ids := slices.Sorted(maps.Keys(committed))
			for _, i := range rng.Perm(len(ids))[:min(3, len(ids))] {
				if _, added := pending[ids[i]]; added {
					continue
				}
				if err := w.DeleteByKey(ids[i]); err != nil {
					t.Fatal(err)
				}
				pending[ids[i]] = nil
			}
		case op < 17:
			if err := w.ForceMerge(ctx); err != nil {
				t.Fatal(err)
			}
		case op < 18:
			conflicts()
		default:
			// Reopen: what was not committed is gone, grown fields too.
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w, err = hermes.Open(ctx, dir, cfg); err != nil {
				t.Fatal(err)
			}
			clear(pending)
			writerFields = maps.Clone(committedFields)
			for name := range dynFieldTypes {
				if _, ok := w.Schema().Field(name); ok != committedFields[name] {
					t.Fatalf("reopened schema has %s: %v, want %v", name, ok, committedFields[name])
				}
			}
		}
	}
	commit()
	checkDynamicModel(t, w, committed, committedFields)
	t.Logf("operations: %v; %d documents", ops, len(committed))
	for _, name := range []string{"add", "commit", "abort", "delete", "merge", "conflicts", "reopen"} {
		if ops[name] == 0 {
			t.Fatalf("the run never did %s: %v", name, ops)
		}
	}
	if err := w.ForceMerge(ctx); err != nil {
		t.Fatal(err)
	}
	checkDynamicModel(t, w, committed, committedFields)
	if len(committedFields) != len(dynFieldTypes) {
		t.Fatalf("the run grew only %v", committedFields)
	}
	r, err := hermes.OpenReader(ctx, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkDynamicReader(t, r, committed, committedFields)
}

// dynOp is the upper bound of the range op falls in, naming its
// operation in TestDynamicMappingModel's switch.
func dynOp(op int) int {
	for _, b := range []int{10, 13, 14, 15, 17, 18} {
		if op < b {
			return b
		}
	}
	return 20
}

func has(m *dynDoc, field string) bool {
	switch field {
	case "n":
		return m.hasN
	case "price":
		return m.hasPrice
	case "note":
		return m.note != ""
	case "meta.ok":
		return m.ok != nil
	case "meta.at":
		return !m.at.IsZero()
	case "tags":
		return len(m.tags) > 0
	}
	return false
}

func checkDynamicModel(t *testing.T, w *hermes.Writer, model map[string]*dynDoc, fields map[string]bool) {
	t.Helper()
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkDynamicReader(t, r, model, fields)
}

func checkDynamicReader(t *testing.T, r *hermes.Reader, model map[string]*dynDoc, fields map[string]bool) {
	t.Helper()
	ctx := context.Background()
	for name, typ := range dynFieldTypes {
		f, ok := r.Schema().Field(name)
		if ok != fields[name] || ok && f.Type != typ {
			t.Fatalf("reader schema: %s is %+v (%v), want present %v as %v", name, f, ok, fields[name], typ)
		}
	}
	count := func(q string, want func(*dynDoc) bool) {
		t.Helper()
		n := 0
		for _, m := range model {
			if want(m) {
				n++
			}
		}
		got, err := r.Count(ctx, q)
		if err != nil {
			t.Fatalf("Count(%q): %v", q, err)
		}
		if got != n {
			t.Fatalf("Count(%q) = %d, want %d", q, got, n)
		}
	}
	count("body:common", func(*dynDoc) bool { return true })
	if fields["note"] {
		for _, word := range []string{"alpha", "beta", "gamma", "delta"} {
			count("note:"+word, func(m *dynDoc) bool { return slices.Contains(strings.Fields(m.note), word) })
		}
	}
	if fields["tags"] {
		count("tags:beta", func(m *dynDoc) bool { return slices.Contains(m.tags, "beta") })
	}
	if fields["meta.ok"] {
		count("meta.ok:true", func(m *dynDoc) bool { return m.ok != nil && *m.ok })
		count("meta.ok:false", func(m *dynDoc) bool { return m.ok != nil && !*m.ok })
	}
	if fields["meta.at"] {
		count("meta.at:[2024-06-01 TO 2025-03-01]", func(m *dynDoc) bool {
			return !m.at.IsZero() && !m.at.Before(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)) && !m.at.After(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
		})
	}
	if fields["n"] {
		count("n:[-100 TO 200]", func(m *dynDoc) bool { return m.hasN && m.n >= -100 && m.n <= 200 })
		// Sorted by n, descending: the documents with n, in n order.
		res, err := r.SearchRequest(ctx, hermes.SearchRequest{Query: "n:[-1000 TO 1000]", K: len(model) + 1, Sort: []hermes.SortField{{Field: "n", Desc: true}}})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for id, m := range model {
			if m.hasN {
				want = append(want, id)
			}
		}
		slices.SortFunc(want, func(a, b string) int { return int(model[b].n - model[a].n) })
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.Key.Str)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("sorted by n desc: %v, want %v", got, want)
		}
	}
	if fields["price"] {
		var want hermes.FieldStats
		want.Min, want.Max = math.Inf(1), math.Inf(-1)
		for _, m := range model {
			if m.hasPrice {
				want.Count++
				want.Sum += m.price
				want.Min, want.Max = min(want.Min, m.price), max(want.Max, m.price)
			}
		}
		res, err := r.SearchRequest(ctx, hermes.SearchRequest{Parsed: query.All{}, Aggs: map[string]hermes.Aggregation{"price": &hermes.StatsAgg{Field: "price"}}})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Aggs["price"].Stats
		if s.Count != want.Count || want.Count > 0 && (s.Min != want.Min || s.Max != want.Max) || math.Abs(s.Sum-want.Sum) > 1e-6 {
			t.Fatalf("stats on price: %+v, want %+v", *s, want)
		}
	}
	// Stored values of the new fields, for a sample of documents.
	i := 0
	for id, m := range model {
		if i++; i > 40 {
			break
		}
		doc, err := r.Document(ctx, id)
		if err != nil {
			t.Fatalf("Document(%s): %v", id, err)
		}
		n, hasN := doc.Get("n")
		note, hasNote := doc.Get("note")
		if hasN != m.hasN || hasN && n.I64 != m.n || hasNote != (m.note != "") || hasNote && note.Str != m.note || len(doc.GetAll("tags")) != len(m.tags) {
			t.Fatalf("Document(%s) = %v, want %+v", id, doc, m)
		}
	}
}

// TestDynamicMappingCommitCrash cuts power before each operation of a
// commit whose documents grew the schema (the flush's segment writes and
// the metadata write): the index always reopens, either without the new
// fields and without the commit's documents, or with both, and searches the
// new fields then.
func TestDynamicMappingCommitCrash(t *testing.T) {
	ctx := context.Background()
	const before, grown = 30, 20
	cfg := hermes.Config{Workers: 1, Deterministic: true}
	sawOld := false
	for cut := 1; ; cut++ {
		dir := storage.NewFaulty(int64(cut))
		w, err := hermes.Create(ctx, dir, dynamicSchema(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range before {
			if err := w.AddDocumentWait(ctx, new(hermes.Document).AddString("id", fmt.Sprint(i)).AddString("body", "common")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range grown {
			doc, err := w.DecodeJSON(fmt.Appendf(nil, `{"id":"g%d","body":"common","n":%d,"meta":{"ok":true}}`, i, i))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.AddDocumentWait(ctx, doc); err != nil {
				t.Fatal(err)
			}
		}
		ops := 0
		var after *storage.FaultyDirectory
		dir.OnOp(func(storage.Op, string) error {
			if ops++; ops == cut {
				after = dir.Crash()
			}
			return nil
		})
		_, err = w.Commit(ctx)
		finished := after == nil
		if finished {
			if err != nil {
				t.Fatal(err)
			}
			after = dir.Crash()
		}
		dir.OnOp(nil)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}

		w, err = hermes.Open(ctx, after, cfg)
		if err != nil {
			t.Fatalf("cut %d: reopen: %v", cut, err)
		}
		r, err := w.Reader()
		if err != nil {
			t.Fatal(err)
		}
		_, hasN := r.Schema().Field("n")
		_, hasOK := r.Schema().Field("meta.ok")
		docs, err := r.Count(ctx, "body:common")
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !hasN && !hasOK && docs == before:
			sawOld = true
		case hasN && hasOK && docs == before+grown:
			if n, err := r.Count(ctx, "meta.ok:true AND n:[5 TO 9]"); err != nil || n != 5 {
				t.Fatalf("cut %d: meta.ok:true AND n:[5 TO 9]: %d (%v), want 5", cut, n, err)
			}
		default:
			t.Fatalf("cut %d: %d documents, schema %v", cut, docs, r.Schema().Fields())
		}
		r.Close()
		if !finished && cut%8 != 0 { // (only some: a writer's life costs)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		// The reopened writer grows the schema again as it needs.
		doc, err := w.DecodeJSON([]byte(`{"id":"late","body":"common","n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddDocument(doc); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(ctx); err != nil {
			t.Fatalf("cut %d: commit after reopen: %v", cut, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if finished {
			if !hasN {
				t.Fatal("a completed commit lost its grown schema")
			}
			if !sawOld {
				t.Fatal("no cut left the old state")
			}
			t.Logf("cut before each of the commit's %d operations", cut-1)
			return
		}
	}
}

// TestDynamicMappingConcurrentGrowth adds documents from several
// goroutines that race to add the same new fields with different types:
// each field gets one type, the first to grow it wins, every document of
// that type is indexed and every other is refused naming the field, and the
// committed counts agree.
func TestDynamicMappingConcurrentGrowth(t *testing.T) {
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), dynamicSchema(t), hermes.Config{Workers: 2, BatchDocs: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const goroutines, each, fields = 8, 150, 10
	type outcome struct {
		field    string
		isString bool
		err      error
	}
	results := make([][]outcome, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				o := outcome{field: fmt.Sprintf("f%d", i%fields), isString: (g+i)%3 == 0}
				doc := new(hermes.Document).AddString("id", fmt.Sprintf("g%d-%d", g, i)).AddString("body", "common")
				if o.isString {
					doc.AddString(o.field, "w")
				} else {
					doc.AddI64(o.field, int64(i))
				}
				o.err = w.AddDocumentWait(ctx, doc)
				results[g] = append(results[g], o)
			}
		}()
	}
	wg.Wait()
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	schema := w.Schema()
	if schema.NumFields() != 2+fields {
		t.Fatalf("schema has %d fields, want %d", schema.NumFields(), 2+fields)
	}
	texts, ints, total := map[string]int{}, map[string]int{}, 0
	for _, rs := range results {
		for _, o := range rs {
			f, _ := schema.Field(o.field)
			matches := (f.Type == segment.TypeText) == o.isString
			var de *segment.DocumentError
			switch {
			case matches && o.err != nil:
				t.Fatalf("a %s value of %s (%v) was refused: %v", map[bool]string{true: "string", false: "i64"}[o.isString], o.field, f.Type, o.err)
			case !matches && (!errors.As(o.err, &de) || de.Field != o.field):
				t.Fatalf("a value of the wrong type for %s (%v): %v", o.field, f.Type, o.err)
			case matches && o.isString:
				texts[o.field]++
				total++
			case matches:
				ints[o.field]++
				total++
			}
		}
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for k := range fields {
		name := fmt.Sprintf("f%d", k)
		q, want := name+":[0 TO 1000]", ints[name]
		if f, _ := schema.Field(name); f.Type == segment.TypeText {
			q, want = name+":w", texts[name]
		}
		if n, err := r.Count(ctx, q); err != nil || n != want {
			t.Fatalf("Count(%q) = %d (%v), want %d", q, n, err, want)
		}
	}
	if n := r.NumDocs(); n != total {
		t.Fatalf("%d documents, want %d", n, total)
	}
}
