package query

import (
	"fmt"
	stdregexp "regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hermes-search/hermes-go/segment/analysis"
)

// Span is a byte range [Start, End) of a text.
type Span struct {
	Start, End int
}

// Fragment is a piece of a field's text with the query's matches in it.
type Fragment struct {
	// Text is the piece: the field's text[Start:End], cut at word
	// boundaries.
	Text       string
	Start, End int
	// Matches are the matched words, as byte ranges of Text (not of the
	// whole field), in order and not overlapping.
	Matches []Span
	// Score ranks fragments: the number of distinct query terms matched,
	// plus a tenth per match.
	Score float64
}

// HighlightOptions shape the fragments Highlight returns.
type HighlightOptions struct {
	// FragmentSize is the largest size of a fragment in bytes (a fragment
	// grows past it only to keep one matched word whole); 0 means
	// DefaultFragmentSize.
	FragmentSize int
	// MaxFragments bounds the fragments returned; 0 means
	// DefaultMaxFragments.
	MaxFragments int
}

// spaces are where a fragment may be cut.
const spaces = " \t\n\r"

// Defaults of HighlightOptions.
const (
	DefaultFragmentSize = 150
	DefaultMaxFragments = 3
)

// Highlight returns the best fragments of text, the stored value of field,
// for the query q, best first (ties: earlier in the text first), each with
// the byte ranges of its matched words. It returns no fragment when nothing
// in text matches.
//
// tok must be the tokenizer field was indexed with. The query's terms are
// compared with the tokens of text as indexed (lowercased, stemmed...), so
// "running" is marked for the term "run" of a stemmed field, and the marked
// range is the original word. A Phrase marks only words at the positions
// the phrase asks for (within its slop), not every occurrence of its
// terms. Term, Phrase, Prefix, Fuzzy, Wildcard and Regexp clauses on field
// are highlighted, within Boolean (its Must and Should clauses; MustNot is
// not a match) and Boost; clauses on other fields, Range, Exists and All
// mark nothing. Highlight reads nothing from the index: it is meant to be
// called on the stored text of each hit a search returned.
func Highlight(q Query, field, text string, tok analysis.Tokenizer, opts HighlightOptions) ([]Fragment, error) {
	toks, marked, err := matchTokens(q, field, text, tok)
	if err != nil {
		return nil, err
	}
	size := opts.FragmentSize
	if size <= 0 {
		size = DefaultFragmentSize
	}
	maxFrags := opts.MaxFragments
	if maxFrags <= 0 {
		maxFrags = DefaultMaxFragments
	}
	var spans []Span
	var terms []string
	for i, t := range toks {
		if marked[i] {
			spans = append(spans, Span{t.start, t.end})
			terms = append(terms, t.term)
		}
	}
	var frags []Fragment
	prevEnd := 0 // fragments do not overlap
	for i := 0; i < len(spans); {
		// A fragment starts at a space up to a quarter of its size before
		// its first match (more near the end of the text, so that a text
		// shorter than the size is shown whole), and ends at the last space
		// that keeps it within its size (or at the end of the text).
		first := spans[i].Start
		start := max(prevEnd, min(first-size/4, len(text)-size))
		if start > prevEnd {
			if k := strings.IndexAny(text[start:first], spaces); k >= 0 {
				start += k + 1
			} else {
				start = first
			}
		}
		start = first - len(strings.TrimLeft(text[start:first], spaces))
		limit := start + size
		j := i + 1
		for j < len(spans) && spans[j].End <= limit {
			j++
		}
		end := spans[j-1].End
		if len(text) <= limit {
			end = len(text)
		} else if end < limit {
			if k := strings.LastIndexAny(text[end:limit], spaces); k >= 0 {
				end += k
			}
		}
		end = start + len(strings.TrimRight(text[start:end], spaces))
		prevEnd = end
		f := Fragment{Text: text[start:end], Start: start, End: end}
		distinct := map[string]bool{}
		for ; i < j; i++ {
			f.Matches = append(f.Matches, Span{spans[i].Start - start, spans[i].End - start})
			distinct[terms[i]] = true
		}
		f.Score = float64(len(distinct)) + 0.1*float64(len(f.Matches))
		frags = append(frags, f)
	}
	sort.SliceStable(frags, func(a, b int) bool { return frags[a].Score > frags[b].Score })
	return frags[:min(len(frags), maxFrags)], nil
}

