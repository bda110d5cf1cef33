package query

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// maxParseDepth bounds nested parentheses; deeper ones are read as plain
// characters, so hostile input cannot exhaust the stack.
const maxParseDepth = 64

// Parse parses a query string in Lucene's classic syntax:
//
//	title:foo AND "exact phrase" -bar +baz
//	(a OR b) NOT c
//	field:"phrase"   prefix*   field:(a b)   *:*
//	year:[1990 TO 2000]   year:{1990 TO 2000]   year:>=1990   year:[* TO 2000]
//
// The default operator is OR; only upper-case AND, OR, NOT (and &&, ||) are
// operators, so "and" and "or" are words. Words without a field are searched
// in every default field (a Boolean of Should clauses). Words are analysed
// with their field's tokenizer: a stop word is dropped, and a word that
// analyses into several tokens becomes a phrase on a field with positions,
// else an OR of the tokens. Keyword fields take the text as is; a number on
// a fast numeric field becomes an exact Range, on an indexed-only one an
// exact Term. Backslash escapes the next character.
//
// Text a user pastes never makes Parse fail: stray punctuation ("C++",
// "what?", "foo:", an unbalanced quote or parenthesis, a trailing AND) is
// read as words or dropped. Errors are reserved for a request that cannot be
// answered, and name the field: an unknown field given explicitly, a range
// or comparison on a field that is not fast, a phrase on a text field
// without positions, a value that is not a number on a numeric field.
//
// tokenizers maps field names to their tokenizers (see
// segment.ResolveTokenizers); a text field missing from it uses the default
// tokenizer if that is the field's tokenizer. A query that keeps no clause
// (empty input, only stop words) is the empty Boolean, which matches nothing.
func Parse(input string, s *segment.Schema, defaultFields []string, tokenizers map[string]analysis.Tokenizer) (Query, error) {
	if s == nil {
		return nil, fmt.Errorf("query: parse: nil schema")
	}
	for _, f := range defaultFields {
		fld, ok := s.Field(f)
		if !ok {
			return nil, fmt.Errorf("query: parse: unknown default field %q", f)
		}
		if !fld.Indexed && !fld.Fast {
			return nil, fmt.Errorf("query: parse: default field %q is neither indexed nor fast, so it cannot be searched", f)
		}
	}
	p := &parser{in: input, schema: s, defaults: defaultFields, toks: tokenizers}
	clauses, err := p.clauses(nil, false)
	if err != nil {
		return nil, err
	}
	q := build(clauses)
	if q == nil {
		return Boolean{}, nil
	}
	return q, nil
}

type occur uint8

const (
	should occur = iota
	must
	mustNot
)

type clause struct {
	occ occur
	q   Query
}

type conj uint8

const (
	conjNone conj = iota
	conjAnd
	conjOr
)

type parser struct {
	in       string
	pos      int
	depth    int
	schema   *segment.Schema
	defaults []string
	toks     map[string]analysis.Tokenizer
}

func (p *parser) eof() bool { return p.pos >= len(p.in) }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *parser) skipSpace() {
	for !p.eof() && isSpace(p.in[p.pos]) {
		p.pos++
	}
}

// endsWord reports whether position i ends a bare word or operator.
func (p *parser) endsWord(i int) bool {
	if i >= len(p.in) {
		return true
	}
	c := p.in[i]
	return isSpace(c) || c == '(' || c == ')' || c == '"'
}

// operator returns the operator word at the current position, if any.
func (p *parser) operator() string {
	for _, op := range [...]string{"AND", "OR", "NOT", "&&", "||"} {
		if strings.HasPrefix(p.in[p.pos:], op) && p.endsWord(p.pos+len(op)) {
			return op
		}
	}
	return ""
}

