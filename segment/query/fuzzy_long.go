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
// character at distance 2), so a longer term is matched with an
// osaAutomaton, which computes the edit distance as it walks the term
// dictionary and leaves every path as soon as no term below it can be
// within the distance: the walk visits the prefixes within the distance
// of the term's prefix, not the whole dictionary.
const fuzzyDFARunes = 256

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
// term an osaAutomaton.
func (m *fuzzyMatcher) automaton() vellum.Automaton {
	if m.dfa != nil {
		return m.dfa
	}
	return newOSAAutomaton(m.term, m.distance)
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

// osaAutomaton is a byte automaton (vellum.Automaton) accepting the terms
// within max edits of q, counted as boundedOSADistance counts them. A
// state is a row of that function's table: after a term prefix of i code
// points, the distances d[i][j] between the prefix and q[:j], kept for j
// in the band i-max .. i+max (outside it they exceed max), with the row
// before it (for transpositions), the prefix's last code point, and the
// bytes of a code point not yet complete. A state whose row holds nothing
// within max is dead: no term below it can match, so the walk of the term
// dictionary leaves that path. This bounds the walk to the prefixes within
// max edits of a prefix of q, and to terms of at most len(q)+max code
// points.
//
// States are computed on each transition, never cached; Start begins a new
// walk and drops the states of the last one. It is not safe for
// concurrent use.
type osaAutomaton struct {
	q     []rune
	max   int
	width int // cells of a row: 2*max+1
	// State s (s >= 1; 0 is dead) is rows[s*2*width:] (its row, then the
	// row before it) and meta[s].
	rows []uint8
	meta []osaState
}

type osaState struct {
	i       int32 // code points read
	last    rune  // the last of them
	partial [3]byte
	npart   uint8
}

func newOSAAutomaton(q []rune, max int) *osaAutomaton {
	a := &osaAutomaton{q: q, max: max, width: 2*max + 1}
	a.Start()
	return a
}

// over is the value of every cell beyond max.
func (a *osaAutomaton) over() uint8 { return uint8(a.max + 1) }

// cell returns d[i][j] from row, the band of row i, or over outside it.
func (a *osaAutomaton) cell(row []uint8, i, j int) uint8 {
	k := j - (i - a.max)
	if j < 0 || j > len(a.q) || k < 0 || k >= a.width {
		return a.over()
	}
	return row[k]
}

// Start returns the start state (row 0: d[0][j] = j), dropping the states
// of the previous walk.
func (a *osaAutomaton) Start() int {
	w := a.width
	a.rows = a.rows[:0]
	a.meta = a.meta[:0]
	a.rows = append(a.rows, make([]uint8, 4*w)...) // the dead state and state 1
	a.meta = append(a.meta, osaState{}, osaState{})
	row, prev := a.rows[2*w:3*w], a.rows[3*w:4*w]
	for k := range w {
		row[k] = a.over()
		prev[k] = a.over()
		if j := k - a.max; j >= 0 && j <= len(a.q) {
			row[k] = uint8(min(j, a.max+1))
		}
	}
	return 1
}

func (a *osaAutomaton) IsMatch(s int) bool {
	if s == 0 || a.meta[s].npart != 0 {
		return false
	}
	i := int(a.meta[s].i)
	return int(a.cell(a.rows[s*2*a.width:], i, len(a.q))) <= a.max
}

func (a *osaAutomaton) CanMatch(s int) bool        { return s != 0 }
func (a *osaAutomaton) WillAlwaysMatch(s int) bool { return false }

// Accept returns the state after reading b in state s: a new state
// holding one more byte of an incomplete code point, the next row, or the
// dead state.
func (a *osaAutomaton) Accept(s int, b byte) int {
	if s == 0 {
		return 0
	}
	st := a.meta[s]
	var buf [4]byte
	n := copy(buf[:], st.partial[:st.npart])
	buf[n] = b
	n++
	w := a.width
	if !utf8.FullRune(buf[:n]) {
		if n == 4 {
			return 0
		}
		next := st
		copy(next.partial[:], buf[:n])
		next.npart = uint8(n)
		a.meta = append(a.meta, next)
		a.rows = append(a.rows, a.rows[s*2*w:(s+1)*2*w]...)
		return len(a.meta) - 1
	}
	r, size := utf8.DecodeRune(buf[:n])
	if size != n || r == utf8.RuneError && size == 1 {
		return 0 // not UTF-8: never a match
	}
	// Row i+1 from row i (cur) and row i-1 (prev).
	i := int(st.i)
	base := len(a.rows)
	a.rows = append(a.rows, make([]uint8, 2*w)...)
	cur, prev := a.rows[s*2*w:s*2*w+w], a.rows[s*2*w+w:(s+1)*2*w]
	row := a.rows[base : base+w]
	copy(a.rows[base+w:base+2*w], cur)
	over := a.over()
	ni := i + 1
	alive := false
	for k := range w {
		j := ni - a.max + k
		v := over
		switch {
		case j < 0 || j > len(a.q):
		case j == 0:
			v = uint8(min(ni, int(over)))
		default:
			cost := uint8(1)
			if r == a.q[j-1] {
				cost = 0
			}
			v = min(a.cell(cur, i, j)+1, a.cell(cur, i, j-1)+cost, over)
			if k > 0 {
				v = min(v, row[k-1]+1)
			}
			if ni > 1 && j > 1 && r == a.q[j-2] && st.last == a.q[j-1] {
				v = min(v, a.cell(prev, i-1, j-2)+1)
			}
		}
		row[k] = v
		alive = alive || v <= uint8(a.max)
	}
	if !alive {
		a.rows = a.rows[:base]
		return 0
	}
	a.meta = append(a.meta, osaState{i: int32(ni), last: r})
	return len(a.meta) - 1
}

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
