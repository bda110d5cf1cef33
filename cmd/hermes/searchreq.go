package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
)

// defaultTotalThreshold is how far hermes search counts the matches
// without --count (Lucene's default).
const defaultTotalThreshold = 1000

const searchRequestAbout = `
Sorting and paging: --sort price:desc,year sorts by fast fields (ties by
primary key); --offset skips hits; with --json every hit has a "cursor",
and --after CURSOR continues after that hit, even after new commits. The
summary line gives the total: exact up to 1000 matches, a lower bound past
it; --count makes it exact.

Aggregations over all matches, from fast fields (repeat --agg):
  terms:FIELD[:SIZE]  histogram:FIELD:INTERVAL  stats:FIELD
  range:FIELD:FROM..TO,FROM..TO,...  ([FROM, TO); an empty bound is open)
  date_histogram:FIELD:INTERVAL  (1d, 6h, 1w, 1M, 1q, 1y, ...; UTC)
  date_range:FIELD:FROM..TO,...  (dates as in queries: 2024-01-01, now-7d)
terms works on fast keyword fields too, counting every value.
A terms, histogram or range aggregation can nest stats one level:
  --agg 'terms:cat>stats:price'. With --json, aggregations come last, as
one line {"aggs":{...}}; with --count, a line {"total":N,"relation":"="}.`

// requestFlags are the search flags that map onto hermes.SearchRequest.
type requestFlags struct {
	sort   string
	after  string
	offset int
	count  bool
	aggs   aggFlags
	// highlight: --highlight[=FIELDS], --fragments, --fragment-size, --marks.
	highlight    highlightFlag
	fragments    int
	fragmentSize int
	marks        string
}

// highlightFlag is --highlight (every stored text field) or
// --highlight=FIELDS.
type highlightFlag struct {
	set    bool
	fields []string
}

func (h *highlightFlag) IsBoolFlag() bool { return true }

func (h *highlightFlag) String() string {
	if h == nil || !h.set {
		return ""
	}
	return strings.Join(h.fields, ",")
}

func (h *highlightFlag) Set(s string) error {
	switch s {
	case "true":
		h.set, h.fields = true, nil
	case "false":
		h.set, h.fields = false, nil
	default:
		h.set, h.fields = true, nil
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				h.fields = append(h.fields, f)
			}
		}
	}
	return nil
}

type aggFlags []string

func (a *aggFlags) String() string     { return strings.Join(*a, " ") }
func (a *aggFlags) Set(s string) error { *a = append(*a, s); return nil }

func (f *requestFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&f.sort, "sort", "", "sort by fast `fields`, comma-separated, each FIELD or FIELD:desc (default: by score)")
	fl.StringVar(&f.after, "after", "", "continue after the hit with this `cursor` (from --json)")
	fl.IntVar(&f.offset, "offset", 0, "skip the first `n` hits")
	fl.BoolVar(&f.count, "count", false, "count every match exactly")
	fl.Var(&f.aggs, "agg", "an aggregation `spec`, e.g. terms:cat, stats:price, histogram:year:10 (repeatable)")
	fl.Var(&f.highlight, "highlight", "show the best fragments of each hit's stored text `fields`, matches marked (--highlight: every text field; --highlight=title,body: those)")
	fl.IntVar(&f.fragments, "fragments", 0, "with --highlight, at most `n` fragments per field (default 3)")
	fl.IntVar(&f.fragmentSize, "fragment-size", 0, "with --highlight, fragments of about `bytes` (default 150)")
	fl.StringVar(&f.marks, "marks", "", "with --highlight, `PRE,POST` around each match (default: bold on a terminal, ** otherwise; with --json: none)")
}

// request builds the SearchRequest for k hits.
func (f *requestFlags) request(k int) (hermes.SearchRequest, error) {
	req := hermes.SearchRequest{K: k, Offset: f.offset, After: f.after, TotalHitsThreshold: defaultTotalThreshold}
	if f.offset < 0 {
		return req, usagef("--offset %d: must not be negative", f.offset)
	}
	if f.count {
		req.TotalHitsThreshold = math.MaxInt
	}
	if f.sort != "" {
		for _, s := range strings.Split(f.sort, ",") {
			name, dir, _ := strings.Cut(strings.TrimSpace(s), ":")
			switch dir {
			case "", "asc":
				req.Sort = append(req.Sort, hermes.SortField{Field: name})
			case "desc":
				req.Sort = append(req.Sort, hermes.SortField{Field: name, Desc: true})
			default:
				return req, usagef("--sort %s: the direction must be asc or desc, not %q", s, dir)
			}
		}
	}
	if f.fragments < 0 || f.fragmentSize < 0 {
		return req, usagef("--fragments and --fragment-size must not be negative")
	}
	if f.highlight.set {
		req.Highlight = &hermes.HighlightRequest{Fields: f.highlight.fields, MaxFragments: f.fragments, FragmentSize: f.fragmentSize}
		if f.marks != "" {
			pre, post, ok := strings.Cut(f.marks, ",")
			if !ok {
				return req, usagef("--marks %q: want PRE,POST, e.g. '<em>,</em>'", f.marks)
			}
			req.Highlight.Pre, req.Highlight.Post = pre, post
		}
	} else if f.marks != "" || f.fragments != 0 || f.fragmentSize != 0 {
		return req, usagef("--marks, --fragments and --fragment-size need --highlight")
	}
	for _, spec := range f.aggs {
		a, err := parseAgg(spec)
		if err != nil {
			return req, usagef("--agg %s: %v", spec, err)
		}
		if req.Aggs == nil {
			req.Aggs = map[string]hermes.Aggregation{}
		}
		req.Aggs[spec] = a
	}
	return req, nil
}