// clauses parses a clause list until the end of input, or a ')' when
// inGroup. fields is the field scope (nil: the default fields).
func (p *parser) clauses(fields []string, inGroup bool) ([]clause, error) {
	var out []clause
	cj, mod, hasMod := conjNone, should, false
	for {
		p.skipSpace()
		if p.eof() {
			return out, nil
		}
		switch c := p.in[p.pos]; {
		case c == ')':
			p.pos++
			if inGroup {
				return out, nil
			}
			continue // a stray ')' is dropped
		case c == '+' || c == '-':
			p.pos++
			if !p.eof() && !isSpace(p.in[p.pos]) {
				mod, hasMod = must, true
				if c == '-' {
					mod = mustNot
				}
			}
			continue
		}
		if op := p.operator(); op != "" {
			p.pos += len(op)
			switch op {
			case "AND", "&&":
				cj = conjAnd
			case "OR", "||":
				cj = conjOr
			case "NOT":
				mod, hasMod = mustNot, true
			}
			continue
		}
		q, err := p.clause(fields)
		if err != nil {
			return nil, err
		}
		// Lucene's rules (QueryParserBase.addClause, default operator OR):
		// AND makes the previous clause required unless it is prohibited,
		// and makes this one required unless it is prohibited.
		if cj == conjAnd && len(out) > 0 && out[len(out)-1].occ != mustNot {
			out[len(out)-1].occ = must
		}
		occ := should
		if hasMod {
			occ = mod
		}
		if cj == conjAnd && occ != mustNot {
			occ = must
		}
		if q != nil {
			out = append(out, clause{occ: occ, q: q})
		}
		cj, mod, hasMod = conjNone, should, false
	}
}

// build turns clauses into a query: nil if nothing is left, the single
// query when one Should or Must clause is alone, else a Boolean. A
// Should-only Boolean nested as a Should clause is flattened into its parent
// (the same matches and, up to rounding, the same score), and one nested as
// a MustNot clause is split into MustNot clauses; this keeps plain multi-word
// multi-field queries flat disjunctions of terms, which Search prunes.
func build(cs []clause) Query {
	var b Boolean
	for _, c := range cs {
		inner, orOnly := c.q.(Boolean)
		orOnly = orOnly && len(inner.Must) == 0 && len(inner.MustNot) == 0
		switch {
		case c.occ == should && orOnly:
			b.Should = append(b.Should, inner.Should...)
		case c.occ == mustNot && orOnly:
			b.MustNot = append(b.MustNot, inner.Should...)
		case c.occ == should:
			b.Should = append(b.Should, c.q)
		case c.occ == must:
			b.Must = append(b.Must, c.q)
		default:
			b.MustNot = append(b.MustNot, c.q)
		}
	}
	switch {
	case len(b.Must)+len(b.Should)+len(b.MustNot) == 0:
		return nil
	case len(b.Should) == 1 && len(b.Must) == 0 && len(b.MustNot) == 0:
		return b.Should[0]
	case len(b.Must) == 1 && len(b.Should) == 0 && len(b.MustNot) == 0:
		return b.Must[0]
	}
	return b
}

// clause parses one clause: a group, a phrase, a fielded value or a word.
// It returns nil for a clause that analyses to nothing.
func (p *parser) clause(fields []string) (Query, error) {
	if name, ok := p.fieldPrefix(); ok {
		if name == "*" {
			if strings.HasPrefix(p.in[p.pos:], "*") && p.endsWord(p.pos+1) {
				p.pos++
				return All{}, nil
			}
			return p.value(nil, false)
		}
		if _, known := p.schema.Field(name); !known {
			return nil, fmt.Errorf("query: parse: unknown field %q (at byte %d of the query)", name, p.pos-len(name)-1)
		}
		return p.value([]string{name}, true)
	}
	return p.value(fields, fields != nil)
}

