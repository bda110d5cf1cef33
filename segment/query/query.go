// Package query searches segments: query types, BM25 scoring with
// collection-wide statistics, top-k retrieval with block-max WAND pruning
// for disjunctions of terms, and a Lucene-like query-string parser.
//
// A Searcher is built over a fixed list of segment readers (a snapshot) and
// is safe for concurrent use. Queries are plain values; build them directly
// or with Parse.
package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/hermes-search/hermes-go/segment"
	"unicode/utf8"
)

// Query is a search query. The concrete types are Term, Boolean, Phrase,
// Range, Prefix, Fuzzy, Wildcard, Regexp, Exists, Boost and All; the set is
// closed so the engine can plan every query it is given.
type Query interface {
	// String renders the query in the syntax Parse reads (Lucene's). A
	// query Parse returned reads back, through Parse with the same schema,
	// default fields and tokenizers, as the same query (given tokenizers
	// that map their own output to itself, as lowercasing, stop-word and
	// the built-in stemming tokenizers do).
	String() string
	isQuery()
}

// Term matches documents whose field holds exactly Term (no analysis is
// applied: Term is compared with the indexed bytes). It is scored with BM25.
type Term struct {
	Field string
	Term  string
}

// Boolean combines clauses. A document matches when it matches every Must
// clause, none of the MustNot clauses, and, if there are no Must clauses, at
// least one Should clause; with Must clauses present, Should clauses only add
// to the score. The score is the sum of the scores of the matching Must and
// Should clauses. A Boolean with only MustNot clauses matches every document
// not excluded, with score 1 (as Elasticsearch does; Lucene would match
// nothing). An empty Boolean matches nothing.
type Boolean struct {
	Must    []Query
	Should  []Query
	MustNot []Query
}

// Phrase matches documents in which Terms occur at consecutive positions of
// Field (or at the relative positions in Positions, when set, which lets a
// phrase keep the gaps left by removed stop words). The field must have been
// indexed with positions. A phrase is scored with BM25 over the number of
// times it occurs, with the sum of its terms' idf, as Lucene does.
//
// With Slop > 0 the terms may stand up to Slop positions away from where
// the phrase puts them, in any order ("a b"~1 matches "a x b", "a b"~2
// matches "b a"): Lucene's sloppy phrase. A document's phrase frequency is
// then the sum over its matches of 1/(distance+1), as in Lucene's
// SloppyPhraseScorer, and is scored with BM25 like an exact count. A term
// may repeat ("to be or not to be"~2): each occurrence then takes a
// different position of the document, resolved as Lucene's
// SloppyPhraseScorer resolves repeats (a brute-force model test checks
// that a document matches exactly when some choice of distinct positions
// is within the slop).
type Phrase struct {
	Field string
	Terms []string
	// Positions, if not nil, gives the position of each term relative to the
	// others (same length as Terms, ascending). Nil means 0, 1, 2, ...
	Positions []int
	// Slop is the largest total distance allowed; 0 is an exact phrase.
	Slop int
}

// Range matches documents whose fast-field value (u64, i64 or f64) lies
// between Min and Max. Min and Max are each nil (unbounded), or an int,
// int64, uint64 or float64. On u64 and i64 fields bounds of any of these
// types compare exactly (a fractional bound, a negative bound on a u64
// field); on f64 fields they are converted to float64 first. Documents
// without a value never match. Every match scores 1.
type Range struct {
	Field        string
	Min, Max     any
	MinInclusive bool
	MaxInclusive bool
}

// Prefix matches documents with a term of Field that starts with Prefix.
// The prefix is expanded against each segment's term dictionary into a
// constant-score union (every match scores 1), so any number of expanded
// terms is handled without an expansion limit.
type Prefix struct {
	Field  string
	Prefix string
}

// Fuzzy matches documents with a term of Field within Distance edits
// (insertions, deletions, substitutions and transpositions of adjacent
// characters, counted in Unicode code points: Damerau-Levenshtein, as
// Lucene's default) of Term. Distance is 0, 1 or 2. The term dictionary is
// walked with a Levenshtein automaton, and the query is rewritten as
// Lucene's top-terms blended rewrite. Each matching term is weighted
// 1 - edits/min(len(Term), len(term)) (lengths in code points) as Lucene's
// FuzzyQuery does; a term whose weight is 0 or less (as many edits as the
// shorter is long) is dropped. The MaxExpansions terms of highest weight
// are kept (ties to the smaller term in byte order), each scores with BM25
// using the largest document frequency among them (so a rare misspelling
// does not outrank the word meant) times its weight, and a document's
// score is the sum over the kept terms it holds. Terms past MaxExpansions
// are dropped, never an error: the closest ones are the ones wanted.
//
// Terms of up to 256 characters are matched with vellum's precomputed
// Levenshtein automaton over the term dictionary. A longer term's would
// cost memory in proportion to its length (about 70 KB a character at
// distance 2), so the walk computes the edit distance of each dictionary
// prefix as it goes instead, leaving a path once its prefix is more than
// Distance edits from every prefix of Term: either way the walk visits only
// the prefixes within Distance, never the whole dictionary. A Term
// longer than MaxFuzzyTermRunes characters is an error: it would be more
// than Distance edits from every term the index can hold.
type Fuzzy struct {
	Field    string
	Term     string
	Distance int
	// MaxExpansions bounds the terms kept; 0 means DefaultFuzzyExpansions.
	MaxExpansions int
}