// parseAgg parses KIND:FIELD[:ARG][>stats:FIELD].
func parseAgg(spec string) (hermes.Aggregation, error) {
	spec, nested, hasNested := strings.Cut(spec, ">")
	var sub map[string]*hermes.StatsAgg
	if hasNested {
		kind, field, _ := strings.Cut(nested, ":")
		if kind != "stats" || field == "" {
			return nil, fmt.Errorf("only stats:FIELD can be nested, not %q", nested)
		}
		sub = map[string]*hermes.StatsAgg{nested: {Field: field}}
	}
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) < 2 || parts[1] == "" {
		return nil, fmt.Errorf("want KIND:FIELD[:ARG]")
	}
	kind, field, arg := parts[0], parts[1], ""
	if len(parts) == 3 {
		arg = parts[2]
	}
	switch kind {
	case "stats":
		if arg != "" || hasNested {
			return nil, fmt.Errorf("stats takes only a field")
		}
		return &hermes.StatsAgg{Field: field}, nil
	case "terms":
		size := 0
		if arg != "" {
			n, err := strconv.Atoi(arg)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("size %q: want a positive integer", arg)
			}
			size = n
		}
		return &hermes.TermsAgg{Field: field, Size: size, Sub: sub}, nil
	case "histogram":
		iv, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(iv > 0) || math.IsInf(iv, 0) {
			return nil, fmt.Errorf("interval %q: want a positive number", arg)
		}
		return &hermes.HistogramAgg{Field: field, Interval: iv, Sub: sub}, nil
	case "range":
		if arg == "" {
			return nil, fmt.Errorf("want range:FIELD:FROM..TO[,FROM..TO]")
		}
		var ranges []hermes.NumericRange
		for _, r := range strings.Split(arg, ",") {
			rg, err := parseRange(r)
			if err != nil {
				return nil, err
			}
			ranges = append(ranges, rg)
		}
		return &hermes.RangeAgg{Field: field, Ranges: ranges, Sub: sub}, nil
	case "date_histogram":
		if arg == "" {
			return nil, fmt.Errorf("want date_histogram:FIELD:INTERVAL, such as 1d or 1M")
		}
		return &hermes.DateHistogramAgg{Field: field, Interval: arg, Sub: sub}, nil
	case "date_range":
		if arg == "" {
			return nil, fmt.Errorf("want date_range:FIELD:FROM..TO[,FROM..TO]")
		}
		var ranges []hermes.DateRange
		for _, r := range strings.Split(arg, ",") {
			from, to, ok := strings.Cut(r, "..")
			if !ok {
				return nil, fmt.Errorf("range %q: want FROM..TO", r)
			}
			ranges = append(ranges, hermes.DateRange{Name: r, From: from, To: to})
		}
		return &hermes.DateRangeAgg{Field: field, Ranges: ranges, Sub: sub}, nil
	}
	return nil, fmt.Errorf("unknown kind %q (terms, range, histogram, date_histogram, date_range, stats)", kind)
}

// parseRange parses FROM..TO, [FROM, TO); either bound may be empty
// (open): "..10", "10..20", "20..".
func parseRange(s string) (hermes.NumericRange, error) {
	rg := hermes.NumericRange{Name: s, From: math.Inf(-1), To: math.Inf(1)}
	from, to, ok := strings.Cut(s, "..")
	if !ok {
		return rg, fmt.Errorf("range %q: want FROM..TO", s)
	}
	var err error
	if from != "" {
		if rg.From, err = strconv.ParseFloat(from, 64); err != nil {
			return rg, fmt.Errorf("range %q: bad lower bound", s)
		}
	}
	if to != "" {
		if rg.To, err = strconv.ParseFloat(to, 64); err != nil {
			return rg, fmt.Errorf("range %q: bad upper bound", s)
		}
	}
	if rg.From != rg.From || rg.To != rg.To || rg.From > rg.To {
		return rg, fmt.Errorf("range %q: bounds out of order", s)
	}
	return rg, nil
}

