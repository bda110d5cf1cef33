package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

const searchAbout = `Searches the index and prints the best hits, best first. The query uses
Lucene's syntax: words (any of them may match), "a phrase", "a phrase"~2
(words up to 2 moves apart), +must, -mustnot, AND / OR / NOT, (groups),
field:word, field:(a b), prefix*, wild?c*rd, /reg.?exp/ (whole terms),
fuzzy~1 (within 1 edit; ~ alone: 2), word^3 (a boost), year:[1900 TO 1950],
year:>2000, _exists_:year, *:*. Words without a field are searched in every
text field. Anything else is refused with the position of what the parser
does not support.

With --json, each hit is one JSON object a line: {"id":...,"score":...,
<stored fields>}. A stored field named "score" appears as "stored.score".

Highlighting: --highlight shows the best fragments of every stored text
field with the words the query matched marked (as the field was analysed:
"runs" marks "running"; a phrase only where its words stand together);
--highlight=title,body picks the fields. With --json each hit then has
"highlight":{"body":[{"value":0,"start":120,"end":262,"text":"...",
"matches":[[4,9],...]},...]}: start and end are byte offsets of the
fragment in the field's value (the value-th one), matches byte ranges of
its text; --marks PRE,POST adds "marked", the text with the marks.

--query-json FILE (- for stdin) runs a search request written in JSON
instead of QUERY and the flags -k, --fields, --sort, --after, --offset,
--count, --agg and --highlight, which it maps one to one, e.g.
  {"query": "title:mug", "k": 20, "sort": [{"field": "price", "desc": true}],
   "highlight": {"fields": ["body"]}, "aggs": {"shops": {"terms": {"field": "shop"}}}}
The README documents its schema. With --json the total comes as a line
{"total":N,"relation":"="} when the request has a total_hits_threshold.` + searchRequestAbout

type searchOptions struct {
	index     string
	k         int
	json      bool
	fields    string
	queryJSON string
	req       requestFlags
}

// requestFlagNames are the flags that --query-json replaces.
var requestFlagNames = []string{"k", "fields", "sort", "after", "offset", "count", "agg", "highlight", "fragments", "fragment-size", "marks"}