// Wildcard matches documents with a term of Field matching Pattern, where
// '*' stands for any run of characters (none included), '?' for exactly
// one character (a Unicode code point), and a backslash makes the next
// character literal. The pattern is matched against whole terms, as
// indexed (no analysis). The query is Lucene's constant-score rewrite:
// every match scores 1. Expansion is bounded: if more than MaxExpansions
// distinct terms of the searched segments match, the search fails with an
// error wrapping ErrTooManyExpansions rather than run unbounded.
type Wildcard struct {
	Field   string
	Pattern string
	// MaxExpansions bounds the matching terms; 0 means
	// DefaultMaxExpansions.
	MaxExpansions int
}

// Regexp matches documents with a term of Field that the regular
// expression Pattern matches entirely (Go's RE2 syntax: no anchors, word
// boundaries or lazy quantifiers, which Parse refuses). No analysis is
// applied. Scoring and the expansion bound are those of Wildcard.
//
// Wildcard and Regexp patterns run as an automaton determinized lazily
// while it walks the term dictionary (segment.RegexpAutomaton), so the
// work follows the terms the pattern can still match, never the size of
// its language: `\pL{2,5}` costs microseconds, not the seconds a whole
// DFA of every Unicode letter would. The automaton has a budget
// (segment.DefaultRegexpMaxStates states, segment.DefaultRegexpMaxWork
// steps); a pattern past it fails the search with an error wrapping both
// ErrTooManyExpansions and segment.ErrAutomatonBudget.
type Regexp struct {
	Field   string
	Pattern string
	// MaxExpansions bounds the matching terms; 0 means
	// DefaultMaxExpansions.
	MaxExpansions int
}

// Exists matches documents that have a value in Field: an indexed term, or
// a value of a fast field. Every match scores 1.
type Exists struct {
	Field string
}

// Boost multiplies the scores of Query by Boost (finite, >= 0). A boost
// changes ranking, never which documents match.
type Boost struct {
	Query Query
	Boost float64
}

// All matches every live document with score 1.
type All struct{}

// Expansion bounds of the multi-term queries.
const (
	// DefaultFuzzyExpansions is Lucene's and Elasticsearch's default
	// max_expansions for fuzzy queries.
	DefaultFuzzyExpansions = 50
	// MaxFuzzyTermRunes bounds the length of a Fuzzy term, in characters
	// (Unicode code points): a longer term is more than 2 edits from any
	// term the index can hold (segment.MaxTermBytes bytes at most).
	MaxFuzzyTermRunes = segment.MaxTermBytes + 2
	// DefaultMaxExpansions bounds Wildcard and Regexp expansions (the
	// distinct matching terms over all searched segments).
	DefaultMaxExpansions = 10000
)

// ErrTooManyExpansions is wrapped by the error a search returns when a
// Wildcard or Regexp matches more terms than its MaxExpansions, or its
// automaton goes over its budget.
var ErrTooManyExpansions = errors.New("query: too many expansions")

func (Term) isQuery()     {}
func (Boolean) isQuery()  {}
func (Phrase) isQuery()   {}
func (Range) isQuery()    {}
func (Prefix) isQuery()   {}
func (All) isQuery()      {}
func (Fuzzy) isQuery()    {}
func (Wildcard) isQuery() {}
func (Regexp) isQuery()   {}
func (Exists) isQuery()   {}
func (Boost) isQuery()    {}

// String renders field:term, quoting the term when it would not read back
// as one word.
func (q Term) String() string { return q.Field + ":" + printTerm(q.Term) }

// String renders the clauses as +must should -mustnot, nested Booleans in
// parentheses.
func (q Boolean) String() string {
	var sb strings.Builder
	write := func(prefix string, cs []Query) {
		for _, c := range cs {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(prefix)
			if b, ok := c.(Boolean); ok {
				sb.WriteByte('(')
				sb.WriteString(b.String())
				sb.WriteByte(')')
			} else if c == nil {
				sb.WriteString("<nil>")
			} else {
				sb.WriteString(c.String())
			}
		}
	}
	write("+", q.Must)
	write("", q.Should)
	write("-", q.MustNot)
	return sb.String()
}