// summaryLine is the text output's last line: "3 of 1234 hits in 2ms".
func summaryLine(res *hermes.SearchResult, took time.Duration) string {
	total := strconv.Itoa(res.Total.Value)
	if res.Total.Relation == hermes.TotalAtLeast {
		total = "at least " + total
	}
	noun := "hits"
	if res.Total.Value == 1 && res.Total.Relation == hermes.TotalEqual {
		noun = "hit"
	}
	return fmt.Sprintf("%d of %s %s in %s", len(res.Hits), total, noun, took.Round(10*time.Microsecond))
}

// printAggsText writes each aggregation under its name, its stats in the
// type of their field (dates as dates).
func printAggsText(w io.Writer, res *hermes.SearchResult, names []string, aggs map[string]hermes.Aggregation, schema *segment.Schema) {
	isDate := func(field string) bool {
		f, ok := schema.Field(field)
		return ok && f.Type == segment.TypeDate
	}
	for _, name := range names {
		a := res.Aggs[name]
		fmt.Fprintf(w, "%s:\n", name)
		if a.Stats != nil {
			st, _ := aggs[name].(*hermes.StatsAgg)
			fmt.Fprintf(w, "    %s\n", statsText(a.Stats, st != nil && isDate(st.Field)))
			continue
		}
		subs := subStatsAggs(aggs[name])
		for _, b := range a.Buckets {
			fmt.Fprintf(w, "    %-12s %d", b.Key, b.Count)
			for _, sn := range slices.Sorted(maps.Keys(b.Sub)) {
				st := subs[sn]
				fmt.Fprintf(w, "  (%s)", statsText(b.Sub[sn], st != nil && isDate(st.Field)))
			}
			fmt.Fprintln(w)
		}
		if a.Other > 0 {
			fmt.Fprintf(w, "    %-12s %d\n", "(other)", a.Other)
		}
	}
}

// subStatsAggs returns an aggregation's per-bucket stats.
func subStatsAggs(a hermes.Aggregation) map[string]*hermes.StatsAgg {
	switch a := a.(type) {
	case *hermes.TermsAgg:
		return a.Sub
	case *hermes.RangeAgg:
		return a.Sub
	case *hermes.HistogramAgg:
		return a.Sub
	case *hermes.DateHistogramAgg:
		return a.Sub
	case *hermes.DateRangeAgg:
		return a.Sub
	}
	return nil
}

// statsText prints stats: integers in full, other numbers in 6 digits,
// and for a date field min, max and avg as dates (no sum).
func statsText(s *hermes.FieldStats, date bool) string {
	if s.Count == 0 {
		return "count 0"
	}
	if date {
		d := func(f float64) string { return segment.FormatDate(int64(math.Round(f))) }
		return fmt.Sprintf("count %d, min %s, max %s, avg %s", s.Count, d(s.Min), d(s.Max), d(s.Avg))
	}
	g := func(f float64) string {
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatFloat(f, 'f', 0, 64)
		}
		return strconv.FormatFloat(f, 'g', 10, 64)
	}
	return fmt.Sprintf("count %d, min %s, max %s, avg %s, sum %s", s.Count, g(s.Min), g(s.Max), g(s.Avg), g(s.Sum))
}

// aggsJSON is the {"aggs":...} line of --json.
func aggsJSON(res *hermes.SearchResult) ([]byte, error) {
	out := map[string]any{}
	for name, a := range res.Aggs {
		if a.Stats != nil {
			out[name] = statsJSON(a.Stats)
			continue
		}
		var buckets []map[string]any
		for _, b := range a.Buckets {
			bj := map[string]any{"key": b.Key, "count": b.Count}
			if len(b.Sub) > 0 {
				sub := map[string]any{}
				for n, s := range b.Sub {
					sub[n] = statsJSON(s)
				}
				bj["sub"] = sub
			}
			buckets = append(buckets, bj)
		}
		aj := map[string]any{"buckets": buckets}
		if a.Other > 0 {
			aj["other"] = a.Other
		}
		out[name] = aj
	}
	return json.Marshal(map[string]any{"aggs": out})
}

// statsJSON writes NaN (no values) as null.
func statsJSON(s *hermes.FieldStats) map[string]any {
	num := func(f float64) any {
		if math.IsNaN(f) {
			return nil
		}
		return f
	}
	return map[string]any{"count": s.Count, "min": num(s.Min), "max": num(s.Max), "avg": num(s.Avg), "sum": s.Sum}
}
