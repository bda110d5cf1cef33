package segment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hermes-search/hermes-go/storage"
)

// without returns s without the named fields, and docs stripped of their
// values: what an index held before those fields were added.
func without(t testing.TB, s *Schema, docs []*Document, names ...string) (*Schema, []*Document) {
	t.Helper()
	var fields []Field
	for _, f := range s.Fields() {
		if !slices.Contains(names, f.Name) {
			fields = append(fields, f)
		}
	}
	old, err := NewSchema(fields...)
	if err != nil {
		t.Fatal(err)
	}
	stripped := make([]*Document, len(docs))
	for i, d := range docs {
		c := new(Document)
		for _, v := range d.Values {
			if !slices.Contains(names, v.Field) {
				c.Values = append(c.Values, v)
			}
		}
		stripped[i] = c
	}
	return old, stripped
}

// TestOpenWithGrownSchema: a segment built before fields were added opens
// with the grown schema and reads exactly as a segment of the grown schema
// whose documents lack those fields (the brute-force model checks terms,
// postings, norms, fast and keyword columns, keys and stored fields); a
// merge of such segments with newer ones, with deletes, is byte for byte
// the segment built directly from the live documents with the grown
// schema.
func TestOpenWithGrownSchema(t *testing.T) {
	grown := corpusSchema(t)
	all := mergeDocs(t)
	for i, added := range [][]string{
		{"tag", "score", "raw", "flag"},                   // store-only, fast keyword, numeric
		{"source", "tag"},                                 // the old segment has no keyword section
		{"title", "delta", "when"},                        // a positional text field
		{"text", "source", "tag", "len", "score", "flag"}, // most of them
	} {
		t.Run(fmt.Sprint(added), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 12))
			dir := storage.NewMem()
			parts := splitDocs(all, 4, rng)
			var srcs []source
			for j, part := range parts {
				if j%2 == 1 {
					srcs = append(srcs, openSource(t, grown, dir, part, 0.1, rng))
					continue
				}
				old, stripped := without(t, grown, part, added...)
				if !grown.Extends(old) {
					t.Fatalf("the grown schema does not extend %v", old.Fields())
				}
				id, meta := buildSegment(t, old, stripped, dir)
				r, err := Open(dir, id, grown)
				if err != nil {
					t.Fatal(err)
				}
				if !r.Schema().Equal(grown) {
					t.Fatal("the reader's schema is not the one it was opened with")
				}
				if j == 0 { // the model check is slow; one old segment per case
					checkSegment(t, grown, dir, r, meta, stripped)
				}
				r.Close()
				srcs = append(srcs, openWithDeletes(t, grown, dir, id, stripped, 0.1, rng))
			}
			meta, err := Merge(context.Background(), dir, grown, NewID(), readers(srcs))
			if err != nil {
				t.Fatal(err)
			}
			checkMergedStore(t, grown, dir, meta, live(srcs), i == 0, true)
			// Nothing the merge copied carries the old ordinals: the
			// store reads back, and a merge of the merge equals a direct
			// build byte for byte.
			for _, s := range srcs {
				s.r.Close()
			}
			r, err := Open(dir, meta.ID, grown)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			again, err := Merge(context.Background(), dir, grown, NewID(), []*Reader{r})
			if err != nil {
				t.Fatal(err)
			}
			checkMergedStore(t, grown, dir, again, live(srcs), false, false)
		})
	}
}

// TestOpenRefusesOtherSchemas: a segment opens only with its own schema
// or one grown from it by adding fields; a changed, reordered or removed
// field, or a primary key added, is an error, as is a merge of it.
func TestOpenRefusesOtherSchemas(t *testing.T) {
	grown := corpusSchema(t)
	fields := grown.Fields()
	old, docs := without(t, grown, mergeDocs(t)[:30], "tag", "score")
	dir := storage.NewMem()
	id, _ := buildSegment(t, old, docs, dir)
	changed := slices.Clone(fields)
	changed[5].Stored = false // len
	reordered := slices.Clone(fields)
	reordered[1], reordered[2] = reordered[2], reordered[1]
	noKey := slices.Clone(fields)
	noKey[0].Primary = false
	for name, fs := range map[string][]Field{
		"changed":   changed,
		"reordered": reordered,
		"removed":   slices.Delete(slices.Clone(fields), 3, 4), // source
		"no key":    noKey,
	} {
		s, err := NewSchema(fs...)
		if err != nil {
			t.Fatal(err)
		}
		if s.Extends(old) {
			t.Errorf("%s: Extends", name)
		}
		if r, err := Open(dir, id, s); err == nil {
			r.Close()
			t.Errorf("%s: opened", name)
		}
	}
	// A primary key added later: the old segment has no key column.
	keyless, kdocs := without(t, grown, mergeDocs(t)[:5], "tag")
	kf := keyless.Fields()
	kf[0].Primary = false
	keyless, err := NewSchema(kf...)
	if err != nil {
		t.Fatal(err)
	}
	if grown.Extends(keyless) {
		t.Error("a schema with a primary key extends one without")
	}
	kid, _ := buildSegment(t, keyless, kdocs, dir)
	if r, err := Open(dir, kid, grown); err == nil {
		r.Close()
		t.Error("opened a segment without keys with a primary key")
	}
	if !grown.Extends(grown) || !grown.Extends(old) || old.Extends(grown) {
		t.Error("Extends: a schema extends itself and what it grew from, not the reverse")
	}
}
