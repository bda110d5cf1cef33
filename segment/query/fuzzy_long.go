package query

import (
	"fmt"
	"unicode/utf8"

	"github.com/blevesearch/vellum"
	"github.com/blevesearch/vellum/levenshtein"
	"github.com/hermes-search/hermes-go/segment"
)

// fuzzyDFARunes is the longest Fuzzy term matched with vellum's
// precomputed Levenshtein DFA. Its size grows with the term (about 70 KB a
// character at distance 2), so a longer term is matched another way:
// the term dictionary is walked for the terms whose length in bytes allows
// a match (at least len-distance bytes: such terms are rare), and each is
// checked by computing its edit distance, in time proportional to the
// term's length times the distance.
const fuzzyDFARunes = 256

// fuzzyMatcher finds the terms within a Fuzzy query's distance and their
// distance, with the Levenshtein DFA for short terms and by computing the
// distance for long ones. Both count distance as vellum's DFA with
// transpositions does: the optimal string alignment distance over code
// points (an adjacent transposition is one edit; no substring is edited
// twice).
type fuzzyMatcher struct {
	dfa      *levenshtein.DFA // nil for a long term
	term     []rune
	distance int
}

func newFuzzyMatcher(q Fuzzy) (*fuzzyMatcher, error) {
	n := utf8.RuneCountInString(q.Term)
	if n > MaxFuzzyTermRunes {
		return nil, fmt.Errorf("query: fuzzy term of %d characters; at most %d can be searched fuzzily (no indexed term is longer than %d bytes)", n, MaxFuzzyTermRunes, segment.MaxTermBytes)
	}
	m := &fuzzyMatcher{term: []rune(q.Term), distance: q.Distance}
	if n <= fuzzyDFARunes {
		dfa, err := levenshteinDFA(q.Term, q.Distance)
		if err != nil {
			return nil, fmt.Errorf("query: %s: building its automaton: %w", q, err)
		}
		// vellum's DFA misses matches for some terms, the term itself
		// included (for "ab" repeated 9 times at distance 1): such a
		// term is matched as a long one is.
		if ok, d := dfa.MatchAndDistance(q.Term); ok && d == 0 {
			m.dfa = dfa
		}
	}
	return m, nil
}

// automaton accepts every term within the distance: the DFA, or for a long
// term an automaton on byte lengths (a superset, checked by match).
func (m *fuzzyMatcher) automaton() vellum.Automaton {
	if m.dfa != nil {
		return m.dfa
	}
	// A match has at least len-distance code points, so at least as many
	// bytes, and at most len+distance, so at most 4 times as many bytes.
	return &byteLengthAutomaton{lo: len(m.term) - m.distance, hi: min(4*(len(m.term)+m.distance), segment.MaxTermBytes)}
}

// match reports whether t is within the distance, and its distance.
func (m *fuzzyMatcher) match(t string) (bool, int) {
	if m.dfa != nil {
		ok, d := m.dfa.MatchAndDistance(t)
		return ok, int(d)
	}
	d := boundedOSADistance(m.term, []rune(t), m.distance)
	return d <= m.distance, d
}

// byteLengthAutomaton accepts the terms of lo to hi bytes. Its state is
// the number of bytes read, hi+1 past hi (a dead state).
type byteLengthAutomaton struct{ lo, hi int }

func (a *byteLengthAutomaton) Start() int                 { return 0 }
func (a *byteLengthAutomaton) IsMatch(s int) bool         { return s >= a.lo && s <= a.hi }
func (a *byteLengthAutomaton) CanMatch(s int) bool        { return s <= a.hi }
func (a *byteLengthAutomaton) WillAlwaysMatch(s int) bool { return false }
func (a *byteLengthAutomaton) Accept(s int, _ byte) int   { return min(s+1, a.hi+1) }

// boundedOSADistance is the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and transpositions of adjacent
// code points, each one edit), or max+1 if it is more than max. Only the
// diagonal band of width 2*max+1 is computed: O(len(a) * max) time.
func boundedOSADistance(a, b []rune, max int) int {
	if abs(len(a)-len(b)) > max {
		return max + 1
	}
	over := max + 1
	// Rows i-2, i-1 and i of the table d[i][j], j in 0..len(b). A row is
	// computed in its band, j in [i-max, i+max], and the cells just outside
	// the band, which the next row reads, hold over.
	prev2 := make([]int, len(b)+2)
	prev := make([]int, len(b)+2)
	cur := make([]int, len(b)+2)
	for j := range prev {
		prev[j] = min(j, over)
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max0(i-max), min(i+max, len(b))
		if lo > 0 {
			cur[lo-1] = over
		}
		cur[hi+1] = over
		rowMin := over
		for j := lo; j <= hi; j++ {
			if j == 0 {
				cur[0] = i
				rowMin = min(rowMin, i)
				continue
			}
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = min(v, over)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > max {
			return over
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func max0(x int) int {
	if x < 0 {
		return 0
	}
	return x
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
