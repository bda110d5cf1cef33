package segment

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// ErrAutomatonBudget is wrapped by the error of a term walk whose regular
// expression needed more automaton states or work than its budget.
var ErrAutomatonBudget = errors.New("segment: regular expression automaton over its budget")

// Default budgets of a RegexpAutomaton. A state costs about 1 KB (its
// transition table) and a unit of work one NFA instruction visited while
// computing a transition, so the defaults bound a walk to about 10 MB and
// tens of milliseconds of determinization, whatever the pattern.
const (
	DefaultRegexpMaxStates = 10000
	DefaultRegexpMaxWork   = 2_000_000
	// maxRegexpProgram bounds the compiled pattern, in NFA instructions.
	maxRegexpProgram = 20000
)

// RegexpLimits bounds the determinization of a RegexpAutomaton; a zero
// field means its default.
type RegexpLimits struct {
	MaxStates int // distinct DFA states built
	MaxWork   int // NFA instructions visited while building transitions
}

// RegexpAutomaton is a byte automaton (vellum.Automaton) accepting the
// terms that a regular expression (Go's RE2 syntax, Perl flags) matches
// entirely. vellum's regexp package builds the whole DFA up front, over
// every UTF-8 byte sequence of every character class: `\pL{2,5}` costs
// seconds. Here the DFA is built lazily: a state is a set of NFA
// instructions of Go's compiled program plus the bytes of a character
// not yet complete, and a transition is computed the first time the
// walk of the term dictionary takes it, so the work follows the
// dictionary paths the pattern can still accept, never the size of the
// pattern's language. Past its budget (RegexpLimits) every transition
// leads to the dead state, which ends the walk, and Err reports it.
//
// Terms that are not valid UTF-8 never match. Anchors and word boundaries
// never match (the query parser refuses them). A RegexpAutomaton caches
// its states and is not safe for concurrent use.
type RegexpAutomaton struct {
	pattern string
	prog    *syntax.Prog
	lim     RegexpLimits
	states  []dfaState
	ids     map[string]int // state key -> id
	work    int
	err     error

	// scratch for closures
	mark  []uint32 // generation per instruction
	gen   uint32
	stack []uint32
	key   []byte
}

// dfaState is one lazily built state. State 0 is dead.
type dfaState struct {
	pcs     []uint32 // rune instructions and Match, sorted
	partial []byte   // leading bytes of a character not yet complete
	match   bool
	next    *[256]int32 // transitions, id+1; 0 not yet computed
}