// String renders field:"a b c", with "?" for each gap in Positions (which
// Parse reads back as a gap), and ~slop when Slop is set.
func (q Phrase) String() string {
	var sb strings.Builder
	sb.WriteString(q.Field)
	sb.WriteString(`:"`)
	for i, t := range q.Terms {
		if i > 0 {
			sb.WriteByte(' ')
			if q.Positions != nil && i < len(q.Positions) {
				for g := q.Positions[i-1] + 1; g < q.Positions[i]; g++ {
					sb.WriteString("? ")
				}
			}
		}
		writeQuoted(&sb, t)
	}
	sb.WriteByte('"')
	if q.Slop != 0 {
		sb.WriteByte('~')
		sb.WriteString(strconv.Itoa(q.Slop))
	}
	return sb.String()
}

// String renders field:[min TO max], with braces for exclusive ends and *
// for an unbounded end.
func (q Range) String() string {
	open, close := "{", "}"
	if q.MinInclusive {
		open = "["
	}
	if q.MaxInclusive {
		close = "]"
	}
	return fmt.Sprintf("%s:%s%s TO %s%s", q.Field, open, boundString(q.Min), boundString(q.Max), close)
}

func boundString(v any) string {
	switch x := v.(type) {
	case nil:
		return "*"
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0" // reads back as a float64, not an integer
		}
		return s
	default:
		return fmt.Sprint(x)
	}
}

// String renders field:prefix*.
func (q Prefix) String() string { return q.Field + ":" + escapeWord(q.Prefix, false) + "*" }

// String renders *:*.
func (All) String() string { return "*:*" }

// String renders field:term~distance.
func (q Fuzzy) String() string {
	return q.Field + ":" + escapeWord(q.Term, false) + "~" + strconv.Itoa(q.Distance)
}

// String renders field:pattern.
func (q Wildcard) String() string { return q.Field + ":" + escapeWord(q.Pattern, true) }

// String renders field:/pattern/.
func (q Regexp) String() string {
	var sb strings.Builder
	sb.WriteString(q.Field)
	sb.WriteString(":/")
	for i := 0; i < len(q.Pattern); i++ {
		switch c := q.Pattern[i]; c {
		case '\\':
			sb.WriteByte(c)
			if i+1 < len(q.Pattern) {
				i++
				sb.WriteByte(q.Pattern[i])
			}
		case '/':
			sb.WriteString(`\/`)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('/')
	return sb.String()
}

// String renders _exists_:field.
func (q Exists) String() string { return "_exists_:" + q.Field }

// String renders query^boost, with the query in parentheses when it is a
// Boolean or a Boost.
func (q Boost) String() string {
	var inner string
	switch in := q.Query.(type) {
	case nil:
		inner = "(<nil>)"
	case Boolean, Boost:
		inner = "(" + in.String() + ")"
	default:
		inner = in.String()
	}
	return inner + "^" + strconv.FormatFloat(q.Boost, 'f', -1, 64)
}

// printTerm returns t as is when it reads back as one plain word, else in
// double quotes with '"', '\\' and '?' escaped.
func printTerm(t string) string {
	if t != "" && utf8.ValidString(t) && !strings.ContainsAny(t[:1], "[{<>/") {
		plain := true
		for _, r := range t {
			if !unicode.IsPrint(r) || unicode.IsSpace(r) || strings.ContainsRune(`"():\*?~^`, r) {
				plain = false
				break
			}
		}
		if plain {
			return t
		}
	}
	var sb strings.Builder
	sb.WriteByte('"')
	writeQuoted(&sb, t)
	sb.WriteByte('"')
	return sb.String()
}

// writeQuoted writes t for the inside of a quoted phrase.
func writeQuoted(sb *strings.Builder, t string) {
	for i := 0; i < len(t); i++ {
		if c := t[i]; c == '"' || c == '\\' || c == '?' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(t[i])
	}
}

// escapeWord backslash-escapes every byte of s that would not read back
// literally in a bare word. With pattern set, s is a wildcard pattern: its
// escapes are kept and '*' and '?' stay wildcards.
func escapeWord(s string, pattern bool) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case pattern && c == '\\':
			sb.WriteByte(c)
			if i+1 < len(s) {
				i++
				sb.WriteByte(s[i])
			}
			continue
		case pattern && (c == '*' || c == '?'):
		case c <= ' ' || strings.IndexByte(`\"():*?~^/[]{}<>!+-&|`, c) >= 0:
			sb.WriteByte('\\')
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// quoteTerm returns t as is when it is a plain printable word, else quoted
// with Go syntax so binary terms (encoded numbers) stay readable.
func quoteTerm(t string) string {
	if t == "" || !utf8.ValidString(t) {
		return strconv.Quote(t)
	}
	for _, r := range t {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || strings.ContainsRune(`"():\`, r) {
			return strconv.Quote(t)
		}
	}
	return t
}