func runSearch(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("search", "hermes search --index DIR [-k 10] [--json] [--fields f1,f2] [--sort F[:desc]] [--after CURSOR] [--offset N] [--count] [--agg SPEC] [--highlight[=FIELDS]] QUERY\n       hermes search --index DIR [--json] --query-json FILE|-", searchAbout, io)
	var o searchOptions
	fl.StringVar(&o.index, "index", "", "the index `directory`")
	fl.IntVar(&o.k, "k", 10, "how many `hits` to show")
	fl.BoolVar(&o.json, "json", false, "print one JSON object per hit")
	fl.StringVar(&o.fields, "fields", "", "stored `fields` to show, comma-separated (default: all)")
	fl.StringVar(&o.queryJSON, "query-json", "", "run the JSON search request in `file` (- for stdin) instead of QUERY and the request flags (see the README)")
	o.req.register(fl.FlagSet)
	pos, err := fl.parse(args)
	if err != nil {
		return err
	}
	if err := requireString("index", o.index, "./myindex"); err != nil {
		return err
	}
	if o.queryJSON != "" {
		if len(pos) > 0 {
			return usagef("--query-json: the query is in the JSON; no QUERY argument (got %q)", strings.Join(pos, " "))
		}
		var clash []string
		fl.Visit(func(f *flag.Flag) {
			if slices.Contains(requestFlagNames, f.Name) {
				clash = append(clash, "--"+f.Name)
			}
		})
		if len(clash) > 0 {
			return usagef("--query-json: %s: set these in the JSON request", strings.Join(clash, ", "))
		}
	} else {
		if len(pos) == 0 {
			return usagef("no query; e.g. hermes search --index %s 'civil war'", orDefault(o.index, "DIR"))
		}
		if o.k < 1 && (o.k < 0 || len(o.req.aggs) == 0 && !o.req.count) {
			return usagef("-k %d: show at least 1 hit (or 0 with --agg or --count)", o.k)
		}
	}
	_, schema, err := readIndexMeta(o.index)
	if err != nil {
		return err
	}
	var fields []string
	if o.fields != "" {
		for _, f := range strings.Split(o.fields, ",") {
			f = strings.TrimSpace(f)
			fld, ok := schema.Field(f)
			switch {
			case !ok:
				return usagef("--fields: the index has no field %q (it has %s)", f, fieldNames(schema))
			case !fld.Stored:
				return usagef("--fields: field %q is not stored, so it cannot be shown", f)
			}
			fields = append(fields, f)
		}
	}
	for _, f := range o.req.highlight.fields {
		fld, ok := schema.Field(f)
		switch {
		case !ok:
			return usagef("--highlight: the index has no field %q (it has %s)", f, fieldNames(schema))
		case !fld.Stored || (fld.Type != segment.TypeText && fld.Type != segment.TypeKeyword):
			return usagef("--highlight: field %q is not a stored text or keyword field", f)
		}
	}
	var jsonReq []byte
	if o.queryJSON != "" {
		if jsonReq, err = readQueryJSON(o.queryJSON, io.in); err != nil {
			return err
		}
	}
	dir, err := storage.NewFS(o.index)
	if err != nil {
		return err
	}
	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		return fmt.Errorf("open the index at %s: %w", o.index, err)
	}
	defer r.Close()
	var (
		req    hermes.SearchRequest
		parsed query.Query
		aggs   []string // aggregation names, in the order to print
	)
	if jsonReq != nil {
		if req, err = r.DecodeSearchRequest(bytes.NewReader(jsonReq)); err != nil {
			return usagef("--query-json %s: %s", o.queryJSON, strings.TrimPrefix(err.Error(), "hermes: search request JSON: "))
		}
		if parsed = req.Parsed; parsed == nil {
			if parsed, err = r.ParseQuery(req.Query); err != nil {
				return usagef("--query-json %s: $.query: %s", o.queryJSON, strings.TrimPrefix(err.Error(), "query: parse: "))
			}
			req.Parsed = parsed
		}
		for name := range req.Aggs {
			aggs = append(aggs, name)
		}
		sort.Strings(aggs)
		o.req.count = req.TotalHitsThreshold > 0
	} else {
		if parsed, err = r.ParseQuery(strings.Join(pos, " ")); err != nil {
			return usagef("%s", strings.TrimPrefix(err.Error(), "query: parse: "))
		}
		if req, err = o.req.request(o.k); err != nil {
			return err
		}
		req.Parsed = parsed
		req.Fields = fields
		if fields == nil {
			req.Fields = []string{"*"}
		}
		aggs = o.req.aggs
	}
	color := isTerminal(io.out)
	if h := req.Highlight; h != nil && !o.json && h.Pre == "" && h.Post == "" {
		h.Pre, h.Post = "**", "**"
		if color {
			h.Pre, h.Post = "\x1b[1m", "\x1b[0m"
		}
	}
	start := time.Now()
	res, err := r.SearchRequest(ctx, req)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "hermes: "))
	}
	took := time.Since(start)
	hits := res.Hits
	p := hitPrinter{schema: schema, fields: fields, color: color, reader: r, parsed: parsed, highlight: req.Highlight != nil}
	docs := make([]*segment.Document, len(hits))
	for i, h := range hits {
		if docs[i] = h.Stored; docs[i] == nil {
			docs[i] = &segment.Document{} // the request asked for no fields
		}
	}
	if o.json {
		if err := p.printJSON(io.out, hits, docs); err != nil {
			return err
		}
		if o.req.count {
			fmt.Fprintf(io.out, "{\"total\":%d,\"relation\":%q}\n", res.Total.Value, res.Total.Relation)
		}
		if len(res.Aggs) > 0 {
			b, err := aggsJSON(res)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.out, "%s\n", b)
		}
		return nil
	}
	p.printText(io.out, hits, docs)
	printAggsText(io.out, res, aggs, req.Aggs, schema)
	fmt.Fprintln(io.out, summaryLine(res, took))
	return nil
}

