package query

import (
	"fmt"
	"math"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// maxParseDepth bounds nested parentheses; deeper ones are read as plain
// characters, so hostile input cannot exhaust the stack.
const maxParseDepth = 64

// ParseError is the error Parse returns for a query it refuses.
type ParseError struct {
	// Pos is the byte offset in the input where the refused construct
	// starts.
	Pos int
	// Construct names it: "field", "phrase", "range", "fuzzy term",
	// "wildcard", "regular expression", "boost", "phrase slop", "term".
	Construct string
	// Msg says what is wrong.
	Msg string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("query: parse: %s at byte %d: %s", e.Construct, e.Pos, e.Msg)
}

func parseErr(pos int, construct, format string, args ...any) error {
	return &ParseError{Pos: pos, Construct: construct, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses a query string in Lucene's classic syntax:
//
//	title:foo AND "exact phrase" -bar +baz !qux
//	(a OR b) NOT c        field:(a b)        *:*        _exists_:field
//	prefix*   wi*d?ard    /reg(ular)?ex/     fuzzy~     fuzzy~1
//	"sloppy phrase"~2     term^2   "phrase"^0.5   (a b)^3
//	year:[1990 TO 2000]   year:{1990 TO 2000]   year:>=1990   year:[* TO 2000]
//	created:[2024-01-01 TO 2025-01-01}   created:>=now-7d   draft:true
//
// The default operator is OR; only upper-case AND, OR, NOT (and &&, ||, !)
// are operators, so "and" and "or" are words. Words without a field are
// searched in every default field (a Boolean of Should clauses). Words are
// analysed with their field's tokenizer: a stop word is dropped, and a word
// that analyses into several tokens becomes a phrase on a field with
// positions, else an OR of the tokens. Keyword fields take the text as is;
// a number on a numeric field becomes an exact Range. A date field takes
// RFC 3339 timestamps (quoted when they hold ':'), bare days (a term
// matches the whole UTC day), epoch milliseconds and now-7d style date
// math (see parseDateValue), turned into epoch milliseconds; a bool field
// takes true and false. A range without a field ([1990 TO 2000], TO in
// upper case) runs on the numeric and date fields in scope. Backslash
// escapes the next character.
//
// Multi-term words: '*' and '?' make a Wildcard ('*' alone at the end, a
// Prefix; '*' alone, every document, or on a named field, Exists), and
// /.../ a Regexp; neither is analysed beyond lowercasing a wildcard on a
// text field whose tokenizer lowercases. term~N is a Fuzzy query within N
// (0, 1 or 2; 2 when omitted) edits of the analysed term. "a b"~N is a
// sloppy Phrase. ^N (a non-negative decimal number) boosts a word, phrase,
// group or range. In a phrase, a lone ? holds the place of one word.
//
// Text a user pastes never makes Parse fail: stray punctuation ("C++",
// "what?", "foo:", "~5", an unbalanced quote or parenthesis, a trailing AND)
// is read as words or dropped; '?' ending a word that has no other
// wildcard is a question mark, not a wildcard. Errors are reserved for a
// request that cannot be answered, and are a *ParseError naming the byte
// position and the construct: an unknown field given explicitly, a range or
// comparison on a field that is not numeric and fast or indexed, a phrase on
// a text field without positions, a value that is not a number on a
// numeric field, a range without both bounds, TO or its closing bracket,
// _exists_ on anything but a field name, a range without a field where no
// field in scope is numeric, a fuzzy edit distance above 2, a
// malformed or repeated boost, slop or fuzzy suffix, slop on a group or
// range, an invalid regular expression or one using what the term
// automaton cannot run (anchors, word boundaries, lazy quantifiers), a
// wildcard, fuzzy or regular expression on a numeric field.
//
// tokenizers maps field names to their tokenizers (see
// segment.ResolveTokenizers); a text field missing from it uses the default
// tokenizer if that is the field's tokenizer. A query that keeps no clause
// (empty input, only stop words) is the empty Boolean, which matches nothing.
// Every query Parse returns prints (String) as text that Parse reads back
// as the same query.
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
	valStart int // where the value being read starts, for errors
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
		case c == '+' || c == '-' || c == '!':
			p.pos++
			if !p.eof() && !isSpace(p.in[p.pos]) {
				mod, hasMod = must, true
				if c != '+' {
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
		if name == "_exists_" {
			return p.exists()
		}
		if _, known := p.schema.Field(name); !known {
			return nil, parseErr(p.pos-len(name)-1, "field", "unknown field %q", name)
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
	start := p.pos
	p.valStart = start
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
		_, boost, err := p.suffixes(false)
		if err != nil {
			return nil, err
		}
		return boosted(build(cs), boost), nil
	case c == '"':
		end := closingQuote(p.in, p.pos+1)
		if end < 0 {
			p.pos++ // an unbalanced quote is dropped; what follows reads as words
			return nil, nil
		}
		raw := p.in[p.pos+1 : end]
		p.pos = end + 1
		slop, boost, err := p.suffixes(true)
		if err != nil {
			return nil, err
		}
		q, err := p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
			return p.phrase(f, raw, slop, explicit)
		})
		return boosted(q, boost), err
	case c == '/':
		if q, ok, err := p.regexp(fields, explicit); ok || err != nil {
			return q, err
		}
	case explicit && len(fields) == 1 && (c == '[' || c == '{'):
		q, err := p.rangeQuery(fields[0])
		if err != nil {
			return nil, err
		}
		_, boost, err := p.suffixes(false)
		return boosted(q, boost), err
	case explicit && len(fields) == 1 && (c == '>' || c == '<'):
		return p.comparison(fields[0])
	case (c == '[' || c == '{') && isRange(p.in[p.pos:]):
		return p.unfieldedRange(fields)
	}
	return p.bareWord(fields, explicit, p.scanWord())
}

// isRange reports whether s starts with a range written in full, as
// [2000 TO 2016} (TO in upper case): brackets around anything else, as a
// footnote's [1], are punctuation.
func isRange(s string) bool {
	end := strings.IndexAny(s, "]}")
	if end < 0 {
		return false
	}
	parts := strings.Fields(s[1:end])
	return len(parts) == 3 && parts[1] == "TO"
}

// unfieldedRange parses a range without a field: an OR of the range on
// each numeric field in scope (the default fields when fields is nil), an
// error if there is none.
func (p *parser) unfieldedRange(fields []string) (Query, error) {
	if fields == nil {
		fields = p.defaults
	}
	start := p.pos
	var cs []clause
	end := start
	for _, f := range fields {
		if _, err := p.rangeField(f); err != nil {
			continue
		}
		p.pos, p.valStart = start, start
		q, err := p.rangeQuery(f)
		if err != nil {
			return nil, err
		}
		cs = append(cs, clause{occ: should, q: q})
		end = p.pos
	}
	if len(cs) == 0 {
		return nil, parseErr(start, "range", "a range needs a numeric or date field, as year:[2000 TO 2016]; the fields searched (%s) have none", strings.Join(fields, ", "))
	}
	p.pos = end
	_, boost, err := p.suffixes(false)
	return boosted(build(cs), boost), err
}

// boosted wraps q in a Boost when a boost was given (boost >= 0).
func boosted(q Query, boost float64) Query {
	if q == nil || boost < 0 {
		return q
	}
	return Boost{Query: q, Boost: boost}
}

// suffixes reads the "~N" (a phrase's slop, when slop is allowed, else an
// error) and "^N" (a boost) that may follow a phrase, group or range, in
// either order. It returns -1 for what is absent. A '~' or '^' not followed
// by a number ending the word is not a suffix, and is left to read as a
// word.
func (p *parser) suffixes(slop bool) (int, float64, error) {
	sl, boost := -1, -1.0
	for !p.eof() {
		c := p.in[p.pos]
		if c != '^' && c != '~' {
			break
		}
		i := p.pos + 1
		for i < len(p.in) && (p.in[i] >= '0' && p.in[i] <= '9' || p.in[i] == '.') {
			i++
		}
		num := p.in[p.pos+1 : i]
		if num == "" || !(p.endsWord(i) || p.in[i] == '^' || p.in[i] == '~') {
			break
		}
		switch {
		case c == '~' && !slop:
			return 0, 0, parseErr(p.pos, "phrase slop", "~%s: slop applies only to a phrase, not to a group or a range", num)
		case c == '~' && sl >= 0:
			return 0, 0, parseErr(p.pos, "phrase slop", "~%s: a second slop; give one ~N", num)
		case c == '^' && boost >= 0:
			return 0, 0, parseErr(p.pos, "boost", "^%s: a second boost; give one ^N", num)
		}
		var err error
		if c == '^' {
			boost, err = parseBoost(p.pos, num)
		} else {
			sl, err = parseSlop(p.pos, num)
		}
		if err != nil {
			return 0, 0, err
		}
		p.pos = i
	}
	return sl, boost, nil
}

// isDecimal reports whether s is digits with an optional fraction.
func isDecimal(s string) bool {
	dot := strings.IndexByte(s, '.')
	whole, frac := s, "0"
	if dot >= 0 {
		whole, frac = s[:dot], s[dot+1:]
	}
	digits := func(t string) bool {
		for i := 0; i < len(t); i++ {
			if t[i] < '0' || t[i] > '9' {
				return false
			}
		}
		return t != ""
	}
	return digits(whole) && digits(frac)
}

func parseBoost(pos int, num string) (float64, error) {
	b, err := strconv.ParseFloat(num, 64)
	if !isDecimal(num) || err != nil || math.IsInf(b, 0) {
		return 0, parseErr(pos, "boost", "^%s: want a finite non-negative decimal number, as ^2 or ^0.5", num)
	}
	return b, nil
}

// maxSlop bounds a phrase's slop; a larger window is a mistake, not a query.
const maxSlop = 1 << 20

func parseSlop(pos int, num string) (int, error) {
	n, err := strconv.Atoi(num)
	if err != nil || n > maxSlop {
		return 0, parseErr(pos, "phrase slop", "~%s: want a whole number of positions up to %d", num, maxSlop)
	}
	return n, nil
}

// each builds a query per field (the default fields when fields is nil)
// and ORs them, flat.
func (p *parser) each(fields []string, explicit bool, fn func(f string, explicit bool) (Query, error)) (Query, error) {
	if fields == nil {
		fields = p.defaults
	}
	var cs []clause
	for _, f := range fields {
		q, err := fn(f, explicit)
		if err != nil {
			return nil, err
		}
		if q != nil {
			cs = append(cs, clause{occ: should, q: q})
		}
	}
	return build(cs), nil
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
// resolving escapes, for a comparison's bound.
func (p *parser) word() string {
	var sb strings.Builder
	for _, c := range p.scanWord() {
		sb.WriteByte(c.c)
	}
	return sb.String()
}

// wordChar is one byte of a bare word: esc says a backslash escaped it,
// pos is its offset in the input.
type wordChar struct {
	c   byte
	esc bool
	pos int
}

// scanWord reads a bare word up to white space, a parenthesis or a quote.
// A trailing lone backslash is dropped.
func (p *parser) scanWord() []wordChar {
	var w []wordChar
	for !p.endsWord(p.pos) {
		c, esc, at := p.in[p.pos], false, p.pos
		p.pos++
		if c == '\\' {
			if p.eof() {
				break
			}
			c, esc = p.in[p.pos], true
			p.pos++
		}
		w = append(w, wordChar{c: c, esc: esc, pos: at})
	}
	return w
}

func isWild(c wordChar) bool { return !c.esc && (c.c == '*' || c.c == '?') }

// literal returns the word's bytes, escapes resolved.
func literal(w []wordChar) string {
	b := make([]byte, len(w))
	for i, c := range w {
		b[i] = c.c
	}
	return string(b)
}

// wordSuffixes strips a word's trailing "~N" / "~" (fuzzy) and "^N"
// (boost), in either order. fuzzy and boost are -1 when absent. A '~' or
// '^' that starts the word, or is followed by more than digits and dots,
// is part of the word. A second boost or fuzzy suffix is an error.
func wordSuffixes(w []wordChar) (body []wordChar, fuzzy int, boost float64, err error) {
	fuzzy, boost = -1, -1
	fuzzyAt, boostAt := 0, 0 // where each suffix read is, for a repeat's error
	for range 3 {            // a third suffix is a repeat
		i := len(w) - 1
		for i > 0 && !(!w[i].esc && (w[i].c == '^' || w[i].c == '~')) {
			i--
		}
		if i <= 0 {
			break
		}
		num := ""
		for _, c := range w[i+1:] {
			if c.esc || !(c.c >= '0' && c.c <= '9' || c.c == '.') {
				return w, fuzzy, boost, nil
			}
			num += string(c.c)
		}
		switch {
		case w[i].c == '^' && boost >= 0 && num != "":
			return nil, 0, 0, parseErr(boostAt, "boost", "a second boost; give one ^N")
		case w[i].c == '~' && fuzzy >= 0:
			return nil, 0, 0, parseErr(fuzzyAt, "fuzzy term", "a second ~; give one ~N")
		case w[i].c == '^' && num != "":
			if boost, err = parseBoost(w[i].pos, num); err != nil {
				return nil, 0, 0, err
			}
			boostAt = w[i].pos
		case w[i].c == '~':
			fuzzyAt = w[i].pos
			switch num {
			case "":
				fuzzy = 2 // Lucene's default
			case "0", "1", "2":
				fuzzy = int(num[0] - '0')
			default:
				return nil, 0, 0, parseErr(w[i].pos, "fuzzy term", "~%s: the edit distance must be 0, 1 or 2", num)
			}
		default:
			return w, fuzzy, boost, nil
		}
		w = w[:i]
	}
	return w, fuzzy, boost, nil
}

// bareWord builds the query for a word: a term, a prefix, a wildcard, a
// fuzzy term, all documents, or Exists, each maybe boosted.
func (p *parser) bareWord(fields []string, explicit bool, w []wordChar) (Query, error) {
	body, fuzzy, boost, err := wordSuffixes(w)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, nil
	}
	allStars, wild := true, false
	for _, c := range body {
		allStars = allStars && !c.esc && c.c == '*'
	}
	// '?' ending a word with no other wildcard is a question mark.
	end := len(body)
	for end > 0 && !body[end-1].esc && body[end-1].c == '?' {
		end--
	}
	for _, c := range body[:end] {
		wild = wild || isWild(c)
	}
	if end < len(body) && !wild {
		body = body[:end]
		if len(body) == 0 {
			return nil, nil
		}
	}
	prefix := wild && body[len(body)-1].c == '*' && !body[len(body)-1].esc
	if prefix {
		for _, c := range body[:len(body)-1] {
			prefix = prefix && !isWild(c)
		}
	}
	if fuzzy >= 0 && wild {
		return nil, parseErr(body[0].pos, "fuzzy term", "%q: a fuzzy term cannot hold the wildcards * or ?", literal(w))
	}
	var q Query
	switch {
	case allStars && fields == nil:
		q = All{}
	case allStars:
		q, err = p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
			return p.existsOn(f, explicit, body[0].pos)
		})
	case prefix:
		text := literal(body[:len(body)-1])
		q, err = p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
			return p.term(f, text, true, explicit)
		})
	case wild:
		var pat strings.Builder
		for _, c := range body {
			if c.esc && (c.c == '*' || c.c == '?' || c.c == '\\') {
				pat.WriteByte('\\')
			}
			pat.WriteByte(c.c)
		}
		q, err = p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
			return p.wildcard(f, pat.String(), explicit)
		})
	case fuzzy >= 0:
		text := literal(body)
		q, err = p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
			return p.fuzzy(f, text, fuzzy, explicit)
		})
	default:
		text := literal(body)
		q, err = p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
			return p.term(f, text, false, explicit)
		})
	}
	if err != nil {
		return nil, err
	}
	return boosted(q, boost), nil
}

