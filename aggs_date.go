package hermes

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
)

// DateHistogramAgg buckets the matches by the interval their date (a fast
// date field) falls in; only non-empty buckets are returned, in increasing
// order, each keyed by its start in RFC 3339 (UTC), with From and To its
// bounds in epoch milliseconds.
//
// Interval is N followed by a unit. Fixed units: ms, s, m, h and d (days
// of 24 hours, so UTC days), counted from the Unix epoch. Calendar units:
// w (weeks starting on Monday), M (months), q (quarters) and y (years);
// N of them are aligned on multiples of N since 1970 (so "6M" buckets are
// January-June and July-December). Every bucket is in UTC.
type DateHistogramAgg struct {
	Field    string
	Interval string
	Sub      map[string]*StatsAgg
}

// DateRangeAgg counts the matches whose date (a fast date field) falls in
// each range, as RangeAgg does, with bounds written as in queries: RFC
// 3339, a bare day (its midnight, UTC), epoch milliseconds, or date math
// ("now-7d"); "" is an open end.
type DateRangeAgg struct {
	Field  string
	Ranges []DateRange
	Sub    map[string]*StatsAgg
}

// DateRange is [From, To). Name labels its bucket ("From-To" if empty,
// with "*" for an open end).
type DateRange struct {
	Name     string
	From, To string
}

// dateField checks that name is a fast date field.
func (r *Reader) dateField(name, use string) (segment.Field, error) {
	f, err := r.fastField(name, use)
	if err != nil {
		return f, err
	}
	if f.Type != segment.TypeDate {
		return f, fmt.Errorf("hermes: %s: field %q is a %v field, not a date", use, name, f.Type)
	}
	return f, nil
}

func (a *DateRangeAgg) newCollector(r *Reader) (aggCollector, error) {
	if _, err := r.dateField(a.Field, "date range"); err != nil {
		return nil, err
	}
	ra := &RangeAgg{Field: a.Field, Sub: a.Sub}
	bound := func(s string, open float64) (float64, error) {
		if s == "" {
			return open, nil
		}
		ms, err := query.ParseDate(s)
		return float64(ms), err
	}
	for _, dr := range a.Ranges {
		from, err := bound(dr.From, math.Inf(-1))
		if err != nil {
			return nil, fmt.Errorf("date range: from: %w", err)
		}
		to, err := bound(dr.To, math.Inf(1))
		if err != nil {
			return nil, fmt.Errorf("date range: to: %w", err)
		}
		name := dr.Name
		if name == "" {
			name = orStar(dr.From) + "-" + orStar(dr.To)
		}
		ra.Ranges = append(ra.Ranges, NumericRange{Name: name, From: from, To: to})
	}
	return ra.newCollector(r)
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// dateInterval is a parsed DateHistogramAgg interval: fixed milliseconds
// from an offset, or a number of calendar months.
type dateInterval struct {
	fixed  int64 // ms, or 0 for months
	offset int64 // start of bucket 0 (weeks: a Monday)
	months int
}

const dayMs = 24 * 60 * 60 * 1000

func parseDateInterval(s string) (dateInterval, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 32)
	if i == 0 || err != nil || n <= 0 {
		return dateInterval{}, fmt.Errorf("interval %q: want a positive number then a unit (ms, s, m, h, d, w, M, q, y), as in 1d or 1M", s)
	}
	unit := map[string]int64{"ms": 1, "s": 1000, "m": 60 * 1000, "h": 60 * 60 * 1000, "d": dayMs, "w": 7 * dayMs}
	switch u := s[i:]; u {
	case "M":
		return dateInterval{months: int(n)}, nil
	case "q":
		return dateInterval{months: 3 * int(n)}, nil
	case "y":
		return dateInterval{months: 12 * int(n)}, nil
	case "w":
		// 1970-01-01 was a Thursday: weeks start on Monday 1969-12-29.
		return dateInterval{fixed: n * unit[u], offset: -3 * dayMs}, nil
	default:
		ms, ok := unit[u]
		if !ok {
			return dateInterval{}, fmt.Errorf("interval %q: unknown unit %q (want ms, s, m, h, d, w, M, q or y)", s, u)
		}
		return dateInterval{fixed: n * ms}, nil
	}
}

// bucket returns the bounds [start, end) of the bucket holding ms.
func (iv dateInterval) bucket(ms int64) (start, end int64) {
	if iv.fixed > 0 {
		d := ms - iv.offset
		k := d / iv.fixed
		if d%iv.fixed < 0 {
			k--
		}
		start = iv.offset + k*iv.fixed
		return start, start + iv.fixed
	}
	t := time.UnixMilli(ms).UTC()
	m := (t.Year()-1970)*12 + int(t.Month()) - 1
	k := m / iv.months
	if m%iv.months < 0 {
		k--
	}
	first := k * iv.months
	return time.Date(1970, time.Month(1+first), 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(1970, time.Month(1+first+iv.months), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
}

type dateHistogramCollector struct {
	field    segment.Field
	interval dateInterval
	sub      *subStats
	buckets  map[int64]*dateBucket // by start
}

type dateBucket struct {
	termBucket
	end int64
}

func (a *DateHistogramAgg) newCollector(r *Reader) (aggCollector, error) {
	f, err := r.dateField(a.Field, "date histogram")
	if err != nil {
		return nil, err
	}
	iv, err := parseDateInterval(a.Interval)
	if err != nil {
		return nil, fmt.Errorf("date histogram: %w", err)
	}
	sub, err := r.newSubStats(a.Sub)
	if err != nil {
		return nil, err
	}
	return &dateHistogramCollector{field: f, interval: iv, sub: sub, buckets: map[int64]*dateBucket{}}, nil
}

func (c *dateHistogramCollector) segment(r *Reader, seg int) (func([]uint32), error) {
	col, subCols, err := c.sub.bucketColumns(r, seg, c.field)
	if err != nil {
		return nil, err
	}
	// The last bucket is cached: dates of neighbouring documents are
	// often close.
	var last *dateBucket
	var lastStart int64
	return func(docs []uint32) {
		for _, doc := range docs {
			ms, ok := col.c.I64(doc)
			if !ok {
				continue
			}
			b := last
			if b == nil || ms < lastStart || ms >= b.end {
				start, end := c.interval.bucket(ms)
				if b = c.buckets[start]; b == nil {
					b = &dateBucket{termBucket: termBucket{sub: make([]statsAcc, len(subCols))}, end: end}
					c.buckets[start] = b
				}
				last, lastStart = b, start
			}
			b.count++
			addSub(b.sub, subCols, doc)
		}
	}, nil
}

func (c *dateHistogramCollector) result() *AggResult {
	starts := slices.Sorted(maps.Keys(c.buckets))
	res := &AggResult{}
	for _, s := range starts {
		b := c.buckets[s]
		res.Buckets = append(res.Buckets, Bucket{Key: segment.FormatDate(s), From: float64(s), To: float64(b.end), Count: b.count, Sub: c.sub.results(b.sub)})
	}
	return res
}