// fieldPrefix consumes "name:" when it introduces a fielded value. A colon
// followed by nothing ("foo:") or by "//" (a pasted URL) is not a field.
func (p *parser) fieldPrefix() (string, bool) {
	i := p.pos
	if strings.HasPrefix(p.in[i:], "*:") {
		i++
	} else {
		for i < len(p.in) && isFieldChar(p.in[i]) {
			i++
		}
	}
	if i == p.pos || i >= len(p.in) || p.in[i] != ':' {
		return "", false
	}
	name := p.in[p.pos:i]
	if name != "*" && !(name[0] == '_' || isLetter(name[0])) {
		return "", false
	}
	after := i + 1
	if after >= len(p.in) || isSpace(p.in[after]) || p.in[after] == ')' || strings.HasPrefix(p.in[after:], "//") {
		return "", false
	}
	p.pos = after
	return name, true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isFieldChar(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// value parses what follows an optional field prefix. explicit says the
// fields were named by the user, whose mistakes on them are errors.
func (p *parser) value(fields []string, explicit bool) (Query, error) {
	if p.eof() {
		return nil, nil
	}
	switch c := p.in[p.pos]; {
	case c == '(':
		if p.depth >= maxParseDepth {
			p.pos++
			return nil, nil
		}
		p.pos++
		p.depth++
		cs, err := p.clauses(fields, true)
		p.depth--
		if err != nil {
			return nil, err
		}
		return build(cs), nil
	case c == '"':
		end := closingQuote(p.in, p.pos+1)
		if end < 0 {
			p.pos++ // an unbalanced quote is dropped; what follows reads as words
			return nil, nil
		}
		text := unescape(p.in[p.pos+1 : end])
		p.pos = end + 1
		return p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
			return p.phrase(f, text, explicit)
		})
	case explicit && len(fields) == 1 && (c == '[' || c == '{'):
		return p.rangeQuery(fields[0])
	case explicit && len(fields) == 1 && (c == '>' || c == '<'):
		return p.comparison(fields[0])
	}
	word, prefix := p.word()
	if word == "" && !prefix {
		return nil, nil
	}
	if word == "" && prefix { // "*" alone: everything
		return All{}, nil
	}
	return p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
		return p.term(f, word, prefix, explicit)
	})
}

// each builds a query per field (the default fields when fields is nil)
// and ORs them.
func (p *parser) each(fields []string, explicit bool, fn func(f string, explicit bool) (Query, error)) (Query, error) {
	if fields == nil {
		fields = p.defaults
	}
	var qs []Query
	for _, f := range fields {
		q, err := fn(f, explicit)
		if err != nil {
			return nil, err
		}
		if q != nil {
			qs = append(qs, q)
		}
	}
	switch len(qs) {
	case 0:
		return nil, nil
	case 1:
		return qs[0], nil
	}
	return Boolean{Should: qs}, nil
}

