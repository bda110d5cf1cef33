package hermes

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/hermes-search/hermes-go/segment"
)

// Aggregation summarises the documents a search matches, from fast-field
// and keyword columns (no stored field is read), in the same pass as the
// search. It is one of *TermsAgg, *RangeAgg, *DateRangeAgg, *HistogramAgg,
// *DateHistogramAgg and *StatsAgg.
type Aggregation interface {
	newCollector(r *Reader) (aggCollector, error)
}

// TermsAgg buckets the matches by the value of a fast field: the Size
// (default 10) values with the most documents, most first, ties by value
// (numeric order; byte order for keywords). They are picked with a heap of
// Size entries, not by sorting every distinct value.
// Sub aggregations compute stats per bucket (one level of nesting).
//
// On a fast keyword field every value of a document counts (a document
// with two tags is in both buckets), from the field's keyword column:
// each segment counts by ordinal, and only the ordinals counted are mapped
// to their strings and merged across segments. So the counts are exact,
// as on numeric fields; the cost is an array of one counter per distinct
// value of the segment.
type TermsAgg struct {
	Field string
	Size  int
	Sub   map[string]*StatsAgg
}

// RangeAgg counts the matches whose Field value falls in each range.
type RangeAgg struct {
	Field  string
	Ranges []NumericRange
	Sub    map[string]*StatsAgg
}

// NumericRange is [From, To): use math.Inf(-1) and math.Inf(1) for open
// ends. Name labels its bucket ("from-to" if empty).
type NumericRange struct {
	Name     string
	From, To float64
}

// HistogramAgg buckets the matches by floor(value/Interval)*Interval; only
// non-empty buckets are returned, in increasing order.
type HistogramAgg struct {
	Field    string
	Interval float64
	Sub      map[string]*StatsAgg
}

// StatsAgg computes count, min, max, sum and average of a fast field over
// the matches that have a value.
type StatsAgg struct {
	Field string
}

// AggResult is one aggregation's answer: Buckets for terms, ranges and
// histograms, Stats for stats.
type AggResult struct {
	Buckets []Bucket
	Stats   *FieldStats
	// Other counts the matches in terms buckets beyond Size.
	Other int
}

// Bucket is one group of an aggregation.
type Bucket struct {
	// Key is the value (terms), the range's name, or the lower bound
	// (histogram), printed exactly; a date histogram's bucket start and a
	// date term are RFC 3339 in UTC.
	Key string
	// From and To bound the bucket: [From, To) for ranges and histograms
	// (epoch milliseconds for dates), From == To == the value for numeric
	// terms, 0 for keyword terms.
	From, To float64
	Count    int
	Sub      map[string]*FieldStats
}

// FieldStats is a StatsAgg result. Min, Max and Avg are NaN when Count is 0.
// Sums of integers beyond 2^53 are rounded.
type FieldStats struct {
	Count         int
	Min, Max, Sum float64
	Avg           float64
}

// aggCollector accumulates one aggregation over a search.
type aggCollector interface {
	// segment returns the function that takes seg's matches, a batch at
	// a time.
	segment(r *Reader, seg int) (func(docs []uint32), error)
	result() *AggResult
}

// aggSet is a request's aggregations.
type aggSet struct {
	names []string
	colls []aggCollector
}