// exists parses the field name after "_exists_:".
func (p *parser) exists() (Query, error) {
	p.valStart = p.pos
	w := p.scanWord()
	if len(w) == 0 {
		// fieldPrefix saw something after the colon, so it is a group or a
		// quote.
		return nil, parseErr(p.pos, "field", "_exists_ takes one field name, as _exists_:year, not %q", p.in[p.pos:p.pos+1])
	}
	body, fuzzy, boost, err := wordSuffixes(w)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, nil
	}
	if fuzzy >= 0 {
		return nil, parseErr(w[0].pos, "field", "_exists_:%s: a field name takes no ~", literal(w))
	}
	name := literal(body)
	if _, ok := p.schema.Field(name); !ok {
		return nil, parseErr(body[0].pos, "field", "_exists_: unknown field %q", name)
	}
	q, err := p.existsOn(name, true, body[0].pos)
	return boosted(q, boost), err
}

func (p *parser) existsOn(name string, explicit bool, pos int) (Query, error) {
	f, _ := p.schema.Field(name)
	if !f.Indexed && !f.Fast {
		if !explicit {
			return nil, nil
		}
		return nil, parseErr(pos, "field", "field %q is neither indexed nor fast, so it cannot be searched", name)
	}
	return Exists{Field: name}, nil
}