// closingQuote returns the index of the unescaped '"' at or after i, or -1.
func closingQuote(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				break
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// word reads a bare word up to white space, a parenthesis or a quote,
// resolving escapes. prefix reports an unescaped trailing '*', which is
// removed from the word.
func (p *parser) word() (string, bool) {
	var sb strings.Builder
	prefix := false
	for !p.endsWord(p.pos) {
		c := p.in[p.pos]
		p.pos++
		prefix = false
		if c == '\\' {
			if p.eof() {
				break
			}
			c = p.in[p.pos]
			p.pos++
		} else if c == '*' && p.endsWord(p.pos) {
			prefix = true
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String(), prefix
}

// tokens analyses text with the field's tokenizer.
func (p *parser) tokens(f segment.Field, text string) ([]string, []int, error) {
	tok, ok := p.toks[f.Name]
	if !ok || tok == nil {
		if f.TokenizerName() != segment.DefaultTokenizer {
			return nil, nil, fmt.Errorf("query: parse: no tokenizer %q given for text field %q", f.TokenizerName(), f.Name)
		}
		tok = analysis.SimpleTokenizer{}
	}
	var terms []string
	var pos []int
	tok.Tokenize(text, func(t analysis.Token) {
		terms = append(terms, string(t.Term))
		pos = append(pos, t.Position)
	})
	return terms, pos, nil
}

// textQuery turns the tokens of one word or phrase into a query: nothing,
// a term, or several tokens as a phrase (with positions) or an OR.
func textQuery(f segment.Field, terms []string, pos []int, phrase bool, text string) (Query, error) {
	switch len(terms) {
	case 0:
		return nil, nil
	case 1:
		return Term{Field: f.Name, Term: terms[0]}, nil
	}
	if !f.Positions {
		if phrase {
			return nil, fmt.Errorf("query: parse: phrase %q on field %q, which has no positions indexed", text, f.Name)
		}
		b := Boolean{}
		for _, t := range terms {
			b.Should = append(b.Should, Term{Field: f.Name, Term: t})
		}
		return b, nil
	}
	q := Phrase{Field: f.Name, Terms: terms}
	for i := range pos {
		if pos[i]-pos[0] != i {
			q.Positions = make([]int, len(pos))
			for j := range pos {
				q.Positions[j] = pos[j] - pos[0]
			}
			break
		}
	}
	return q, nil
}

// phrase builds the query for a quoted text on one field.
func (p *parser) phrase(name, text string, explicit bool) (Query, error) {
	f, _ := p.schema.Field(name)
	switch f.Type {
	case segment.TypeText:
		if !f.Indexed {
			return p.notSearchable(f, explicit)
		}
		terms, pos, err := p.tokens(f, text)
		if err != nil {
			return nil, err
		}
		return textQuery(f, terms, pos, true, text)
	case segment.TypeKeyword:
		if !f.Indexed {
			return p.notSearchable(f, explicit)
		}
		return Term{Field: name, Term: text}, nil
	}
	return p.term(name, text, false, explicit)
}

func (p *parser) notSearchable(f segment.Field, explicit bool) (Query, error) {
	if !explicit {
		return nil, nil
	}
	return nil, fmt.Errorf("query: parse: field %q is not indexed, so it cannot be searched", f.Name)
}

// term builds the query for a bare word (prefix: it ended in '*') on one
// field.
func (p *parser) term(name, text string, prefix, explicit bool) (Query, error) {
	f, _ := p.schema.Field(name)
	switch f.Type {
	case segment.TypeText:
		if !f.Indexed {
			return p.notSearchable(f, explicit)
		}
		terms, pos, err := p.tokens(f, text)
		if err != nil {
			return nil, err
		}
		if prefix && len(terms) > 0 {
			last := Prefix{Field: name, Prefix: terms[len(terms)-1]}
			if len(terms) == 1 {
				return last, nil
			}
			b := Boolean{}
			for _, t := range terms[:len(terms)-1] {
				b.Must = append(b.Must, Term{Field: name, Term: t})
			}
			b.Must = append(b.Must, last)
			return b, nil
		}
		return textQuery(f, terms, pos, false, text)
	case segment.TypeKeyword:
		if !f.Indexed {
			return p.notSearchable(f, explicit)
		}
		if prefix {
			return Prefix{Field: name, Prefix: text}, nil
		}
		return Term{Field: name, Term: text}, nil
	case segment.TypeU64, segment.TypeI64, segment.TypeF64:
		if prefix {
			if !explicit {
				return nil, nil
			}
			return nil, fmt.Errorf("query: parse: prefix %q on numeric field %q; use a range", text+"*", name)
		}
		v, err := parseNumber(text)
		if err != nil {
			if !explicit {
				return nil, nil // a word is not a number: no match on this default field
			}
			return nil, fmt.Errorf("query: parse: field %q is %v, and %q is not a number", name, f.Type, text)
		}
		return exactNumber(f, v, explicit)
	}
	if !explicit {
		return nil, nil
	}
	return nil, fmt.Errorf("query: parse: field %q holds %v and cannot be searched", name, f.Type)
}

// exactNumber matches one number: a Range on a fast field, else a Term with
// the field's order-preserving encoding.
func exactNumber(f segment.Field, v any, explicit bool) (Query, error) {
	if f.Fast {
		v = smallInt(v)
		return Range{Field: f.Name, Min: v, Max: v, MinInclusive: true, MaxInclusive: true}, nil
	}
	if !f.Indexed {
		if !explicit {
			return nil, nil
		}
		return nil, fmt.Errorf("query: parse: field %q is neither indexed nor fast, so it cannot be searched", f.Name)
	}
	var term []byte
	switch f.Type {
	case segment.TypeU64:
		switch x := v.(type) {
		case uint64:
			term = segment.U64Term(x)
		case int64:
			if x >= 0 {
				term = segment.U64Term(uint64(x))
			}
		case float64:
			if x >= 0 && x < 1<<64 && x == math.Trunc(x) {
				term = segment.U64Term(uint64(x))
			}
		}
	case segment.TypeI64:
		switch x := v.(type) {
		case int64:
			term = segment.I64Term(x)
		case float64:
			if x >= math.MinInt64 && x < math.MaxInt64 && x == math.Trunc(x) {
				term = segment.I64Term(int64(x))
			}
		}
	case segment.TypeF64:
		switch x := v.(type) {
		case int64:
			term = segment.F64Term(float64(x))
		case uint64:
			term = segment.F64Term(float64(x))
		case float64:
			term = segment.F64Term(x)
		}
	}
	if term == nil {
		return Boolean{}, nil // a value the field cannot hold matches nothing
	}
	return Term{Field: f.Name, Term: string(term)}, nil
}

// parseNumber reads an int64, a uint64 or a float64, in that preference.
func parseNumber(s string) (any, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return nil, fmt.Errorf("not a number: %q", s)
	}
	return f, nil
}

// rangeField checks that a range can run on the field.
func (p *parser) rangeField(name string) (segment.Field, error) {
	f, _ := p.schema.Field(name)
	if !f.Fast {
		return f, fmt.Errorf("query: parse: range on field %q, which is not a fast field (ranges need a fast u64, i64 or f64 field)", name)
	}
	return f, nil
}

// bound parses one end of a range; "*" or "" is unbounded.
func rangeBound(f segment.Field, s string) (any, error) {
	if s == "*" || s == "" {
		return nil, nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return nil, fmt.Errorf("query: parse: range on field %q: bound %q is not a number", f.Name, s)
	}
	return smallInt(v), nil
}

// smallInt turns an int64 that fits an int into an int, the natural Go type
// of a literal in a Range a user writes by hand.
func smallInt(v any) any {
	if i, ok := v.(int64); ok && int64(int(i)) == i {
		return int(i)
	}
	return v
}

// rangeQuery parses [a TO b], {a TO b}, or a mix, leniently: a missing
// closing bracket is taken as inclusive, a missing TO or end as unbounded.
func (p *parser) rangeQuery(name string) (Query, error) {
	f, err := p.rangeField(name)
	if err != nil {
		return nil, err
	}
	minInc := p.in[p.pos] == '['
	p.pos++
	end := strings.IndexAny(p.in[p.pos:], "]}")
	body, maxInc := "", true
	if end < 0 {
		body = p.in[p.pos:]
		p.pos = len(p.in)
	} else {
		body = p.in[p.pos : p.pos+end]
		maxInc = p.in[p.pos+end] == ']'
		p.pos += end + 1
	}
	var parts []string
	for _, w := range strings.Fields(body) {
		if !strings.EqualFold(w, "TO") {
			parts = append(parts, w)
		}
	}
	if len(parts) > 2 {
		return nil, fmt.Errorf("query: parse: range on field %q: %q has %d bounds; want [min TO max]", name, body, len(parts))
	}
	parts = append(parts, "*", "*")
	lo, err := rangeBound(f, parts[0])
	if err != nil {
		return nil, err
	}
	hi, err := rangeBound(f, parts[1])
	if err != nil {
		return nil, err
	}
	return Range{Field: name, Min: lo, Max: hi, MinInclusive: minInc, MaxInclusive: maxInc}, nil
}

// comparison parses >x, >=x, <x, <=x.
func (p *parser) comparison(name string) (Query, error) {
	f, err := p.rangeField(name)
	if err != nil {
		return nil, err
	}
	op := p.in[p.pos : p.pos+1]
	p.pos++
	if !p.eof() && p.in[p.pos] == '=' {
		op += "="
		p.pos++
	}
	w, _ := p.word()
	if w == "" {
		return nil, nil // "year:>" with no value: nothing to compare
	}
	v, err := rangeBound(f, w)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return Range{Field: name}, nil
	}
	switch op {
	case ">":
		return Range{Field: name, Min: v}, nil
	case ">=":
		return Range{Field: name, Min: v, MinInclusive: true}, nil
	case "<":
		return Range{Field: name, Max: v}, nil
	}
	return Range{Field: name, Max: v, MaxInclusive: true}, nil
}
