// Package query searches segments: query types, BM25 scoring with
// collection-wide statistics, top-k retrieval with block-max WAND pruning
// for disjunctions of terms, and a Lucene-like query-string parser.
//
// A Searcher is built over a fixed list of segment readers (a snapshot) and
// is safe for concurrent use. Queries are plain values; build them directly
// or with Parse.
package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Query is a search query. The concrete types are Term, Boolean, Phrase,
// Range, Prefix and All; the set is closed so the engine can plan every
// query it is given.
type Query interface {
	// String renders the query in the syntax Parse reads (Lucene's), for
	// logs and tests.
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
type Phrase struct {
	Field string
	Terms []string
	// Positions, if not nil, gives the position of each term relative to the
	// others (same length as Terms, ascending). Nil means 0, 1, 2, ...
	Positions []int
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

// All matches every live document with score 1.
type All struct{}

func (Term) isQuery()    {}
func (Boolean) isQuery() {}
func (Phrase) isQuery()  {}
func (Range) isQuery()   {}
func (Prefix) isQuery()  {}
func (All) isQuery()     {}

// String renders field:term, quoting the term when it would not read back
// as one word.
func (q Term) String() string { return q.Field + ":" + quoteTerm(q.Term) }

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

// String renders field:"a b c", with "?" for each gap in Positions.
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
		sb.WriteString(t)
	}
	sb.WriteByte('"')
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
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// String renders field:prefix*.
func (q Prefix) String() string { return q.Field + ":" + quoteTerm(q.Prefix) + "*" }

// String renders *:*.
func (All) String() string { return "*:*" }

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