// Matches returns the byte ranges of text, the stored value of field, that
// q matches, in order: the words Highlight marks, without fragmenting.
func Matches(q Query, field, text string, tok analysis.Tokenizer) ([]Span, error) {
	toks, marked, err := matchTokens(q, field, text, tok)
	if err != nil {
		return nil, err
	}
	var spans []Span
	for i, t := range toks {
		if marked[i] {
			spans = append(spans, Span{t.start, t.end})
		}
	}
	return spans, nil
}

// hlToken is a token of the highlighted text, kept.
type hlToken struct {
	term       string
	pos        int
	start, end int
}

// matchTokens tokenizes text and marks the tokens q matches.
func matchTokens(q Query, field, text string, tok analysis.Tokenizer) ([]hlToken, []bool, error) {
	var m hlMatcher
	if err := m.collect(q, field); err != nil {
		return nil, nil, err
	}
	var toks []hlToken
	tok.Tokenize(text, func(t analysis.Token) {
		toks = append(toks, hlToken{string(t.Term), t.Position, t.Start, t.End})
	})
	marked := make([]bool, len(toks))
	if m.empty() {
		return toks, marked, nil
	}
	for i, t := range toks {
		marked[i] = m.matchesTerm(t.term)
	}
	for _, p := range m.phrases {
		markPhrase(p, toks, marked)
	}
	return toks, marked, nil
}

// hlMatcher holds the parts of a query that apply to one field.
type hlMatcher struct {
	terms   map[string]bool
	preds   []func(term string) bool
	phrases []Phrase
}

func (m *hlMatcher) empty() bool {
	return len(m.terms) == 0 && len(m.preds) == 0 && len(m.phrases) == 0
}

func (m *hlMatcher) matchesTerm(term string) bool {
	if m.terms[term] {
		return true
	}
	for _, p := range m.preds {
		if p(term) {
			return true
		}
	}
	return false
}

func (m *hlMatcher) collect(q Query, field string) error {
	switch q := q.(type) {
	case Boolean:
		for _, c := range q.Must {
			if err := m.collect(c, field); err != nil {
				return err
			}
		}
		for _, c := range q.Should {
			if err := m.collect(c, field); err != nil {
				return err
			}
		}
	case *Boolean:
		return m.collect(*q, field)
	case Boost:
		return m.collect(q.Query, field)
	case Term:
		if q.Field == field {
			if m.terms == nil {
				m.terms = map[string]bool{}
			}
			m.terms[q.Term] = true
		}
	case Phrase:
		if q.Field == field && len(q.Terms) > 0 {
			if q.Positions != nil && len(q.Positions) != len(q.Terms) {
				return fmt.Errorf("query: %s: %d positions for %d terms", q, len(q.Positions), len(q.Terms))
			}
			m.phrases = append(m.phrases, q)
		}
	case Prefix:
		if q.Field == field {
			p := q.Prefix
			m.preds = append(m.preds, func(t string) bool { return strings.HasPrefix(t, p) })
		}
	case Fuzzy:
		if q.Field != field {
			return nil
		}
		if q.Distance <= 0 {
			return m.collect(Term{Field: q.Field, Term: q.Term}, field)
		}
		if q.Distance > 2 {
			return fmt.Errorf("query: %s: edit distance %d; want 0, 1 or 2", q, q.Distance)
		}
		fm, err := newFuzzyMatcher(q)
		if err != nil {
			return err
		}
		qlen := utf8.RuneCountInString(q.Term)
		m.preds = append(m.preds, func(t string) bool {
			ok, ed := fm.match(t)
			return ok && fuzzyBoost(ed, qlen, utf8.RuneCountInString(t)) > 0
		})
	case Wildcard:
		if q.Field != field {
			return nil
		}
		re, err := wildcardRegexp(q.Pattern)
		if err != nil {
			return fmt.Errorf("query: %s: %w", q, err)
		}
		return m.addRegexp(q, re)
	case Regexp:
		if q.Field != field {
			return nil
		}
		if err := checkRegexp(q.Pattern); err != nil {
			return fmt.Errorf("query: %s: %w", q, err)
		}
		return m.addRegexp(q, q.Pattern)
	}
	return nil
}