// multiTermField checks that a wildcard, fuzzy term or regular expression
// can run on the field: an indexed text or keyword field. ok is false with
// no error when the field is a default one that cannot hold the term.
func (p *parser) multiTermField(name, construct string, explicit bool) (segment.Field, bool, error) {
	f, _ := p.schema.Field(name)
	if (f.Type == segment.TypeText || f.Type == segment.TypeKeyword) && f.Indexed {
		return f, true, nil
	}
	if !explicit {
		return f, false, nil
	}
	if !f.Indexed {
		return f, false, parseErr(p.valStart, construct, "field %q is not indexed, so it cannot be searched", name)
	}
	return f, false, parseErr(p.valStart, construct, "field %q is %v; a %s needs a text or keyword field", name, f.Type, construct)
}

// lowercases reports whether a text field's tokenizer lowercases, probed
// with one letter; a wildcard pattern on such a field is lowercased too.
func (p *parser) lowercases(f segment.Field) (bool, error) {
	terms, _, err := p.tokens(f, "Q")
	return len(terms) == 1 && terms[0] == "q", err
}

func (p *parser) wildcard(name, pattern string, explicit bool) (Query, error) {
	f, ok, err := p.multiTermField(name, "wildcard", explicit)
	if !ok {
		return nil, err
	}
	if f.Type == segment.TypeText {
		lower, err := p.lowercases(f)
		if err != nil {
			return nil, err
		}
		if lower {
			pattern = strings.ToLower(pattern)
		}
	}
	return Wildcard{Field: name, Pattern: pattern}, nil
}