func (r *Reader) newAggs(aggs map[string]Aggregation) (*aggSet, error) {
	s := &aggSet{}
	for name := range aggs {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	for _, name := range s.names {
		a := aggs[name]
		if a == nil {
			return nil, fmt.Errorf("hermes: aggregation %q is nil", name)
		}
		c, err := a.newCollector(r)
		if err != nil {
			return nil, fmt.Errorf("hermes: aggregation %q: %w", name, err)
		}
		s.colls = append(s.colls, c)
	}
	return s, nil
}

func (s *aggSet) len() int { return len(s.colls) }

func (s *aggSet) segment(r *Reader, seg int) (func(docs []uint32), error) {
	fns := make([]func([]uint32), len(s.colls))
	for i, c := range s.colls {
		fn, err := c.segment(r, seg)
		if err != nil {
			return nil, err
		}
		fns[i] = fn
	}
	switch len(fns) {
	case 0:
		return func([]uint32) {}, nil
	case 1:
		return fns[0], nil
	}
	return func(docs []uint32) {
		for _, fn := range fns {
			fn(docs)
		}
	}, nil
}

// err is the first error a collector met while counting (a corrupt
// column), or nil.
func (s *aggSet) err() error {
	for i, c := range s.colls {
		if e, ok := c.(interface{ err() error }); ok && e.err() != nil {
			return fmt.Errorf("hermes: aggregation %q: %w", s.names[i], e.err())
		}
	}
	return nil
}

func (s *aggSet) results() map[string]*AggResult {
	if len(s.colls) == 0 {
		return nil
	}
	out := make(map[string]*AggResult, len(s.colls))
	for i, c := range s.colls {
		out[s.names[i]] = c.result()
	}
	return out
}

// statsAcc accumulates Stats.
type statsAcc struct {
	count         int
	min, max, sum float64
}

func (a *statsAcc) add(v float64) {
	if a.count == 0 || v < a.min {
		a.min = v
	}
	if a.count == 0 || v > a.max {
		a.max = v
	}
	a.count++
	a.sum += v
}

func (a *statsAcc) merge(b *statsAcc) {
	if b.count == 0 {
		return
	}
	if a.count == 0 || b.min < a.min {
		a.min = b.min
	}
	if a.count == 0 || b.max > a.max {
		a.max = b.max
	}
	a.count += b.count
	a.sum += b.sum
}

func (a *statsAcc) stats() *FieldStats {
	s := &FieldStats{Count: a.count, Min: a.min, Max: a.max, Sum: a.sum, Avg: math.NaN()}
	if a.count == 0 {
		s.Min, s.Max = math.NaN(), math.NaN()
	} else {
		s.Avg = a.sum / float64(a.count)
	}
	return s
}

// subStats are the per-bucket stats of a bucket aggregation.
type subStats struct {
	names  []string
	fields []segment.Field
}

func (r *Reader) newSubStats(sub map[string]*StatsAgg) (*subStats, error) {
	s := &subStats{}
	for name := range sub {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	for _, name := range s.names {
		if sub[name] == nil {
			return nil, fmt.Errorf("sub aggregation %q is nil", name)
		}
		f, err := r.fastField(sub[name].Field, "aggregation "+name)
		if err != nil {
			return nil, err
		}
		s.fields = append(s.fields, f)
	}
	return s, nil
}

func (s *subStats) columns(r *Reader, seg int) ([]numColumn, error) {
	cols := make([]numColumn, len(s.fields))
	for i, f := range s.fields {
		c, err := r.column(seg, f)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return cols, nil
}

// bucketColumns opens segment seg's column of field, which picks each
// document's bucket, and the sub-aggregations' columns.
func (s *subStats) bucketColumns(r *Reader, seg int, field segment.Field) (numColumn, []numColumn, error) {
	col, err := r.column(seg, field)
	if err != nil {
		return numColumn{}, nil, err
	}
	subCols, err := s.columns(r, seg)
	return col, subCols, err
}

// add feeds doc's sub-field values into a bucket's accumulators.
func addSub(accs []statsAcc, cols []numColumn, doc uint32) {
	for i := range cols {
		if v, ok := cols[i].float(doc); ok {
			accs[i].add(v)
		}
	}
}

func (s *subStats) results(accs []statsAcc) map[string]*FieldStats {
	if len(s.names) == 0 {
		return nil
	}
	out := make(map[string]*FieldStats, len(s.names))
	for i, n := range s.names {
		out[n] = accs[i].stats()
	}
	return out
}

// --- stats ---

type statsCollector struct {
	field segment.Field
	acc   statsAcc
}

func (a *StatsAgg) newCollector(r *Reader) (aggCollector, error) {
	f, err := r.fastField(a.Field, "stats")
	if err != nil {
		return nil, err
	}
	return &statsCollector{field: f}, nil
}

func (c *statsCollector) segment(r *Reader, seg int) (func([]uint32), error) {
	col, err := r.column(seg, c.field)
	if err != nil {
		return nil, err
	}
	return func(docs []uint32) {
		acc := c.acc // a local copy stays in registers
		for _, doc := range docs {
			if v, ok := col.float(doc); ok {
				acc.add(v)
			}
		}
		c.acc = acc
	}, nil
}

func (c *statsCollector) result() *AggResult { return &AggResult{Stats: c.acc.stats()} }

// --- terms ---

type termsCollector struct {
	field  segment.Field
	size   int
	sub    *subStats
	nsub   int
	values *valueTable // raw values, numbered
	counts []int       // by value number
	subs   []statsAcc  // number*nsub + i
	flush  func()      // adds the last segment's dense counts
}

type termBucket struct {
	count int
	sub   []statsAcc
}

func (a *TermsAgg) newCollector(r *Reader) (aggCollector, error) {
	if a.Size < 0 {
		return nil, fmt.Errorf("terms: negative size %d", a.Size)
	}
	size := a.Size
	if size == 0 {
		size = 10
	}
	sub, err := r.newSubStats(a.Sub)
	if err != nil {
		return nil, err
	}
	if f, ok := r.schema.Field(a.Field); ok && f.FastKeyword() {
		return &keywordTermsCollector{field: f, size: size, sub: sub, buckets: map[string]*termBucket{}}, nil
	}
	f, err := r.fastField(a.Field, "terms")
	if err != nil {
		return nil, err
	}
	return &termsCollector{field: f, size: size, sub: sub, nsub: len(sub.fields), values: newValueTable(), flush: func() {}}, nil
}

// Terms on a numeric field count in a per-segment array indexed by
// value-min when the column's values span few raw values (its bit width
// is small) and the array is not much larger than the segment; otherwise
// by value number in a valueTable shared by the segments.
const (
	maxDenseTermsSlots  = 1 << 16
	denseSlotsPerDocMax = 4
)

// number returns v's number, with its counters.
func (c *termsCollector) number(v uint64) int {
	i := c.values.index(v)
	if i == len(c.counts) {
		c.counts = append(c.counts, 0)
		for range c.nsub {
			c.subs = append(c.subs, statsAcc{})
		}
	}
	return i
}

func (c *termsCollector) segment(r *Reader, seg int) (func([]uint32), error) {
	c.flush()
	col, subCols, err := c.sub.bucketColumns(r, seg, c.field)
	if err != nil {
		return nil, err
	}
	nsub := c.nsub
	lo, width := col.c.Span()
	if width <= 16 {
		slots := 1 << width
		if slots*max(1, nsub) <= maxDenseTermsSlots && slots <= max(1024, denseSlotsPerDocMax*int(r.view.readers[seg].NumDocs())) {
			return c.denseSegment(col, subCols, lo, slots), nil
		}
	}
	// The last value's number is cached: runs of equal values are common.
	last, lastNum := uint64(0), -1
	if nsub == 0 {
		return func(docs []uint32) {
			counts := c.counts
			for _, doc := range docs {
				v, ok := col.c.Raw(doc)
				if !ok {
					continue
				}
				if v != last || lastNum < 0 {
					last, lastNum = v, c.values.index(v)
					if lastNum == len(counts) {
						counts = append(counts, 0)
					}
				}
				counts[lastNum]++
			}
			c.counts = counts
		}, nil
	}
	return func(docs []uint32) {
		for _, doc := range docs {
			v, ok := col.c.Raw(doc)
			if !ok {
				continue
			}
			if v != last || lastNum < 0 {
				last, lastNum = v, c.number(v)
			}
			c.counts[lastNum]++
			addSub(c.subs[lastNum*nsub:(lastNum+1)*nsub], subCols, doc)
		}
	}, nil
}

// denseSegment counts a segment's values in an array indexed by
// value-min, added to the table when the next segment starts or the
// result is asked for.
func (c *termsCollector) denseSegment(col numColumn, subCols []numColumn, lo uint64, slots int) func([]uint32) {
	nsub := len(subCols)
	counts := make([]int, slots)
	subs := make([]statsAcc, slots*nsub)
	c.flush = func() {
		c.flush = func() {}
		for i, n := range counts {
			if n == 0 {
				continue
			}
			j := c.number(lo + uint64(i))
			c.counts[j] += n
			for k := range nsub {
				c.subs[j*nsub+k].merge(&subs[i*nsub+k])
			}
		}
	}
	if nsub == 0 {
		return func(docs []uint32) {
			for _, doc := range docs {
				if v, ok := col.c.Raw(doc); ok {
					counts[v-lo]++
				}
			}
		}
	}
	return func(docs []uint32) {
		for _, doc := range docs {
			if v, ok := col.c.Raw(doc); ok {
				i := int(v - lo)
				counts[i]++
				addSub(subs[i*nsub:(i+1)*nsub], subCols, doc)
			}
		}
	}
}

func (c *termsCollector) result() *AggResult {
	c.flush()
	counts := c.counts
	top := topN(c.size, upTo(len(counts)), func(i, j int) bool {
		// Raw keys order as the values do.
		return counts[i] > counts[j] || counts[i] == counts[j] && c.values.key(i) < c.values.key(j)
	})
	res := &AggResult{}
	for _, n := range counts {
		res.Other += n
	}
	for _, n := range top {
		res.Other -= counts[n]
		f, s := orderedValue(c.field.Type, c.values.key(n))
		res.Buckets = append(res.Buckets, Bucket{Key: s, From: f, To: f, Count: counts[n], Sub: c.sub.results(c.subs[n*c.nsub : (n+1)*c.nsub])})
	}
	return res
}

// --- ranges ---

type rangeCollector struct {
	field  segment.Field
	ranges []NumericRange
	sub    *subStats
	counts []int
	subs   [][]statsAcc
}

func (a *RangeAgg) newCollector(r *Reader) (aggCollector, error) {
	f, err := r.fastField(a.Field, "range")
	if err != nil {
		return nil, err
	}
	if len(a.Ranges) == 0 {
		return nil, fmt.Errorf("range: no ranges")
	}
	for _, rg := range a.Ranges {
		if rg.From != rg.From || rg.To != rg.To || rg.From > rg.To {
			return nil, fmt.Errorf("range: bad range [%v, %v)", rg.From, rg.To)
		}
	}
	sub, err := r.newSubStats(a.Sub)
	if err != nil {
		return nil, err
	}
	c := &rangeCollector{field: f, ranges: a.Ranges, sub: sub, counts: make([]int, len(a.Ranges)), subs: make([][]statsAcc, len(a.Ranges))}
	for i := range c.subs {
		c.subs[i] = make([]statsAcc, len(sub.fields))
	}
	return c, nil
}

func (c *rangeCollector) segment(r *Reader, seg int) (func([]uint32), error) {
	col, subCols, err := c.sub.bucketColumns(r, seg, c.field)
	if err != nil {
		return nil, err
	}
	return func(docs []uint32) {
		for _, doc := range docs {
			v, ok := col.float(doc)
			if !ok {
				continue
			}
			for i := range c.ranges {
				if v >= c.ranges[i].From && v < c.ranges[i].To {
					c.counts[i]++
					addSub(c.subs[i], subCols, doc)
				}
			}
		}
	}, nil
}

func (c *rangeCollector) result() *AggResult {
	res := &AggResult{}
	for i, rg := range c.ranges {
		name := rg.Name
		if name == "" {
			name = formatBound(rg.From) + "-" + formatBound(rg.To)
		}
		res.Buckets = append(res.Buckets, Bucket{Key: name, From: rg.From, To: rg.To, Count: c.counts[i], Sub: c.sub.results(c.subs[i])})
	}
	return res
}

func formatBound(f float64) string {
	if math.IsInf(f, 0) {
		return "*"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// --- histogram ---

type histogramCollector struct {
	field    segment.Field
	interval float64
	sub      *subStats
	buckets  map[int64]*termBucket // by floor(value/interval)
}

func (a *HistogramAgg) newCollector(r *Reader) (aggCollector, error) {
	f, err := r.fastField(a.Field, "histogram")
	if err != nil {
		return nil, err
	}
	if !(a.Interval > 0) || math.IsInf(a.Interval, 0) {
		return nil, fmt.Errorf("histogram: interval %v must be positive and finite", a.Interval)
	}
	sub, err := r.newSubStats(a.Sub)
	if err != nil {
		return nil, err
	}
	return &histogramCollector{field: f, interval: a.Interval, sub: sub, buckets: map[int64]*termBucket{}}, nil
}

func (c *histogramCollector) segment(r *Reader, seg int) (func([]uint32), error) {
	col, subCols, err := c.sub.bucketColumns(r, seg, c.field)
	if err != nil {
		return nil, err
	}
	var lastKey int64
	var last *termBucket
	return func(docs []uint32) {
		for _, doc := range docs {
			v, ok := col.float(doc)
			if !ok {
				continue
			}
			k := int64(math.Floor(v / c.interval))
			b := last
			if b == nil || k != lastKey {
				if b = c.buckets[k]; b == nil {
					b = &termBucket{sub: make([]statsAcc, len(subCols))}
					c.buckets[k] = b
				}
				last, lastKey = b, k
			}
			b.count++
			addSub(b.sub, subCols, doc)
		}
	}, nil
}

func (c *histogramCollector) result() *AggResult {
	keys := slices.Sorted(maps.Keys(c.buckets))
	res := &AggResult{}
	for _, k := range keys {
		b := c.buckets[k]
		from := float64(k) * c.interval
		res.Buckets = append(res.Buckets, Bucket{Key: strconv.FormatFloat(from, 'g', -1, 64), From: from, To: from + c.interval, Count: b.count, Sub: c.sub.results(b.sub)})
	}
	return res
}
