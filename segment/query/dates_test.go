package query

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// dateDoc is a document of the dates-and-bools test.
type dateDoc struct {
	id     string
	at     int64   // "at": fast date, single-valued; 0 = missing
	seen   []int64 // "seen": indexed-only date, multi-valued
	ok     int     // "ok": indexed bool; -1 missing, else 0/1
	pinned int     // "pinned": fast bool; -1 missing, else 0/1
}

// TestDateRangesAndBoolTerms checks range queries written with date strings
// (days, RFC 3339 timestamps, epoch millis, now-style math) on fast and on
// indexed date fields, and term queries on indexed and fast bool fields,
// parsed from query strings, against brute force on real segments.
func TestDateRangesAndBoolTerms(t *testing.T) {
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "at", Type: segment.TypeDate, Fast: true, Stored: true},
		segment.Field{Name: "seen", Type: segment.TypeDate, Indexed: true},
		segment.Field{Name: "ok", Type: segment.TypeBool, Indexed: true},
		segment.Field{Name: "pinned", Type: segment.TypeBool, Fast: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	randDate := func(r *rand.Rand) int64 {
		// Within 40 days of base, on day boundaries often, to test edges.
		ms := base.UnixMilli() + int64(r.Intn(40))*dayMillis
		if r.Intn(2) == 0 {
			ms += int64(r.Intn(dayMillis))
		}
		return ms
	}
	saved := now
	now = func() time.Time { return base.AddDate(0, 0, 30) }
	defer func() { now = saved }()

	r := rand.New(rand.NewSource(12))
	dir := storage.NewMem()
	var docs []dateDoc
	var readers []*segment.Reader
	for seg := 0; seg < 3; seg++ {
		b := segment.NewBuilder(s, nil)
		for j := 0; j < 120; j++ {
			d := dateDoc{id: fmt.Sprintf("d%d", len(docs)), ok: r.Intn(3) - 1, pinned: r.Intn(3) - 1}
			doc := (&segment.Document{}).AddString("id", d.id)
			if r.Intn(5) > 0 {
				d.at = randDate(r)
				doc.AddI64("at", d.at)
			}
			for k := r.Intn(3); k > 0; k-- {
				v := randDate(r)
				d.seen = append(d.seen, v)
				doc.AddDate("seen", time.UnixMilli(v))
			}
			if d.ok >= 0 {
				doc.AddBool("ok", d.ok == 1)
			}
			if d.pinned >= 0 {
				doc.AddBool("pinned", d.pinned == 1)
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
	searcher := NewSearcher(readers, s, nil)
	check := func(in string, want func(d dateDoc) bool) {
		t.Helper()
		checkAgainst(t, searcher, in, docs, func(d dateDoc) string { return d.id }, want)
	}
	within := func(v, lo, hi int64, loInc, hiInc bool) bool {
		return (v > lo || loInc && v == lo) && (v < hi || hiInc && v == hi)
	}
	// Written forms of a date: a bare day, an RFC 3339 timestamp in
	// another zone, epoch milliseconds.
	forms := []func(ms int64) string{
		func(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.DateOnly) },
		func(ms int64) string {
			return time.UnixMilli(ms).In(time.FixedZone("", -5*3600)).Format("2006-01-02T15:04:05.000-07:00")
		},
		func(ms int64) string { return fmt.Sprint(ms) },
	}
	for n := 0; n < 60; n++ {
		lo, hi := randDate(r), randDate(r)
		form := forms[n%len(forms)]
		if n%len(forms) == 0 { // a bare day means its midnight
			lo -= lo % dayMillis
			hi -= hi % dayMillis
		}
		loInc, hiInc := r.Intn(2) == 0, r.Intn(2) == 0
		open, closeB := "{", "}"
		if loInc {
			open = "["
		}
		if hiInc {
			closeB = "]"
		}
		rng := fmt.Sprintf("%s%s TO %s%s", open, form(lo), form(hi), closeB)
		check("at:"+rng, func(d dateDoc) bool { return d.at != 0 && within(d.at, lo, hi, loInc, hiInc) })
		check("seen:"+rng, func(d dateDoc) bool {
			return slices.ContainsFunc(d.seen, func(v int64) bool { return within(v, lo, hi, loInc, hiInc) })
		})
		day := lo - lo%dayMillis
		check("at:"+forms[0](day), func(d dateDoc) bool { return d.at != 0 && within(d.at, day, day+dayMillis, true, false) })
		check(fmt.Sprintf("at:>%q", forms[1](lo)), func(d dateDoc) bool { return d.at != 0 && d.at > lo })
		check("seen:>="+forms[1](lo), func(d dateDoc) bool {
			return slices.ContainsFunc(d.seen, func(v int64) bool { return v >= lo })
		})
	}
	nowMs := now().UnixMilli()
	check("at:>=now-7d", func(d dateDoc) bool { return d.at != 0 && d.at >= nowMs-7*dayMillis })
	check("at:[now-1w-12h TO now-1d]", func(d dateDoc) bool {
		return d.at != 0 && within(d.at, nowMs-7*dayMillis-12*3600*1000, nowMs-dayMillis, true, true)
	})
	check("_exists_:at", func(d dateDoc) bool { return d.at != 0 })
	check("_exists_:seen", func(d dateDoc) bool { return len(d.seen) > 0 })
	check("ok:true", func(d dateDoc) bool { return d.ok == 1 })
	check("ok:false", func(d dateDoc) bool { return d.ok == 0 })
	check("ok:true OR ok:false", func(d dateDoc) bool { return d.ok >= 0 })
	check("_exists_:ok -ok:true", func(d dateDoc) bool { return d.ok == 0 })
	check("pinned:true", func(d dateDoc) bool { return d.pinned == 1 })
	check("pinned:FALSE", func(d dateDoc) bool { return d.pinned == 0 })
	check("pinned:true AND ok:true", func(d dateDoc) bool { return d.pinned == 1 && d.ok == 1 })
}
