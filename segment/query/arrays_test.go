package query

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// arrayDoc is a document of the arrays test: every field may hold an array.
type arrayDoc struct {
	id    string
	i     []int64   // "i": indexed, fast i64
	u     []uint64  // "u": indexed, fast u64
	f     []float64 // "f": indexed, fast f64
	at    []int64   // "at": indexed, fast date (epoch millis)
	b     []bool    // "b": indexed, fast bool
	first []int64   // "first": fast-only i64, which sees the first value
}

// TestArraysMatchAnyValue checks that term and range queries on indexed
// numeric, date and bool fields that are also fast find a document by any
// value of its array, against brute force: in a segment where every
// document has at most one value (answered from the fast column) and in
// segments with arrays (answered from the term index). A field that is
// fast but not indexed sees the first value, as documented.
func TestArraysMatchAnyValue(t *testing.T) {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "i", Type: segment.TypeI64, Indexed: true, Fast: true},
		segment.Field{Name: "u", Type: segment.TypeU64, Indexed: true, Fast: true},
		segment.Field{Name: "f", Type: segment.TypeF64, Indexed: true, Fast: true},
		segment.Field{Name: "at", Type: segment.TypeDate, Indexed: true, Fast: true},
		segment.Field{Name: "b", Type: segment.TypeBool, Indexed: true, Fast: true},
		segment.Field{Name: "first", Type: segment.TypeI64, Fast: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	r := rand.New(rand.NewSource(1212))
	randI := func() int64 { return int64(r.Intn(41) - 20) }
	randU := func() uint64 { return 1<<63 + uint64(r.Intn(30)) } // past the i64 range
	randF := func() float64 { return float64(r.Intn(81)-40) / 4 }
	randAt := func() int64 {
		ms := base + int64(r.Intn(20))*dayMillis
		if r.Intn(2) == 0 {
			ms += int64(r.Intn(dayMillis))
		}
		return ms
	}
	dir := storage.NewMem()
	var docs []arrayDoc
	var readers []*segment.Reader
	for seg := 0; seg < 3; seg++ {
		maxLen := 5
		if seg == 0 {
			maxLen = 2 // at most one value: the fast column answers
		}
		n := func() int { return r.Intn(maxLen) }
		b := segment.NewBuilder(s, nil)
		for j := 0; j < 150; j++ {
			d := arrayDoc{id: fmt.Sprintf("d%d", len(docs))}
			doc := (&segment.Document{}).AddString("id", d.id)
			for k := n(); k > 0; k-- {
				v := randI()
				d.i = append(d.i, v)
				doc.AddI64("i", v)
			}
			for k := n(); k > 0; k-- {
				v := randU()
				d.u = append(d.u, v)
				doc.AddU64("u", v)
			}
			for k := n(); k > 0; k-- {
				v := randF()
				d.f = append(d.f, v)
				doc.AddF64("f", v)
			}
			for k := n(); k > 0; k-- {
				v := randAt()
				d.at = append(d.at, v)
				doc.AddDate("at", time.UnixMilli(v))
			}
			for k := n(); k > 0; k-- {
				v := r.Intn(2) == 0
				d.b = append(d.b, v)
				doc.AddBool("b", v)
			}
			for k := n(); k > 0; k-- {
				v := randI()
				d.first = append(d.first, v)
				doc.AddI64("first", v)
			}
			if err := s.Validate(doc, 0); err != nil {
				t.Fatal(err)
			}
			if err := b.Add(doc); err != nil {
				t.Fatal(err)
			}
			docs = append(docs, d)
		}
		readers = append(readers, buildAndOpen(t, dir, s, b, seg+1))
	}
	defer func() {
		for _, rd := range readers {
			rd.Close()
		}
	}()
	searcher := NewSearcher(readers, s, nil)
	checks := 0
	check := func(in string, want func(d arrayDoc) bool) {
		t.Helper()
		checkAgainst(t, searcher, in, docs, func(d arrayDoc) string { return d.id }, want)
		checks++
	}
	within := func(v, lo, hi float64, loInc, hiInc bool) bool {
		return (v > lo || loInc && v == lo) && (v < hi || hiInc && v == hi)
	}
	bracket := func(lo, hi string, loInc, hiInc bool) string {
		open, closeB := "{", "}"
		if loInc {
			open = "["
		}
		if hiInc {
			closeB = "]"
		}
		return fmt.Sprintf("%s%s TO %s%s", open, lo, hi, closeB)
	}
	day := func(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.DateOnly) }
	stamp := func(ms int64) string {
		return time.UnixMilli(ms).In(time.FixedZone("", 3*3600)).Format("2006-01-02T15:04:05.000-07:00")
	}
	for n := 0; n < 40; n++ {
		loInc, hiInc := r.Intn(2) == 0, r.Intn(2) == 0

		iv := randI()
		check(fmt.Sprintf("i:%d", iv), func(d arrayDoc) bool { return slices.Contains(d.i, iv) })
		ilo, ihi := randI(), randI()
		check("i:"+bracket(strconv.FormatInt(ilo, 10), strconv.FormatInt(ihi, 10), loInc, hiInc), func(d arrayDoc) bool {
			return slices.ContainsFunc(d.i, func(v int64) bool { return within(float64(v), float64(ilo), float64(ihi), loInc, hiInc) })
		})
		check(fmt.Sprintf("i:>=%d", ilo), func(d arrayDoc) bool {
			return slices.ContainsFunc(d.i, func(v int64) bool { return v >= ilo })
		})

		uv := randU()
		check(fmt.Sprintf("u:%d", uv), func(d arrayDoc) bool { return slices.Contains(d.u, uv) })
		ulo, uhi := randU(), randU()
		check(fmt.Sprintf("u:%s", bracket(strconv.FormatUint(ulo, 10), strconv.FormatUint(uhi, 10), loInc, hiInc)), func(d arrayDoc) bool {
			return slices.ContainsFunc(d.u, func(v uint64) bool {
				return (v > ulo || loInc && v == ulo) && (v < uhi || hiInc && v == uhi)
			})
		})

		fv := randF()
		check(fmt.Sprintf("f:%g", fv), func(d arrayDoc) bool { return slices.Contains(d.f, fv) })
		flo, fhi := randF(), randF()
		check("f:"+bracket(fmt.Sprint(flo), fmt.Sprint(fhi), loInc, hiInc), func(d arrayDoc) bool {
			return slices.ContainsFunc(d.f, func(v float64) bool { return within(v, flo, fhi, loInc, hiInc) })
		})

		// A bare day matches all of it; ranges written with days and with
		// timestamps in another zone.
		dv := randAt()
		dv -= dv % dayMillis
		check("at:"+day(dv), func(d arrayDoc) bool {
			return slices.ContainsFunc(d.at, func(v int64) bool { return v >= dv && v < dv+dayMillis })
		})
		alo, ahi := randAt(), randAt()
		check("at:"+bracket(stamp(alo), stamp(ahi), loInc, hiInc), func(d arrayDoc) bool {
			return slices.ContainsFunc(d.at, func(v int64) bool { return within(float64(v), float64(alo), float64(ahi), loInc, hiInc) })
		})
		alo -= alo % dayMillis
		ahi -= ahi % dayMillis
		check("at:"+bracket(day(alo), day(ahi), loInc, hiInc), func(d arrayDoc) bool {
			return slices.ContainsFunc(d.at, func(v int64) bool { return within(float64(v), float64(alo), float64(ahi), loInc, hiInc) })
		})

		fst := randI()
		check(fmt.Sprintf("first:%d", fst), func(d arrayDoc) bool { return len(d.first) > 0 && d.first[0] == fst })
	}
	check("b:true", func(d arrayDoc) bool { return slices.Contains(d.b, true) })
	check("b:false", func(d arrayDoc) bool { return slices.Contains(d.b, false) })
	check("b:true AND b:false", func(d arrayDoc) bool { return slices.Contains(d.b, true) && slices.Contains(d.b, false) })
	check("b:true -b:false", func(d arrayDoc) bool { return slices.Contains(d.b, true) && !slices.Contains(d.b, false) })
	check("_exists_:i", func(d arrayDoc) bool { return len(d.i) > 0 })
	check("_exists_:at", func(d arrayDoc) bool { return len(d.at) > 0 })
	check("i:[* TO *]", func(d arrayDoc) bool { return len(d.i) > 0 })
	// Two values of one array, both required: only a term index knows.
	check("i:3 AND i:-3", func(d arrayDoc) bool { return slices.Contains(d.i, 3) && slices.Contains(d.i, -3) })
	if checks < 400 {
		t.Fatalf("only %d checks ran", checks)
	}
	// The test means something only if arrays whose later values match
	// were there to be found.
	later := 0
	for _, d := range docs {
		if len(d.i) > 1 && !slices.Contains(d.i[:1], d.i[len(d.i)-1]) {
			later++
		}
	}
	if later < 50 {
		t.Fatalf("only %d documents with an i array whose last value differs from the first", later)
	}
}
