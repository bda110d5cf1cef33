package hermes

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/query"
)

// Highlight returns the best fragments of text, a stored value of field
// (read with Hit.Document), for q, with the byte ranges of the words q
// matches in each: see query.Highlight. The text is analysed with the
// field's tokenizer, as it was indexed, so a stemmed field marks
// "running" for the query word "runs", and a phrase marks only its words
// standing together. A field without a tokenizer (keyword) is matched as
// one whole value. It reads nothing from the index and needs no open
// snapshot: call it on the hits of any search.
func (r *Reader) Highlight(q query.Query, field, text string, opts query.HighlightOptions) ([]query.Fragment, error) {
	tok, ok := r.tokenizers[field]
	if !ok {
		tok = analysis.RawTokenizer{}
	}
	return query.Highlight(q, field, text, tok, opts)
}

// HighlightRequest asks SearchRequest for the best fragments of each hit's
// stored string fields, with the ranges the query matched: the same
// fragments as Reader.Highlight, on every value of each field.
type HighlightRequest struct {
	// Fields are the stored text or keyword fields to highlight; empty
	// means every stored text field of the schema.
	Fields []string
	// FragmentSize and MaxFragments are query.HighlightOptions' (0: their
	// defaults). MaxFragments bounds the fragments of a field over all its
	// values.
	FragmentSize int
	MaxFragments int
	// Pre and Post, if either is set, are written around each match in
	// HitFragment.Marked ("<em>" and "</em>", say). They are not escaped,
	// nor is the text.
	Pre, Post string
}

// HitFragment is a fragment of one value of a hit's stored field. Its
// Start and End are byte offsets in that value, its Matches byte ranges of
// its Text.
type HitFragment struct {
	query.Fragment
	// Value is the position of the value among the field's values (0 for a
	// field with one value).
	Value int
	// Marked is Text with HighlightRequest.Pre and Post around each match;
	// empty when neither is set.
	Marked string
}

// Mark returns the fragment's text with pre and post around each match.
func (f *HitFragment) Mark(pre, post string) string {
	var b strings.Builder
	b.Grow(len(f.Text) + len(f.Matches)*(len(pre)+len(post)))
	last := 0
	for _, m := range f.Matches {
		b.WriteString(f.Text[last:m.Start])
		b.WriteString(pre)
		b.WriteString(f.Text[m.Start:m.End])
		b.WriteString(post)
		last = m.End
	}
	b.WriteString(f.Text[last:])
	return b.String()
}

// hitLoader fills a request's hits with their stored fields and
// highlights.
type hitLoader struct {
	fields    []string // stored fields to load; nil: all of them
	keep      bool     // set Hit.Stored
	highlight *HighlightRequest
	hlFields  []string
}

// newHitLoader checks req's Fields and Highlight against the schema; it
// returns nil when the hits need nothing loaded.
func (r *Reader) newHitLoader(req *SearchRequest) (*hitLoader, error) {
	if len(req.Fields) == 0 && req.Highlight == nil {
		return nil, nil
	}
	l := &hitLoader{keep: len(req.Fields) > 0, highlight: req.Highlight}
	all := false
	for _, f := range req.Fields {
		if f == "*" {
			all = true
			continue
		}
		if fld, ok := r.schema.Field(f); !ok || !fld.Stored {
			return nil, fmt.Errorf("hermes: search request: Fields: %q is not a stored field of the schema", f)
		}
		l.fields = append(l.fields, f)
	}
	if h := req.Highlight; h != nil {
		if h.FragmentSize < 0 || h.MaxFragments < 0 {
			return nil, fmt.Errorf("hermes: search request: Highlight: FragmentSize and MaxFragments must not be negative")
		}
		l.hlFields = h.Fields
		if len(h.Fields) == 0 {
			for _, f := range r.schema.Fields() {
				if f.Stored && f.Type == segment.TypeText {
					l.hlFields = append(l.hlFields, f.Name)
				}
			}
		}
		for _, f := range h.Fields {
			fld, ok := r.schema.Field(f)
			switch {
			case !ok || !fld.Stored:
				return nil, fmt.Errorf("hermes: search request: Highlight: %q is not a stored field of the schema", f)
			case fld.Type != segment.TypeText && fld.Type != segment.TypeKeyword:
				return nil, fmt.Errorf("hermes: search request: Highlight: field %q is %s; only text and keyword fields can be highlighted", f, fld.Type)
			}
		}
	}
	if all {
		l.fields = nil
	} else if l.highlight != nil {
		// Read the highlighted fields with the asked ones, once.
		for _, f := range l.hlFields {
			if !contains(l.fields, f) {
				l.fields = append(l.fields, f)
			}
		}
		if len(l.fields) == 0 { // a schema without stored text fields
			return nil, nil
		}
	}
	return l, nil
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// load reads each hit's stored fields and highlights them for q.
func (l *hitLoader) load(ctx context.Context, r *Reader, q query.Query, hits []Hit, asked []string) error {
	for i := range hits {
		h := &hits[i]
		doc, err := h.Document(ctx, l.fields...)
		if err != nil {
			return err
		}
		if l.highlight != nil {
			if err := l.highlightHit(r, q, h, doc); err != nil {
				return err
			}
		}
		if l.keep {
			if len(l.fields) > len(asked) && !contains(asked, "*") {
				// Drop the fields read only to highlight them.
				kept := doc.Values[:0]
				for _, v := range doc.Values {
					if contains(asked, v.Field) {
						kept = append(kept, v)
					}
				}
				doc.Values = kept
			}
			h.Stored = doc
		}
	}
	return nil
}

func (l *hitLoader) highlightHit(r *Reader, q query.Query, h *Hit, doc *Document) error {
	opts := query.HighlightOptions{FragmentSize: l.highlight.FragmentSize, MaxFragments: l.highlight.MaxFragments}
	maxFrags := opts.MaxFragments
	if maxFrags == 0 {
		maxFrags = query.DefaultMaxFragments
	}
	for _, field := range l.hlFields {
		var frags []HitFragment
		for vi, v := range doc.GetAll(field) {
			if v.Kind != segment.KindString {
				continue
			}
			fs, err := r.Highlight(q, field, v.Str, opts)
			if err != nil {
				return fmt.Errorf("hermes: highlight %s: %w", field, err)
			}
			for _, f := range fs {
				frags = append(frags, HitFragment{Fragment: f, Value: vi})
			}
		}
		if len(frags) == 0 {
			continue
		}
		// Best first over all values; ties in value order, as each value's
		// fragments already are.
		sort.SliceStable(frags, func(a, b int) bool { return frags[a].Score > frags[b].Score })
		frags = frags[:min(len(frags), maxFrags)]
		if l.highlight.Pre != "" || l.highlight.Post != "" {
			for i := range frags {
				frags[i].Marked = frags[i].Mark(l.highlight.Pre, l.highlight.Post)
			}
		}
		if h.Highlights == nil {
			h.Highlights = map[string][]HitFragment{}
		}
		h.Highlights[field] = frags
	}
	return nil
}