// addRegexp adds a predicate matching whole terms against pattern.
func (m *hlMatcher) addRegexp(q Query, pattern string) error {
	re, err := stdregexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return fmt.Errorf("query: %s: %w", q, err)
	}
	m.preds = append(m.preds, re.MatchString)
	return nil
}

// markPhrase marks the tokens that take part in a match of p: a choice of
// one token per phrase term whose positions, each shifted back by its
// term's offset in the phrase, spread over at most p.Slop (all equal for an
// exact phrase: the terms stand at consecutive positions, or at the
// phrase's own relative positions).
func markPhrase(p Phrase, toks []hlToken, marked []bool) {
	offset := func(k int) int {
		if p.Positions != nil {
			return p.Positions[k]
		}
		return k
	}
	// shifted[k] lists the shifted positions of the tokens of term k.
	shifted := make([][]int, len(p.Terms))
	for k, term := range p.Terms {
		for _, t := range toks {
			if t.term == term {
				shifted[k] = append(shifted[k], t.pos-offset(k))
			}
		}
		if len(shifted[k]) == 0 {
			return
		}
		sort.Ints(shifted[k])
	}
	// A sloppy phrase's repeated term takes a different token for each
	// occurrence (as the engine matches it): group[k] lists the
	// occurrences of term k by offset when it repeats, else nil.
	slop := max(p.Slop, 0)
	group := make([][]int, len(p.Terms))
	if slop > 0 {
		for k, term := range p.Terms {
			for j, other := range p.Terms {
				if other == term && j != k {
					group[k] = append(group[k], j)
				}
			}
			if group[k] != nil {
				group[k] = append(group[k], k)
				sort.SliceStable(group[k], func(a, b int) bool { return offset(group[k][a]) < offset(group[k][b]) })
			}
		}
	}
	// inWindow reports whether every term has a token shifted into
	// [w, w+slop], with occurrence forced of a repeated term on the token
	// at position at, and the other occurrences on distinct other tokens.
	inWindow := func(w, forced, at int) bool {
		for k, s := range shifted {
			if group[k] != nil {
				if group[k][0] != k {
					continue // the group is checked once, at its first occurrence
				}
				// Occurrence m accepts positions [w+offset(m), w+offset(m)+slop]:
				// intervals of one length, in order, so giving each the
				// least free position it accepts finds distinct ones when
				// any exist.
				taken := -1 // the forced occurrence's position, if in this group
				if slices.Contains(group[k], forced) {
					taken = at
				}
				j := 0 // into s, term k's positions shifted by offset(k)
				for _, m := range group[k] {
					if m == forced {
						continue
					}
					lo := w + offset(m)
					for j < len(s) && (s[j]+offset(k) < lo || s[j]+offset(k) == taken) {
						j++
					}
					if j == len(s) || s[j]+offset(k) > lo+slop {
						return false
					}
					j++
				}
				continue
			}
			i := sort.SearchInts(s, w)
			if i == len(s) || s[i] > w+slop {
				return false
			}
		}
		return true
	}
	for i, t := range toks {
		for k, term := range p.Terms {
			if t.term != term {
				continue
			}
			s := t.pos - offset(k)
			for w := s - slop; w <= s; w++ {
				if inWindow(w, k, t.pos) {
					marked[i] = true
					break
				}
			}
		}
	}
}
