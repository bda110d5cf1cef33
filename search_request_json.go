package hermes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
)

// SearchRequestJSONError is a JSON search request that does not decode: a
// syntax error, an unknown or repeated member, or a value of the wrong type
// or range. Path locates it, as $.aggs.shops.terms.size.
type SearchRequestJSONError struct {
	Path string
	Msg  string
}

func (e *SearchRequestJSONError) Error() string {
	return "hermes: search request JSON: " + e.Path + ": " + e.Msg
}

// DecodeSearchRequest reads the JSON form of a SearchRequest: one object
// whose members map one to one onto its fields (README, "The JSON search
// request", has the schema and examples):
//
//	{"query": "title:go" | {structured query},
//	 "k": 10, "offset": 0, "after": "CURSOR",
//	 "sort": [{"field": "price", "desc": true}],
//	 "total_hits_threshold": 1000,
//	 "fields": ["title"],
//	 "highlight": {"fields": ["body"], "fragment_size": 150, "max_fragments": 3, "pre": "<em>", "post": "</em>"},
//	 "aggs": {"NAME": {"terms"|"range"|"histogram"|"date_histogram"|"date_range"|"stats": {...}}}}
//
// A structured query is an object with one member naming a query type of
// package query: term, phrase, boolean, range, prefix, fuzzy, wildcard,
// regexp, exists, boost, all; or "parse", a query string parsed as
// ParseQuery does (for analysed words inside a structured query). Terms and
// patterns are compared with the indexed terms as they are (no analysis);
// range bounds on date fields may be date strings.
//
// Decoding is strict: unknown or repeated members, values of the wrong
// type, fractions where integers are wanted, negative counts and trailing
// data are errors (*SearchRequestJSONError) naming the JSON path. Field
// names are checked against the schema; everything else is checked by
// SearchRequest.
func (r *Reader) DecodeSearchRequest(rd io.Reader) (SearchRequest, error) {
	dec := json.NewDecoder(rd)
	dec.UseNumber()
	v, err := readJSON(dec, "$")
	if err != nil {
		return SearchRequest{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return SearchRequest{}, &SearchRequestJSONError{"$", fmt.Sprintf("data after the request object (at byte %d)", dec.InputOffset())}
	}
	d := requestDecoder{r: r}
	return d.request(v)
}

// jsonObject is a decoded object that remembers its members' order.
type jsonObject struct {
	keys []string
	vals map[string]any
}

// readJSON reads one value, with objects as *jsonObject (repeated members
// are errors) and numbers as json.Number.
func readJSON(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &SearchRequestJSONError{path, fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se.Error())}
		}
		return nil, &SearchRequestJSONError{path, fmt.Sprintf("invalid JSON at byte %d: %v", dec.InputOffset(), err)}
	}
	switch tok {
	case json.Delim('{'):
		o := &jsonObject{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, &SearchRequestJSONError{path, fmt.Sprintf("invalid JSON at byte %d: %v", dec.InputOffset(), err)}
			}
			k := kt.(string) // the decoder checks that members start with a string
			kp := memberPath(path, k)
			if _, dup := o.vals[k]; dup {
				return nil, &SearchRequestJSONError{kp, "repeated member"}
			}
			v, err := readJSON(dec, kp)
			if err != nil {
				return nil, err
			}
			o.keys = append(o.keys, k)
			o.vals[k] = v
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, &SearchRequestJSONError{path, fmt.Sprintf("invalid JSON at byte %d: %v", dec.InputOffset(), err)}
		}
		return o, nil
	case json.Delim('['):
		var a []any
		for i := 0; dec.More(); i++ {
			v, err := readJSON(dec, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, &SearchRequestJSONError{path, fmt.Sprintf("invalid JSON at byte %d: %v", dec.InputOffset(), err)}
		}
		if a == nil {
			a = []any{}
		}
		return a, nil
	}
	return tok, nil
}

var jsonIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// memberPath is path.key, or path["key"] for a key that is not a name.
func memberPath(path, key string) string {
	if jsonIdent.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// jsonKind names a decoded value's JSON type, for errors.
func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case json.Number:
		return "number " + v.String()
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return "string " + strconv.Quote(v)
	case []any:
		return "an array"
	case *jsonObject:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// requestDecoder maps decoded JSON onto a SearchRequest.
type requestDecoder struct {
	r *Reader
}

func wrongType(path, want string, v any) error {
	return &SearchRequestJSONError{path, fmt.Sprintf("want %s, got %s", want, jsonKind(v))}
}

// object returns v as an object whose members are all in allowed (any
// member if allowed is nil).
func (d *requestDecoder) object(path string, v any, allowed ...string) (*jsonObject, error) {
	o, ok := v.(*jsonObject)
	if !ok {
		return nil, wrongType(path, "an object", v)
	}
	for _, k := range o.keys {
		if allowed != nil && !contains(allowed, k) {
			return nil, &SearchRequestJSONError{memberPath(path, k), fmt.Sprintf("unknown member (want one of %s)", strings.Join(allowed, ", "))}
		}
	}
	return o, nil
}

func (d *requestDecoder) str(path string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", wrongType(path, "a string", v)
	}
	return s, nil
}

func (d *requestDecoder) boolean(path string, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, wrongType(path, "true or false", v)
	}
	return b, nil
}

// count is a non-negative integer.
func (d *requestDecoder) count(path string, v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, wrongType(path, "a non-negative integer", v)
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i < 0 || i > math.MaxInt {
		return 0, wrongType(path, "a non-negative integer", v)
	}
	return int(i), nil
}

func (d *requestDecoder) number(path string, v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, wrongType(path, "a number", v)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, wrongType(path, "a finite number", v)
	}
	return f, nil
}