// NewRegexpAutomaton compiles pattern; it builds only the start state.
func NewRegexpAutomaton(pattern string, lim RegexpLimits) (*RegexpAutomaton, error) {
	if lim.MaxStates <= 0 {
		lim.MaxStates = DefaultRegexpMaxStates
	}
	if lim.MaxWork <= 0 {
		lim.MaxWork = DefaultRegexpMaxWork
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	if len(prog.Inst) > maxRegexpProgram {
		return nil, fmt.Errorf("%w: %d instructions compiled, at most %d", ErrAutomatonBudget, len(prog.Inst), maxRegexpProgram)
	}
	a := &RegexpAutomaton{pattern: pattern, prog: prog, lim: lim, ids: map[string]int{},
		mark: make([]uint32, len(prog.Inst))}
	a.states = append(a.states, dfaState{}) // dead
	a.ids[""] = 0
	a.addClosure(uint32(prog.Start))
	a.intern(a.stack, nil) // state 1, unless the pattern matches nothing
	return a, nil
}

// Err is the budget error of the walks so far, or nil.
func (a *RegexpAutomaton) Err() error { return a.err }

// States is the number of DFA states built, the dead one included.
func (a *RegexpAutomaton) States() int { return len(a.states) }

// Work is the NFA instructions visited while building transitions.
func (a *RegexpAutomaton) Work() int { return a.work }

// Start is the start state: 1, or 0 when the pattern matches nothing.
func (a *RegexpAutomaton) Start() int {
	if len(a.states) > 1 {
		return 1
	}
	return 0
}

// IsMatch reports whether the bytes read so far are a term the pattern matches.
func (a *RegexpAutomaton) IsMatch(s int) bool { return a.states[s].match }

// CanMatch is false only for the dead state: every other state holds an
// instruction that can still consume a character.
func (a *RegexpAutomaton) CanMatch(s int) bool { return s != 0 }

// WillAlwaysMatch is never claimed.
func (a *RegexpAutomaton) WillAlwaysMatch(int) bool { return false }

// Accept returns the state after reading b in state s.
func (a *RegexpAutomaton) Accept(s int, b byte) int {
	if s == 0 {
		return 0
	}
	st := &a.states[s]
	if st.next != nil {
		if n := st.next[b]; n != 0 {
			return int(n - 1)
		}
	}
	n := a.step(s, b)
	st = &a.states[s] // step may have grown the slice
	if a.err != nil {
		return 0 // not cached: a later walk must fail too
	}
	if st.next == nil {
		st.next = new([256]int32)
	}
	st.next[b] = int32(n + 1)
	return n
}

// step computes the transition of state s on byte b.
func (a *RegexpAutomaton) step(s int, b byte) int {
	if a.err != nil {
		return 0
	}
	st := a.states[s]
	buf := append(append(make([]byte, 0, 4), st.partial...), b)
	a.gen++
	a.stack = a.stack[:0]
	if !utf8.FullRune(buf) {
		// A valid prefix of a longer character: keep the instructions that
		// accept some character starting with it.
		lo, hi := prefixRange(buf)
		for _, pc := range st.pcs {
			a.work++
			if a.overlaps(&a.prog.Inst[pc], lo, hi) {
				a.stack = append(a.stack, pc)
			}
		}
		return a.intern(a.stack, buf)
	}
	r, size := utf8.DecodeRune(buf)
	if size != len(buf) || (r == utf8.RuneError && size == 1) {
		return 0 // not UTF-8
	}
	for _, pc := range st.pcs {
		a.work++
		in := &a.prog.Inst[pc]
		if in.Op != syntax.InstMatch && in.MatchRune(r) {
			a.addClosure(in.Out)
		}
	}
	return a.intern(a.stack, nil)
}

// addClosure adds pc and the instructions reachable from it without
// consuming a character to a.stack (the rune instructions and Match).
func (a *RegexpAutomaton) addClosure(pc uint32) {
	todo := []uint32{pc}
	for len(todo) > 0 {
		pc := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if a.mark[pc] == a.gen+1 {
			continue
		}
		a.mark[pc] = a.gen + 1
		a.work++
		in := &a.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			todo = append(todo, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop:
			todo = append(todo, in.Out)
		case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			a.stack = append(a.stack, pc)
		}
		// InstFail and InstEmptyWidth (anchors, boundaries) lead nowhere.
	}
}

// intern returns the id of the state (pcs, partial), building it within
// the budget.
func (a *RegexpAutomaton) intern(pcs []uint32, partial []byte) int {
	if len(pcs) == 0 {
		return 0
	}
	slices.Sort(pcs)
	pcs = slices.Compact(pcs)
	a.key = a.key[:0]
	a.key = append(a.key, byte(len(partial)))
	a.key = append(a.key, partial...)
	for _, pc := range pcs {
		a.key = append(a.key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	if id, ok := a.ids[string(a.key)]; ok {
		return id
	}
	if a.work > a.lim.MaxWork || len(a.states) >= a.lim.MaxStates {
		a.err = fmt.Errorf("%w: /%s/ needed more than %d states or %d steps of work; make the pattern simpler or more selective",
			ErrAutomatonBudget, a.pattern, a.lim.MaxStates, a.lim.MaxWork)
		return 0
	}
	st := dfaState{pcs: slices.Clone(pcs), partial: slices.Clone(partial)}
	if len(partial) == 0 {
		for _, pc := range pcs {
			if a.prog.Inst[pc].Op == syntax.InstMatch {
				st.match = true
			}
		}
	}
	a.states = append(a.states, st)
	a.ids[string(a.key)] = len(a.states) - 1
	return len(a.states) - 1
}

// prefixRange is a range of code points holding every character whose
// UTF-8 encoding starts with the valid, incomplete prefix p.
func prefixRange(p []byte) (lo, hi rune) {
	var n int
	switch {
	case p[0] >= 0xF0:
		n, lo = 4, rune(p[0]&0x07)
	case p[0] >= 0xE0:
		n, lo = 3, rune(p[0]&0x0F)
	default:
		n, lo = 2, rune(p[0]&0x1F)
	}
	for _, c := range p[1:] {
		lo = lo<<6 | rune(c&0x3F)
	}
	rest := 6 * (n - len(p))
	lo <<= rest
	return lo, lo | (1<<rest - 1)
}

// overlaps reports whether the instruction may accept a character in
// [lo, hi].
func (a *RegexpAutomaton) overlaps(in *syntax.Inst, lo, hi rune) bool {
	switch in.Op {
	case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return true
	case syntax.InstRune1, syntax.InstRune:
		rs := in.Rune
		if len(rs) == 1 {
			r0 := rs[0]
			if lo <= r0 && r0 <= hi {
				return true
			}
			if syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
				for r := unicode.SimpleFold(r0); r != r0; r = unicode.SimpleFold(r) {
					if lo <= r && r <= hi {
						return true
					}
				}
			}
			return false
		}
		for i := 0; i+1 < len(rs); i += 2 {
			if rs[i] <= hi && lo <= rs[i+1] {
				return true
			}
		}
	}
	return false
}