func (p *parser) fuzzy(name, text string, distance int, explicit bool) (Query, error) {
	f, ok, err := p.multiTermField(name, "fuzzy term", explicit)
	if !ok {
		return nil, err
	}
	if f.Type == segment.TypeKeyword {
		return Fuzzy{Field: name, Term: text, Distance: distance}, nil
	}
	terms, _, err := p.tokens(f, text)
	if err != nil {
		return nil, err
	}
	var b Boolean
	for _, t := range terms {
		b.Should = append(b.Should, Fuzzy{Field: name, Term: t, Distance: distance})
	}
	return build([]clause{{occ: should, q: b}}), nil
}

// regexp parses /pattern/ when the closing slash ends the word (or is
// followed by a boost); ok is false when the text is not a regular
// expression but a word starting with '/'.
func (p *parser) regexp(fields []string, explicit bool) (Query, bool, error) {
	start := p.pos
	end := -1
	for i := start + 1; i < len(p.in); i++ {
		if p.in[i] == '\\' {
			i++
			continue
		}
		if p.in[i] == '/' {
			end = i
			break
		}
	}
	if end <= start+1 || !(p.endsWord(end+1) || p.in[end+1] == '^') { // "//" is no regular expression
		return nil, false, nil
	}
	var pat strings.Builder
	raw := p.in[start+1 : end]
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) && raw[i+1] == '/' {
			i++
		}
		pat.WriteByte(raw[i])
	}
	pattern := pat.String()
	if err := checkRegexp(pattern); err != nil {
		return nil, true, parseErr(start, "regular expression", "/%s/: %v", raw, err)
	}
	p.pos = end + 1
	_, boost, err := p.suffixes(false)
	if err != nil {
		return nil, true, err
	}
	q, err := p.each(fields, explicit, func(f string, explicit bool) (Query, error) {
		if _, ok, err := p.multiTermField(f, "regular expression", explicit); !ok {
			return nil, err
		}
		return Regexp{Field: f, Pattern: pattern}, nil
	})
	return boosted(q, boost), true, err
}