func (d *requestDecoder) strs(path string, v any) ([]string, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, wrongType(path, "an array of strings", v)
	}
	out := make([]string, len(a))
	for i, e := range a {
		s, err := d.str(fmt.Sprintf("%s[%d]", path, i), e)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// field checks that a field name is in the schema.
func (d *requestDecoder) field(path string, v any) (string, error) {
	name, err := d.str(path, v)
	if err != nil {
		return "", err
	}
	if _, ok := d.r.schema.Field(name); !ok {
		return "", &SearchRequestJSONError{path, fmt.Sprintf("the schema has no field %q", name)}
	}
	return name, nil
}

// members calls fn for each member of o, in order, with its path.
func members(path string, o *jsonObject, fn func(path, key string, v any) error) error {
	for _, k := range o.keys {
		if err := fn(memberPath(path, k), k, o.vals[k]); err != nil {
			return err
		}
	}
	return nil
}

func (d *requestDecoder) request(v any) (SearchRequest, error) {
	var req SearchRequest
	o, err := d.object("$", v, "query", "k", "offset", "after", "sort", "total_hits_threshold", "fields", "highlight", "aggs")
	if err != nil {
		return req, err
	}
	err = members("$", o, func(path, key string, v any) (err error) {
		switch key {
		case "query":
			if s, ok := v.(string); ok {
				req.Query = s
				return nil
			}
			if _, ok := v.(*jsonObject); !ok {
				return wrongType(path, "a query string or a structured query object", v)
			}
			req.Parsed, err = d.query(path, v)
		case "k":
			req.K, err = d.count(path, v)
		case "offset":
			req.Offset, err = d.count(path, v)
		case "after":
			req.After, err = d.str(path, v)
		case "total_hits_threshold":
			req.TotalHitsThreshold, err = d.count(path, v)
		case "fields":
			if req.Fields, err = d.strs(path, v); err == nil {
				for i, f := range req.Fields {
					if f != "*" {
						if _, err = d.field(fmt.Sprintf("%s[%d]", path, i), f); err != nil {
							return err
						}
					}
				}
			}
		case "sort":
			req.Sort, err = d.sort(path, v)
		case "highlight":
			req.Highlight, err = d.highlight(path, v)
		case "aggs":
			req.Aggs, err = d.aggs(path, v)
		}
		return err
	})
	if err == nil && o.vals["query"] == nil {
		err = &SearchRequestJSONError{"$", `no "query" (a query string or a structured query; "*:*" or {"all":{}} matches every document)`}
	}
	return req, err
}

func (d *requestDecoder) sort(path string, v any) ([]SortField, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, wrongType(path, `an array of {"field": NAME, "desc": BOOL}`, v)
	}
	out := make([]SortField, len(a))
	for i, e := range a {
		p := fmt.Sprintf("%s[%d]", path, i)
		o, err := d.object(p, e, "field", "desc")
		if err != nil {
			return nil, err
		}
		if o.vals["field"] == nil {
			return nil, &SearchRequestJSONError{p, `no "field"`}
		}
		err = members(p, o, func(path, key string, v any) (err error) {
			switch key {
			case "field":
				if s, _ := v.(string); s == ScoreField {
					out[i].Field = s
					return nil
				}
				out[i].Field, err = d.field(path, v)
			case "desc":
				out[i].Desc, err = d.boolean(path, v)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d *requestDecoder) highlight(path string, v any) (*HighlightRequest, error) {
	o, err := d.object(path, v, "fields", "fragment_size", "max_fragments", "pre", "post")
	if err != nil {
		return nil, err
	}
	h := &HighlightRequest{}
	err = members(path, o, func(path, key string, v any) (err error) {
		switch key {
		case "fields":
			if h.Fields, err = d.strs(path, v); err == nil {
				for i, f := range h.Fields {
					if _, err = d.field(fmt.Sprintf("%s[%d]", path, i), f); err != nil {
						return err
					}
				}
			}
		case "fragment_size":
			h.FragmentSize, err = d.count(path, v)
		case "max_fragments":
			h.MaxFragments, err = d.count(path, v)
		case "pre":
			h.Pre, err = d.str(path, v)
		case "post":
			h.Post, err = d.str(path, v)
		}
		return err
	})
	return h, err
}

// one returns the single member of an object that must have exactly one,
// one of kinds.
func (d *requestDecoder) one(path string, v any, what string, kinds ...string) (string, any, error) {
	o, err := d.object(path, v, kinds...)
	if err != nil {
		return "", nil, err
	}
	if len(o.keys) != 1 {
		return "", nil, &SearchRequestJSONError{path, fmt.Sprintf("want an object with exactly one member, the %s (%s); got %d", what, strings.Join(kinds, ", "), len(o.keys))}
	}
	return o.keys[0], o.vals[o.keys[0]], nil
}

// aggKinds are the aggregation kinds, by their JSON names.
var aggKinds = []string{"terms", "range", "histogram", "date_histogram", "date_range", "stats"}

func (d *requestDecoder) aggs(path string, v any) (map[string]Aggregation, error) {
	o, err := d.object(path, v)
	if o == nil {
		return nil, err // not an object; any member name is allowed
	}
	out := map[string]Aggregation{}
	err = members(path, o, func(path, name string, v any) error {
		kind, body, err := d.one(path, v, "aggregation kind", aggKinds...)
		if err != nil {
			return err
		}
		kp := memberPath(path, kind)
		var agg Aggregation
		switch kind {
		case "terms":
			a := &TermsAgg{}
			agg, err = a, d.aggBody(kp, body, map[string]func(string, any) error{
				"field": func(p string, v any) (err error) { a.Field, err = d.field(p, v); return },
				"size":  func(p string, v any) (err error) { a.Size, err = d.count(p, v); return },
				"sub":   func(p string, v any) (err error) { a.Sub, err = d.subStats(p, v); return },
			})
		case "range":
			a := &RangeAgg{}
			agg, err = a, d.aggBody(kp, body, map[string]func(string, any) error{
				"field":  func(p string, v any) (err error) { a.Field, err = d.field(p, v); return },
				"ranges": func(p string, v any) (err error) { a.Ranges, err = d.ranges(p, v); return },
				"sub":    func(p string, v any) (err error) { a.Sub, err = d.subStats(p, v); return },
			})
		case "histogram":
			a := &HistogramAgg{}
			agg, err = a, d.aggBody(kp, body, map[string]func(string, any) error{
				"field":    func(p string, v any) (err error) { a.Field, err = d.field(p, v); return },
				"interval": func(p string, v any) (err error) { a.Interval, err = d.number(p, v); return },
				"sub":      func(p string, v any) (err error) { a.Sub, err = d.subStats(p, v); return },
			})
		case "date_histogram":
			a := &DateHistogramAgg{}
			agg, err = a, d.aggBody(kp, body, map[string]func(string, any) error{
				"field":    func(p string, v any) (err error) { a.Field, err = d.dateField(p, v); return },
				"interval": func(p string, v any) (err error) { a.Interval, err = d.dateInterval(p, v); return },
				"sub":      func(p string, v any) (err error) { a.Sub, err = d.subStats(p, v); return },
			})
			if err == nil && a.Interval == "" {
				err = &SearchRequestJSONError{kp, `no "interval"`}
			}
		case "date_range":
			a := &DateRangeAgg{}
			agg, err = a, d.aggBody(kp, body, map[string]func(string, any) error{
				"field":  func(p string, v any) (err error) { a.Field, err = d.dateField(p, v); return },
				"ranges": func(p string, v any) (err error) { a.Ranges, err = d.dateRanges(p, v); return },
				"sub":    func(p string, v any) (err error) { a.Sub, err = d.subStats(p, v); return },
			})
		case "stats":
			a := &StatsAgg{}
			agg, err = a, d.statsBody(kp, body, a)
		}
		if err != nil {
			return err
		}
		out[name] = agg
		return nil
	})
	return out, err
}

// aggBody decodes an aggregation's object with one setter per member;
// "field" is required.
func (d *requestDecoder) aggBody(path string, v any, set map[string]func(path string, v any) error) error {
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	o, err := d.object(path, v, names...)
	if err != nil {
		return err
	}
	if o.vals["field"] == nil {
		return &SearchRequestJSONError{path, `no "field"`}
	}
	return members(path, o, func(path, key string, v any) error { return set[key](path, v) })
}

func (d *requestDecoder) statsBody(path string, v any, a *StatsAgg) error {
	return d.aggBody(path, v, map[string]func(string, any) error{
		"field": func(p string, v any) (err error) { a.Field, err = d.field(p, v); return },
	})
}

func (d *requestDecoder) subStats(path string, v any) (map[string]*StatsAgg, error) {
	o, err := d.object(path, v)
	if o == nil {
		return nil, err
	}
	out := map[string]*StatsAgg{}
	err = members(path, o, func(path, name string, v any) error {
		// Only stats nest, so the kind is implied: {"NAME": {"field": F}}.
		a := &StatsAgg{}
		out[name] = a
		return d.statsBody(path, v, a)
	})
	return out, err
}

func (d *requestDecoder) ranges(path string, v any) ([]NumericRange, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, wrongType(path, `an array of {"name", "from", "to"}`, v)
	}
	out := make([]NumericRange, len(a))
	for i, e := range a {
		p := fmt.Sprintf("%s[%d]", path, i)
		o, err := d.object(p, e, "name", "from", "to")
		if err != nil {
			return nil, err
		}
		rg := NumericRange{From: math.Inf(-1), To: math.Inf(1)}
		err = members(p, o, func(path, key string, v any) (err error) {
			switch key {
			case "name":
				rg.Name, err = d.str(path, v)
			case "from":
				if v != nil { // null: open
					rg.From, err = d.number(path, v)
				}
			case "to":
				if v != nil {
					rg.To, err = d.number(path, v)
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		out[i] = rg
	}
	return out, nil
}

// dateField checks that a field is a date field of the schema.
func (d *requestDecoder) dateField(path string, v any) (string, error) {
	name, err := d.field(path, v)
	if err != nil {
		return "", err
	}
	if f, _ := d.r.schema.Field(name); f.Type != segment.TypeDate {
		return "", &SearchRequestJSONError{path, fmt.Sprintf("field %q is a %v field, not a date", name, f.Type)}
	}
	return name, nil
}

// dateInterval is a DateHistogramAgg interval such as "1d" or "3M".
func (d *requestDecoder) dateInterval(path string, v any) (string, error) {
	s, err := d.str(path, v)
	if err != nil {
		return "", err
	}
	if _, err := parseDateInterval(s); err != nil {
		return "", &SearchRequestJSONError{path, err.Error()}
	}
	return s, nil
}

// dateRanges decodes DateRangeAgg ranges. A bound is a date string as in
// queries or an integer of epoch milliseconds; null or absent is open.
func (d *requestDecoder) dateRanges(path string, v any) ([]DateRange, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, wrongType(path, `an array of {"name", "from", "to"}`, v)
	}
	out := make([]DateRange, len(a))
	bound := func(path string, v any) (string, error) {
		switch v := v.(type) {
		case nil:
			return "", nil
		case json.Number:
			if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
				return "", wrongType(path, "a date string, integer epoch milliseconds or null", v)
			}
			return string(v), nil
		case string:
			if v == "" {
				return "", &SearchRequestJSONError{path, `an empty date (null is an open end)`}
			}
			if _, err := query.ParseDate(v); err != nil {
				return "", &SearchRequestJSONError{path, err.Error()}
			}
			return v, nil
		}
		return "", wrongType(path, "a date string, integer epoch milliseconds or null", v)
	}
	for i, e := range a {
		p := fmt.Sprintf("%s[%d]", path, i)
		o, err := d.object(p, e, "name", "from", "to")
		if err != nil {
			return nil, err
		}
		err = members(p, o, func(path, key string, v any) (err error) {
			switch key {
			case "name":
				out[i].Name, err = d.str(path, v)
			case "from":
				out[i].From, err = bound(path, v)
			case "to":
				out[i].To, err = bound(path, v)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// queryKinds are the structured query's types.
var queryKinds = []string{"term", "phrase", "boolean", "range", "prefix", "fuzzy", "wildcard", "regexp", "exists", "boost", "all", "parse"}

// query decodes a structured query.
func (d *requestDecoder) query(path string, v any) (query.Query, error) {
	kind, body, err := d.one(path, v, "query type", queryKinds...)
	if err != nil {
		return nil, err
	}
	path = memberPath(path, kind)
	switch kind {
	case "parse":
		s, err := d.str(path, body)
		if err != nil {
			return nil, err
		}
		q, err := d.r.ParseQuery(s)
		if err != nil {
			return nil, &SearchRequestJSONError{path, strings.TrimPrefix(err.Error(), "query: ")}
		}
		return q, nil
	case "all":
		o, err := d.object(path, body)
		if err != nil {
			return nil, err
		}
		if len(o.keys) > 0 {
			return nil, &SearchRequestJSONError{memberPath(path, o.keys[0]), "unknown member (all takes none)"}
		}
		return query.All{}, nil
	case "boolean":
		var b query.Boolean
		o, err := d.object(path, body, "must", "should", "must_not")
		if err != nil {
			return nil, err
		}
		err = members(path, o, func(path, key string, v any) error {
			a, ok := v.([]any)
			if !ok {
				return wrongType(path, "an array of queries", v)
			}
			qs := make([]query.Query, len(a))
			for i, e := range a {
				if qs[i], err = d.query(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
					return err
				}
			}
			switch key {
			case "must":
				b.Must = qs
			case "should":
				b.Should = qs
			case "must_not":
				b.MustNot = qs
			}
			return nil
		})
		return b, err
	case "boost":
		var b query.Boost
		o, err := d.object(path, body, "query", "boost")
		if err != nil {
			return nil, err
		}
		if o.vals["query"] == nil || o.vals["boost"] == nil {
			return nil, &SearchRequestJSONError{path, `want "query" and "boost"`}
		}
		err = members(path, o, func(path, key string, v any) (err error) {
			if key == "query" {
				b.Query, err = d.query(path, v)
				return err
			}
			if b.Boost, err = d.number(path, v); err == nil && !(b.Boost >= 0) {
				err = &SearchRequestJSONError{path, "a boost must not be negative"}
			}
			return err
		})
		return b, err
	case "range":
		return d.rangeQuery(path, body)
	}
	// The rest are flat objects of a field and strings or integers.
	var (
		field string
		sets  = map[string]func(path string, v any) error{}
		build func() query.Query
	)
	setStr := func(dst *string) func(string, any) error {
		return func(p string, v any) (err error) { *dst, err = d.str(p, v); return }
	}
	setInt := func(dst *int) func(string, any) error {
		return func(p string, v any) (err error) { *dst, err = d.count(p, v); return }
	}
	switch kind {
	case "term":
		var t query.Term
		sets["term"] = setStr(&t.Term)
		build = func() query.Query { t.Field = field; return t }
	case "prefix":
		var t query.Prefix
		sets["prefix"] = setStr(&t.Prefix)
		build = func() query.Query { t.Field = field; return t }
	case "fuzzy":
		t := query.Fuzzy{Distance: 2}
		sets["term"], sets["distance"], sets["max_expansions"] = setStr(&t.Term), setInt(&t.Distance), setInt(&t.MaxExpansions)
		build = func() query.Query { t.Field = field; return t }
	case "wildcard":
		var t query.Wildcard
		sets["pattern"], sets["max_expansions"] = setStr(&t.Pattern), setInt(&t.MaxExpansions)
		build = func() query.Query { t.Field = field; return t }
	case "regexp":
		var t query.Regexp
		sets["pattern"], sets["max_expansions"] = setStr(&t.Pattern), setInt(&t.MaxExpansions)
		build = func() query.Query { t.Field = field; return t }
	case "exists":
		var t query.Exists
		build = func() query.Query { t.Field = field; return t }
	case "phrase":
		var t query.Phrase
		sets["terms"] = func(p string, v any) (err error) { t.Terms, err = d.strs(p, v); return }
		sets["positions"] = func(p string, v any) error {
			a, ok := v.([]any)
			if !ok {
				return wrongType(p, "an array of non-negative integers", v)
			}
			t.Positions = make([]int, len(a))
			for i, e := range a {
				n, err := d.count(fmt.Sprintf("%s[%d]", p, i), e)
				if err != nil {
					return err
				}
				t.Positions[i] = n
			}
			return nil
		}
		sets["slop"] = setInt(&t.Slop)
		build = func() query.Query { t.Field = field; return t }
	}
	sets["field"] = func(p string, v any) (err error) { field, err = d.field(p, v); return }
	if err := d.flat(path, body, sets); err != nil {
		return nil, err
	}
	return build(), nil
}

// flat decodes a query's object with a setter per member; every member but
// max_expansions, distance, positions and slop is required.
func (d *requestDecoder) flat(path string, v any, sets map[string]func(string, any) error) error {
	names := make([]string, 0, len(sets))
	for k := range sets {
		names = append(names, k)
	}
	sort.Strings(names)
	o, err := d.object(path, v, names...)
	if err != nil {
		return err
	}
	for _, k := range names {
		switch k {
		case "max_expansions", "distance", "positions", "slop":
			continue
		}
		if o.vals[k] == nil {
			return &SearchRequestJSONError{path, fmt.Sprintf("no %q", k)}
		}
	}
	return members(path, o, func(path, key string, v any) error { return sets[key](path, v) })
}

func (d *requestDecoder) rangeQuery(path string, v any) (query.Query, error) {
	o, err := d.object(path, v, "field", "min", "max", "min_inclusive", "max_inclusive")
	if err != nil {
		return nil, err
	}
	if o.vals["field"] == nil {
		return nil, &SearchRequestJSONError{path, `no "field"`}
	}
	var q query.Range
	fp := memberPath(path, "field")
	if q.Field, err = d.field(fp, o.vals["field"]); err != nil {
		return nil, err
	}
	fld, _ := d.r.schema.Field(q.Field)
	bound := func(path string, v any) (any, error) {
		switch v := v.(type) {
		case nil:
			return nil, nil
		case string:
			if fld.Type != segment.TypeDate {
				return nil, wrongType(path, "a number or null", v)
			}
			ms, err := segment.ParseDate(v)
			if err != nil {
				return nil, &SearchRequestJSONError{path, err.Error()}
			}
			return ms, nil
		case json.Number:
			if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return i, nil
			}
			if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				return u, nil
			}
			if f, err := strconv.ParseFloat(string(v), 64); err == nil {
				return f, nil
			}
		}
		want := "a number or null"
		if fld.Type == segment.TypeDate {
			want = "a date string, epoch milliseconds or null"
		}
		return nil, wrongType(path, want, v)
	}
	err = members(path, o, func(path, key string, v any) (err error) {
		switch key {
		case "min":
			q.Min, err = bound(path, v)
		case "max":
			q.Max, err = bound(path, v)
		case "min_inclusive":
			q.MinInclusive, err = d.boolean(path, v)
		case "max_inclusive":
			q.MaxInclusive, err = d.boolean(path, v)
		}
		return err
	})
	return q, err
}
