package segment

import (
	"bytes"
	"errors"
	"math/rand"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/blevesearch/vellum"
)

// This file checks RegexpAutomaton against Go's regexp package over term
// dictionaries (vellum FSTs), and that hostile patterns cost little work
// or fail with ErrAutomatonBudget.

// buildFST builds an FST of the distinct terms.
func buildFST(t *testing.T, terms []string) *vellum.FST {
	t.Helper()
	terms = append([]string(nil), terms...)
	sort.Strings(terms)
	var buf bytes.Buffer
	b, err := vellum.New(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, term := range terms {
		if i > 0 && terms[i-1] == term {
			continue
		}
		if err := b.Insert([]byte(term), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := vellum.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// walk returns the terms of f that a accepts, as TermsMatching walks them.
func walk(t *testing.T, f *vellum.FST, a *RegexpAutomaton) ([]string, error) {
	t.Helper()
	var got []string
	it, err := f.Search(a, nil, nil)
	for err == nil {
		term, _ := it.Current()
		got = append(got, string(term))
		err = it.Next()
	}
	if !errors.Is(err, vellum.ErrIteratorDone) {
		t.Fatal(err)
	}
	return got, a.Err()
}

// bruteForce returns the terms the pattern matches entirely, by Go's regexp.
func bruteForce(pattern string, terms []string) []string {
	re := regexp.MustCompile(`^(?:` + pattern + `)$`)
	set := map[string]bool{}
	for _, t := range terms {
		if re.MatchString(t) {
			set[t] = true
		}
	}
	var out []string
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func randomTerms(r *rand.Rand, n int) []string {
	alphabet := []rune("abcxyzAZ019_.éÉßσΣςж中文😀\u212a")
	terms := make([]string, n)
	for i := range terms {
		rs := make([]rune, 1+r.Intn(7))
		for j := range rs {
			rs[j] = alphabet[r.Intn(len(alphabet))]
		}
		terms[i] = string(rs)
	}
	return terms
}

func TestRegexpAutomatonMatchesGoRegexp(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	terms := randomTerms(r, 3000)
	f := buildFST(t, terms)
	patterns := []string{
		`a.*`, `.*z`, `.`, `..`, `.{2,4}`, `[a-c]+`, `[^a-c]+`, `\pL+`, `\PL.*`, `\p{Greek}+.*`,
		`(?i)a.*`, `(?i)σ.*`, `(?i)k.*`, `(?i)ß+`, `é|É|中.*`, `[é-ж]+`, `[^é]*`, `(ab|xy|中文)*`,
		`😀.?`, `.*😀`, `(?s).`, `\w+`, `\d+`, `[[:alpha:]]{3}`, `x?y?z?`, `(a|b)*a(a|b){2}`,
		`[^\x00-\x{10FFFF}]`, `a{0}`, `(?:)`, `.*[^a].*`,
	}
	for _, p := range patterns {
		a, err := NewRegexpAutomaton(p, RegexpLimits{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got, err := walk(t, f, a)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		want := bruteForce(p, terms)
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("/%s/: %d terms, brute force %d\ngot  %q\nwant %q", p, len(got), len(want), got, want)
		}
		// A second walk runs on the cached states and agrees.
		again, _ := walk(t, f, a)
		if strings.Join(again, "\x00") != strings.Join(got, "\x00") {
			t.Fatalf("/%s/: second walk differs", p)
		}
	}
}

func TestRegexpAutomatonRejectsInvalidUTF8(t *testing.T) {
	a, err := NewRegexpAutomaton(`.*`, RegexpLimits{})
	if err != nil {
		t.Fatal(err)
	}
	f := buildFST(t, []string{"ok", "a\xffb", "\xc3", "\xe0\x80\x80", "\xed\xa0\x80", "é"})
	got, err := walk(t, f, a)
	if err != nil || strings.Join(got, ",") != "ok,é" {
		t.Fatalf("got %q, %v; want only the valid terms", got, err)
	}
}

// hostileDictionary is every string of a, b and é up to 7 characters: a
// dictionary on which a pattern's whole DFA is reachable.
func hostileDictionary() []string {
	out := []string{""}
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		if n == 0 {
			return
		}
		for _, c := range []string{"a", "b", "é"} {
			out = append(out, prefix+c)
			grow(prefix+c, n-1)
		}
	}
	grow("", 7)
	return out
}

func TestRegexpAutomatonHostilePatternsCostLittle(t *testing.T) {
	dict := hostileDictionary()
	f := buildFST(t, dict)
	// vellum's eager construction of `\pL{2,5}` takes seconds: it builds
	// the UTF-8 DFA of every letter of Unicode. Lazily, the work follows
	// the dictionary.
	for _, p := range []string{`\pL{2,5}`, `[\pL\pN]{1,7}`, `(?i)\pL*\p{Greek}{0,3}`, `.{0,40}`, `.*.*.*.*b`, `(\pL|\pN|.)*é`} {
		a, err := NewRegexpAutomaton(p, RegexpLimits{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got, err := walk(t, f, a)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if want := bruteForce(p, dict); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("/%s/: %d terms, brute force %d", p, len(got), len(want))
		}
		if a.Work() > 20000 || a.States() > 200 {
			t.Errorf("/%s/: %d steps of work and %d states for a %d-term dictionary", p, a.Work(), a.States(), len(dict))
		}
	}
}

func TestRegexpAutomatonBudget(t *testing.T) {
	f := buildFST(t, hostileDictionary())
	// The n-th character from the end is an a: the minimal DFA has 2^(n+1)
	// states, all reachable on this dictionary.
	for _, lim := range []RegexpLimits{{MaxStates: 50}, {MaxWork: 1000}} {
		a, err := NewRegexpAutomaton(`(a|b)*a(a|b){5}`, lim)
		if err != nil {
			t.Fatal(err)
		}
		_, err = walk(t, f, a)
		if !errors.Is(err, ErrAutomatonBudget) {
			t.Fatalf("%+v: %v, want ErrAutomatonBudget", lim, err)
		}
		// One transition's work (a closure) past the budget at most.
		if (lim.MaxStates > 0 && a.States() > lim.MaxStates) || (lim.MaxWork > 0 && a.Work() > lim.MaxWork+100) {
			t.Fatalf("%+v: went on to %d states, %d work", lim, a.States(), a.Work())
		}
		// It keeps failing rather than answering partly.
		if _, err := walk(t, f, a); !errors.Is(err, ErrAutomatonBudget) {
			t.Fatalf("second walk: %v", err)
		}
	}
	// Within the default budget the same pattern answers.
	a, _ := NewRegexpAutomaton(`(a|b)*a(a|b){5}`, RegexpLimits{})
	if _, err := walk(t, f, a); err != nil {
		t.Fatal(err)
	}
}