// checkRegexp parses pattern as segment.NewRegexpAutomaton will, and
// refuses what a whole-term automaton cannot run.
func checkRegexp(pattern string) error {
	if !utf8.ValidString(pattern) {
		return fmt.Errorf("not valid UTF-8")
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return err
	}
	var check func(*syntax.Regexp) error
	check = func(re *syntax.Regexp) error {
		switch re.Op {
		case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
			return fmt.Errorf("anchors (^, $) are not supported: a pattern always matches a whole term")
		case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			return fmt.Errorf("word boundaries (\\b, \\B) are not supported")
		}
		if re.Flags&syntax.NonGreedy != 0 && (re.Op == syntax.OpStar || re.Op == syntax.OpPlus || re.Op == syntax.OpQuest || re.Op == syntax.OpRepeat) {
			return fmt.Errorf("lazy quantifiers are not supported")
		}
		for _, sub := range re.Sub {
			if err := check(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return check(re)
}

// tokens analyses text with the field's tokenizer.
func (p *parser) tokens(f segment.Field, text string) ([]string, []int, error) {
	tok, ok := p.toks[f.Name]
	if !ok || tok == nil {
		if f.TokenizerName() != segment.DefaultTokenizer {
			return nil, nil, parseErr(p.valStart, "field", "no tokenizer %q given for text field %q", f.TokenizerName(), f.Name)
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
func textQuery(f segment.Field, terms []string, pos []int, phrase bool, text string, at int) (Query, error) {
	switch len(terms) {
	case 0:
		return nil, nil
	case 1:
		return Term{Field: f.Name, Term: terms[0]}, nil
	}
	if !f.Positions {
		if phrase {
			return nil, parseErr(at, "phrase", "phrase %q on field %q, which has no positions indexed", text, f.Name)
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

// phrase builds the query for a quoted text on one field; raw is the text
// between the quotes, escapes unresolved. slop is -1 when none was given.
func (p *parser) phrase(name, raw string, slop int, explicit bool) (Query, error) {
	f, _ := p.schema.Field(name)
	switch f.Type {
	case segment.TypeText:
		if !f.Indexed {
			return p.notSearchable(f, explicit)
		}
		terms, pos, err := p.phraseTokens(f, raw)
		if err != nil {
			return nil, err
		}
		q, err := textQuery(f, terms, pos, true, unescape(raw), p.valStart)
		if ph, ok := q.(Phrase); ok && slop > 0 {
			ph.Slop = slop
			q = ph
		}
		return q, err
	case segment.TypeKeyword:
		if !f.Indexed {
			return p.notSearchable(f, explicit)
		}
		return Term{Field: name, Term: unescape(raw)}, nil
	}
	return p.term(name, unescape(raw), false, explicit)
}

// phraseTokens analyses a phrase's text. A lone unescaped '?' holds the
// place of one word: the tokens after it are one position further on.
func (p *parser) phraseTokens(f segment.Field, raw string) ([]string, []int, error) {
	var terms []string
	var pos []int
	next, gaps, start := 0, 0, 0
	piece := func(end int) error {
		ts, ps, err := p.tokens(f, unescape(raw[start:end]))
		if err != nil {
			return err
		}
		next += gaps
		for i := range ts {
			terms = append(terms, ts[i])
			pos = append(pos, next+ps[i])
		}
		if len(ps) > 0 {
			next += ps[len(ps)-1] + 1
		}
		gaps = 0
		return nil
	}
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\':
			i++
		case raw[i] == '?' && (i == 0 || isSpace(raw[i-1])) && (i+1 == len(raw) || isSpace(raw[i+1])):
			if err := piece(i); err != nil {
				return nil, nil, err
			}
			gaps++
			start = i + 1
		}
	}
	if err := piece(len(raw)); err != nil {
		return nil, nil, err
	}
	return terms, pos, nil
}

func (p *parser) notSearchable(f segment.Field, explicit bool) (Query, error) {
	if !explicit {
		return nil, nil
	}
	return nil, parseErr(p.valStart, "field", "field %q is not indexed, so it cannot be searched", f.Name)
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
		return textQuery(f, terms, pos, false, text, p.valStart)
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
			return nil, parseErr(p.valStart, "prefix", "prefix %q on numeric field %q; use a range", text+"*", name)
		}
		v, err := parseNumber(text)
		if err != nil {
			if !explicit {
				return nil, nil // a word is not a number: no match on this default field
			}
			return nil, parseErr(p.valStart, "term", "field %q is %v, and %q is not a number", name, f.Type, text)
		}
		return p.exactNumber(f, v, explicit)
	case segment.TypeDate:
		if prefix {
			if !explicit {
				return nil, nil
			}
			return nil, parseErr(p.valStart, "prefix", "prefix %q on date field %q; use a range", text+"*", name)
		}
		ms, day, err := parseDateValue(text)
		if err != nil {
			if !explicit {
				return nil, nil
			}
			return nil, parseErr(p.valStart, "term", "field %q is a date: %v", name, err)
		}
		if day { // a bare day matches all of it
			q, err := p.exactNumber(f, ms, explicit)
			if r, ok := q.(Range); ok {
				r.Max, r.MaxInclusive = ms+dayMillis, false
				q = r
			}
			return q, err
		}
		return p.exactNumber(f, ms, explicit)
	case segment.TypeBool:
		var v uint64
		switch {
		case strings.EqualFold(text, "true"):
			v = 1
		case strings.EqualFold(text, "false"):
		default:
			if !explicit {
				return nil, nil
			}
			return nil, parseErr(p.valStart, "term", "field %q is bool, and %q is neither true nor false", name, text)
		}
		return p.exactNumber(f, v, explicit)
	}
	if !explicit {
		return nil, nil
	}
	return nil, parseErr(p.valStart, "term", "field %q holds %v and cannot be searched", name, f.Type)
}

// exactNumber matches one number: a Range of one value, which runs on the
// fast column or, on an indexed-only field, on the term dictionary.
func (p *parser) exactNumber(f segment.Field, v any, explicit bool) (Query, error) {
	if !f.Fast && !f.Indexed {
		if !explicit {
			return nil, nil
		}
		return nil, parseErr(p.valStart, "term", "field %q is neither indexed nor fast, so it cannot be searched", f.Name)
	}
	v = smallInt(v)
	return Range{Field: f.Name, Min: v, Max: v, MinInclusive: true, MaxInclusive: true}, nil
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
	st := f.Type.Storage()
	numeric := st == segment.TypeU64 || st == segment.TypeI64 || st == segment.TypeF64
	if !numeric || !f.Fast && !f.Indexed {
		return f, parseErr(p.valStart, "range", "range on field %q, which is not a numeric or date field that is fast or indexed (ranges need a u64, i64, f64 or date field)", name)
	}
	return f, nil
}

// bound parses one end of a range; "*" or "" is unbounded.
func (p *parser) rangeBound(f segment.Field, s string) (any, error) {
	if s == "*" || s == "" {
		return nil, nil
	}
	if f.Type == segment.TypeDate {
		ms, _, err := parseDateValue(s)
		if err != nil {
			return nil, parseErr(p.valStart, "range", "range on date field %q: bound %q: %v", f.Name, s, err)
		}
		return smallInt(ms), nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return nil, parseErr(p.valStart, "range", "range on field %q: bound %q is not a number", f.Name, s)
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

// rangeQuery parses [a TO b], {a TO b}, or a mix; * is an open end. A
// range is written on a named numeric field, so it is never pasted
// punctuation: a missing bound, TO or closing bracket is an error.
func (p *parser) rangeQuery(name string) (Query, error) {
	f, err := p.rangeField(name)
	if err != nil {
		return nil, err
	}
	minInc := p.in[p.pos] == '['
	p.pos++
	end := strings.IndexAny(p.in[p.pos:], "]}")
	if end < 0 {
		return nil, parseErr(p.valStart, "range", "range on field %q: no closing ] or }; want [min TO max]", name)
	}
	body := p.in[p.pos : p.pos+end]
	maxInc := p.in[p.pos+end] == ']'
	p.pos += end + 1
	parts := strings.Fields(body)
	if len(parts) != 3 || !strings.EqualFold(parts[1], "TO") {
		return nil, parseErr(p.valStart, "range", "range on field %q: %q; want [min TO max], * for an open end", name, body)
	}
	parts = []string{parts[0], parts[2]}
	lo, err := p.rangeBound(f, parts[0])
	if err != nil {
		return nil, err
	}
	hi, err := p.rangeBound(f, parts[1])
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
	w := p.word()
	if w == "" && !p.eof() && p.in[p.pos] == '"' {
		// A quoted value, as created:>="2024-05-01T10:00:00Z".
		end := closingQuote(p.in, p.pos+1)
		if end < 0 {
			return nil, parseErr(p.valStart, "range", "comparison on field %q: unbalanced quote", name)
		}
		w = unescape(p.in[p.pos+1 : end])
		p.pos = end + 1
		if w == "" {
			return nil, parseErr(p.valStart, "range", "comparison on field %q: empty quoted value", name)
		}
	}
	if w == "" {
		return nil, nil // "year:>" with no value: nothing to compare
	}
	v, err := p.rangeBound(f, w)
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