// readQueryJSON reads the --query-json file, or stdin for "-".
func readQueryJSON(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("--query-json: read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usagef("--query-json: %v", err)
	}
	return b, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func fieldNames(s *segment.Schema) string {
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

// hitPrinter formats hits.
type hitPrinter struct {
	schema *segment.Schema
	fields []string // nil: every stored field
	color  bool     // highlight query words with ANSI bold
	// reader and parsed pick and mark snippets with the library's
	// highlighter (the field's own analysis: stemmed words and phrases
	// marked right).
	reader *hermes.Reader
	parsed query.Query
	// highlight: the hits carry Highlights, shown instead of snippets.
	highlight bool
}

// documents reads the stored fields to show of each hit: only those (all
// stored fields without --fields).
func (p *hitPrinter) documents(ctx context.Context, hits []hermes.Hit) ([]*segment.Document, error) {
	docs := make([]*segment.Document, len(hits))
	for i, h := range hits {
		d, err := h.Document(ctx, p.fields...)
		if err != nil {
			return nil, err
		}
		docs[i] = d
	}
	return docs, nil
}

// keyField is the name of the primary-key field, "" if none.
func (p *hitPrinter) keyField() string {
	if f, ok := p.schema.Primary(); ok {
		return f.Name
	}
	return ""
}

// shown returns the values of d to show, in order, without the key.
func (p *hitPrinter) shown(d *segment.Document) []segment.FieldValue {
	key := p.keyField()
	var out []segment.FieldValue
	if p.fields == nil {
		for _, v := range d.Values {
			if v.Field != key {
				out = append(out, v)
			}
		}
		return out
	}
	for _, f := range p.fields {
		if f != key {
			out = append(out, d.GetAll(f)...)
		}
	}
	return out
}

// printJSON writes one object per hit: id, score, then the stored fields.
func (p *hitPrinter) printJSON(w io.Writer, hits []hermes.Hit, docs []*segment.Document) error {
	for i, h := range hits {
		var buf []byte
		buf = append(buf, '{')
		if h.Key.Field != "" {
			b, err := json.Marshal(valueOf(h.Key))
			if err != nil {
				return err
			}
			buf = append(buf, `"id":`...)
			buf = append(buf, b...)
			buf = append(buf, ',')
		}
		buf = append(buf, `"score":`...)
		buf = strconv.AppendFloat(buf, float64(h.Score), 'g', -1, 32)
		if h.Cursor != "" {
			buf = append(buf, `,"cursor":`...)
			buf = strconv.AppendQuote(buf, h.Cursor)
		}
		if p.highlight {
			var hb bytes.Buffer
			enc := json.NewEncoder(&hb)
			enc.SetEscapeHTML(false) // marks such as <em> as written
			if err := enc.Encode(highlightsJSON(h.Highlights)); err != nil {
				return err
			}
			buf = append(buf, `,"highlight":`...)
			buf = append(buf, bytes.TrimSuffix(hb.Bytes(), []byte("\n"))...)
		}
		rest := &segment.Document{Values: p.shown(docs[i])}
		for i := range rest.Values {
			switch rest.Values[i].Field {
			case "score", "id", "cursor", "highlight":
				rest.Values[i].Field = "stored." + rest.Values[i].Field
			}
		}
		if len(rest.Values) > 0 {
			b, err := p.schema.MarshalDocument(rest) // dates and bools as written
			if err != nil {
				return err
			}
			buf = append(buf, ',')
			buf = append(buf, b[1:]...) // drop its '{'
		} else {
			buf = append(buf, '}')
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// valueOf returns a value as a Go value for encoding/json.
func valueOf(v segment.FieldValue) any {
	switch v.Kind {
	case segment.KindString:
		return v.Str
	case segment.KindU64:
		return v.U64
	case segment.KindI64:
		return v.I64
	case segment.KindF64:
		return v.F64
	}
	return v.Bytes // base64, as encoding/json writes []byte
}

// printText writes each hit as a numbered block: the key and score, then
// one line per shown field, long text cut to a snippet around its best
// match.
func (p *hitPrinter) printText(w io.Writer, hits []hermes.Hit, docs []*segment.Document) {
	for i, h := range hits {
		id := ""
		if h.Key.Field != "" {
			id = fmt.Sprint(valueOf(h.Key))
		}
		fmt.Fprintf(w, "%2d. %s  (score %.2f)\n", i+1, id, h.Score)
		shownHL := map[string]bool{}
		for _, v := range p.shown(docs[i]) {
			if frags := h.Highlights[v.Field]; len(frags) > 0 {
				if !shownHL[v.Field] {
					fmt.Fprintf(w, "    %s: %s\n", v.Field, fragmentsText(frags))
					shownHL[v.Field] = true
				}
				continue
			}
			text := fmt.Sprint(valueOf(v))
			if f, _ := p.schema.Field(v.Field); f.Type == segment.TypeDate {
				text = segment.FormatDate(v.I64)
			} else if f.Type == segment.TypeBool {
				text = strconv.FormatBool(v.U64 == 1)
			}
			if v.Kind == segment.KindString {
				text = p.snippet(v.Field, text)
			}
			fmt.Fprintf(w, "    %s: %s\n", v.Field, text)
		}
		// Highlighted fields not among --fields.
		for _, f := range p.schema.Fields() {
			if frags := h.Highlights[f.Name]; len(frags) > 0 && !shownHL[f.Name] {
				fmt.Fprintf(w, "    %s: %s\n", f.Name, fragmentsText(frags))
			}
		}
	}
}

// fragmentsText joins a field's marked fragments on one line.
func fragmentsText(frags []hermes.HitFragment) string {
	parts := make([]string, len(frags))
	for i, f := range frags {
		parts[i] = strings.Join(strings.Fields(f.Marked), " ")
	}
	return strings.Join(parts, " … ")
}

// fragmentJSON is a fragment in --json output.
type fragmentJSON struct {
	Value   int      `json:"value"`
	Start   int      `json:"start"`
	End     int      `json:"end"`
	Text    string   `json:"text"`
	Matches [][2]int `json:"matches"`
	Marked  string   `json:"marked,omitempty"`
}

func highlightsJSON(hl map[string][]hermes.HitFragment) map[string][]fragmentJSON {
	out := map[string][]fragmentJSON{}
	for field, frags := range hl {
		for _, f := range frags {
			fj := fragmentJSON{Value: f.Value, Start: f.Start, End: f.End, Text: f.Text, Marked: f.Marked, Matches: [][2]int{}}
			for _, m := range f.Matches {
				fj.Matches = append(fj.Matches, [2]int{m.Start, m.End})
			}
			out[field] = append(out[field], fj)
		}
	}
	return out
}

// snippet cuts text, a stored value of field, to about 220 bytes around its
// best match, query words in bold on a terminal.
func (p *hitPrinter) snippet(field, text string) string {
	frags, err := p.reader.Highlight(p.parsed, field, text, query.HighlightOptions{FragmentSize: 220, MaxFragments: 1})
	if err != nil || len(frags) == 0 {
		return snippet(text, 220) // no match here: the text's start
	}
	f := frags[0]
	var b strings.Builder
	if strings.TrimSpace(text[:f.Start]) != "" {
		b.WriteString("…")
	}
	last := 0
	for _, m := range f.Matches {
		b.WriteString(f.Text[last:m.Start])
		if p.color {
			b.WriteString("\x1b[1m" + f.Text[m.Start:m.End] + "\x1b[0m")
		} else {
			b.WriteString(f.Text[m.Start:m.End])
		}
		last = m.End
	}
	b.WriteString(f.Text[last:])
	if strings.TrimSpace(text[f.End:]) != "" {
		b.WriteString("…")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// snippet collapses white space and, if s is longer than max bytes, cuts
// it to its first max bytes or so, at a word boundary.
func snippet(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= max {
		return s
	}
	end := max
	if sp := strings.LastIndexByte(s[:end], ' '); sp > max/2 {
		end = sp
	}
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++
	}
	if end == len(s) {
		return s
	}
	return s[:end] + "…"
}
