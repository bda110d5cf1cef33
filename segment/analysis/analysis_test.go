package analysis

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func mustGet(t testing.TB, name string) Tokenizer {
	t.Helper()
	tk, err := NewRegistry().Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestRawWhitespace(t *testing.T) {
	cases := []struct {
		tokenizer, text string
		want            []tok
	}{
		{"raw", "", nil},
		{"raw", "  Hello, World!  ", []tok{{"  Hello, World!  ", 0}}},
		{"raw", "ab\xffc", []tok{{"ab\uFFFDc", 0}}},
		{"raw_ci", "Hello WORLD Straße ÉCOLE", []tok{{"hello world straße école", 0}}},
		{"raw_ci", "ȺB", []tok{{"ⱥb", 0}}}, // lowercasing grows "Ⱥ" from 2 to 3 bytes
		{"raw_ci", "A\xffB", []tok{{"a\uFFFDb", 0}}},
		{"whitespace", "", nil},
		{"whitespace", " \t\n ", nil},
		{"whitespace", "Hello,  World!\tC++\ne-mail", []tok{{"Hello,", 0}, {"World!", 1}, {"C++", 2}, {"e-mail", 3}}},
		{"whitespace", "a\u00a0b\u3000c\u2028d\u0085e", []tok{{"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}, {"e", 4}}},
		{"whitespace", "東京 タワー", []tok{{"東京", 0}, {"タワー", 1}}},
		{"whitespace", "x\xff y", []tok{{"x\uFFFD", 0}, {"y", 1}}},
	}
	for _, c := range cases {
		got := tokens(mustGet(t, c.tokenizer), c.text)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s(%q) = %v, want %v", c.tokenizer, c.text, got, c.want)
		}
	}
}

func TestStopWordsKeepPositions(t *testing.T) {
	got := tokens(mustGet(t, "en_stop"), "The quick fox jumped over the lazy dog")
	want := []tok{{"quick", 1}, {"fox", 2}, {"jumped", 3}, {"lazy", 6}, {"dog", 7}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Stop words, then stems, positions unchanged.
	got = tokens(mustGet(t, "en"), "The runner was running and the dogs were barking")
	want = []tok{{"runner", 1}, {"run", 3}, {"dog", 6}, {"bark", 8}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("en: got %v, want %v", got, want)
	}
	got = tokens(mustGet(t, "de"), "Die Häuser und die Katzen")
	want = []tok{{"haus", 1}, {"katz", 4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("de: got %v, want %v", got, want)
	}
}

// stemCases come from Snowball's reference vocabularies (snowball-data,
// <language>/voc.txt and output.txt): word, stem, word, stem, ...
var stemCases = []struct {
	lang  string
	pairs []string
}{
	{"en", []string{"running", "run", "runs", "run", "consigned", "consign", "generously", "generous", "happiness", "happi", "connection", "connect", "knack", "knack"}},
	{"de", []string{"aufeinanderfolgende", "aufeinanderfolg", "kategorien", "kategori", "häuser", "haus", "laufen", "lauf", "beschäftigung", "beschaft", "katze", "katz"}},
	{"fr", []string{"continuellement", "continuel", "débats", "débat", "annales", "annal", "certifiera", "certifi", "manger", "mang"}},
	{"es", []string{"agilidad", "agil", "aparentar", "aparent", "completadas", "complet", "corriendo", "corr"}},
	{"ru", []string{"волости", "волост", "блонды", "блонд", "взысканий", "взыскан", "всхлипывая", "всхлипыв", "книги", "книг"}},
	{"sv", []string{"fangen", "fang", "basilisken", "basilisk", "bleknade", "blekn", "decemberstormen", "decemberstorm"}},
	{"it", []string{"angosce", "angosc", "bubbole", "bubbol", "affissioni", "affission", "cederlo", "ced"}},
	{"nl", []string{"concurrentieregels", "concurrentieregel", "hoofdstukken", "hoofdstuk", "heesters", "heester"}},
	{"pt", []string{"agitada", "agit", "anunciada", "anunc", "assumindo", "assum", "benigno", "benign"}},
	{"da", []string{"barmhjerlighed", "barmhjer", "forfølgere", "forfølg", "haltende", "halt"}},
	{"no", []string{"begivenhet", "begiven", "grensen", "grens", "ildlandet", "ildland"}},
	{"fi", []string{"ainaiseksi", "ainais", "albaanien", "albaan", "aluekeskusten", "aluekeskust"}},
	{"hu", []string{"bajnokságokon", "bajnokság", "akadémiára", "akadém", "betéved", "betév"}},
	{"ro", []string{"aducea", "aduc", "alexandrinul", "alexandrin", "arătător", "arăt"}},
	{"tr", []string{"anlayacaktır", "anlayacak", "atıktan", "atık", "abdulhamid", "abdulhamidi"}}, // a stem longer than its word
}

func TestStemmers(t *testing.T) {
	for _, c := range stemCases {
		tk := mustGet(t, c.lang+"_stem")
		for i := 0; i < len(c.pairs); i += 2 {
			word, want := c.pairs[i], c.pairs[i+1]
			// Twice: the second answer comes from the stem cache.
			for range 2 {
				_, size := utf8.DecodeRuneInString(word)
				got := tokens(tk, strings.ToUpper(word[:size])+word[size:])
				if len(got) != 1 || got[0].term != want || got[0].pos != 0 {
					t.Errorf("%s_stem(%q) = %v, want [{%s 0}]", c.lang, word, got, want)
				}
			}
		}
	}
}

func TestStemmerLanguages(t *testing.T) {
	want := "da de en es fi fr hu it nl no pt ro ru sv tr"
	if got := strings.Join(StemmerLanguages(), " "); got != want {
		t.Errorf("StemmerLanguages() = %s, want %s", got, want)
	}
	_, err := Stemmer("xx")
	if err == nil || !strings.Contains(err.Error(), `"xx"`) || !strings.Contains(err.Error(), "en") {
		t.Errorf("Stemmer(xx) error = %v, want one naming xx and the languages", err)
	}
}

// A stem longer than its word (Turkish has some) must not be written past
// the term (Token's contract), and the stem cache must never hand out the
// wrong stem.
func TestStemmerLongerOutputAndCache(t *testing.T) {
	for lang, words := range map[string][]string{
		"en": {"running", "runs", "ran", "generously", "happiness", "a", "sky", "skies", "dying", "news", "'s"},
		"tr": {"ababd", "abdulhamid", "abdülhamid", "anlayacaktır", "atıktan"},
	} {
		f, err := Stemmer(lang)
		if err != nil {
			t.Fatal(err)
		}
		uncached := func(w string) string {
			g, _ := Stemmer(lang) // a fresh filter has an empty cache
			var out string
			g.Filter(Token{Term: []byte(w)}, func(tk Token) { out = string(tk.Term) })
			return out
		}
		rng := rand.New(rand.NewSource(2))
		for range 1000 {
			w := words[rng.Intn(len(words))]
			buf := []byte(w + "|guard")
			var got string
			f.Filter(Token{Term: buf[:len(w)]}, func(tk Token) { got = string(tk.Term) })
			if want := uncached(w); got != want {
				t.Fatalf("%s: stem(%q) = %q, want %q", lang, w, got, want)
			}
			if string(buf[len(w):]) != "|guard" {
				t.Fatalf("%s: stem(%q) wrote past the term", lang, w)
			}
		}
	}
}

func TestStopWordLists(t *testing.T) {
	langs := StopWordLanguages()
	want := "da de en es fi fr hu it nl no pt ru sv"
	if got := strings.Join(langs, " "); got != want {
		t.Fatalf("StopWordLanguages() = %s, want %s", got, want)
	}
	for _, lang := range langs {
		set, err := StopWordsFor(lang)
		if err != nil {
			t.Fatal(err)
		}
		if set.Len() < 50 {
			t.Errorf("%s: only %d stop words", lang, set.Len())
		}
		// Every stop word must be reachable: simple turns it into exactly
		// itself, or the filter could never drop it.
		for _, w := range set.Words() {
			if got := terms(SimpleTokenizer{}, w); len(got) != 1 || got[0] != w {
				t.Errorf("%s: stop word %q tokenizes to %q", lang, w, got)
			}
		}
		if _, ok := stemFuncs[lang]; !ok {
			t.Errorf("%s has stop words but no stemmer, so no %q tokenizer", lang, lang)
		}
	}
	if _, err := StopWordsFor("xx"); err == nil || !strings.Contains(err.Error(), `"xx"`) {
		t.Errorf("StopWordsFor(xx) error = %v, want one naming xx", err)
	}
	en, _ := StopWordsFor("en")
	for _, w := range []string{"the", "and", "don't", "i"} {
		if !en.Contains([]byte(w)) {
			t.Errorf("en stop words lack %q", w)
		}
	}
	if en.Contains([]byte("fox")) {
		t.Error(`en stop words contain "fox"`)
	}
}

func TestParseStopWordsRejectsBadLines(t *testing.T) {
	_, err := parseStopWords("stopwords/xx.txt", "# comment\nok\ntwo words\n")
	if err == nil || !strings.Contains(err.Error(), "stopwords/xx.txt:3") {
		t.Errorf("error = %v, want one naming stopwords/xx.txt:3", err)
	}
	words, err := parseStopWords("x", "# c\n\n  a \nb\n")
	if err != nil || strings.Join(words, ",") != "a,b" {
		t.Errorf("got %q, %v; want [a b]", words, err)
	}
}

func TestChainAndFilters(t *testing.T) {
	stem, err := Stemmer("en")
	if err != nil {
		t.Fatal(err)
	}
	custom := Chain(WhitespaceTokenizer{}, LowerCase(), StopWords(NewStopWordSet("the", "a")), stem)
	got := tokens(custom, "The CATS chased A ȺBC-mouse")
	want := []tok{{"cat", 1}, {"chase", 2}, {"ⱥbc-mous", 4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if Chain(SimpleTokenizer{}) != (SimpleTokenizer{}) {
		t.Error("Chain without filters should return its base")
	}
	// A filter may also add tokens: each term emitted twice.
	dup := FilterFunc(func(tk Token, emit func(Token)) { emit(tk); emit(tk) })
	got = tokens(Chain(SimpleTokenizer{}, dup), "a b")
	want = []tok{{"a", 0}, {"a", 0}, {"b", 1}, {"b", 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dup: got %v, want %v", got, want)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	names := r.Names()
	for _, want := range []string{"simple", "raw", "raw_ci", "whitespace", "en", "en_stem", "en_stop", "ru", "ro_stem", "tr_stem"} {
		if _, err := r.Get(want); err != nil {
			t.Errorf("Get(%q): %v", want, err)
		}
	}
	if _, err := r.Get("ro"); err == nil {
		t.Error(`Get("ro") succeeded, but there is no Romanian stop-word list`)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("Names() not sorted: %q before %q", names[i-1], names[i])
		}
	}

	_, err := r.Get("klingon")
	if !errors.Is(err, ErrUnknownTokenizer) {
		t.Fatalf("Get(klingon) error = %v, want ErrUnknownTokenizer", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"klingon"`) || !strings.Contains(msg, "simple") || !strings.Contains(msg, "whitespace") {
		t.Errorf("error %q should name the tokenizer and list the known ones", msg)
	}

	shout := TokenizerFunc(func(text string, emit func(Token)) {
		WhitespaceTokenizer{}.Tokenize(strings.ToUpper(text), emit)
	})
	if err := r.Register("shout", shout); err != nil {
		t.Fatal(err)
	}
	tk, err := r.Get("shout")
	if err != nil {
		t.Fatal(err)
	}
	if got := terms(tk, "hi there"); !equal(got, []string{"HI", "THERE"}) {
		t.Errorf("shout = %q", got)
	}
	if _, err := NewRegistry().Get("shout"); err == nil {
		t.Error("a registration leaked into another registry")
	}
	for _, c := range []struct {
		name string
		t    Tokenizer
		want string
	}{
		{"shout", shout, `"shout" is already registered`},
		{"simple", shout, `"simple" is already registered`},
		{"", shout, "empty name"},
		{"nil", nil, `nil tokenizer as "nil"`},
	} {
		if err := r.Register(c.name, c.t); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Register(%q) error = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestZeroRegistry(t *testing.T) {
	var r Registry
	if _, err := r.Get("simple"); !errors.Is(err, ErrUnknownTokenizer) {
		t.Errorf("empty registry: Get(simple) error = %v", err)
	}
	if err := r.Register("mine", SimpleTokenizer{}); err != nil {
		t.Fatal(err)
	}
	if names := r.Names(); len(names) != 1 || names[0] != "mine" {
		t.Errorf("Names() = %q, want [mine]", names)
	}
}

// Every built-in, shared by many goroutines (run with -race): each goroutine
// must see exactly what a lone caller sees.
func TestConcurrentUse(t *testing.T) {
	r := NewRegistry()
	texts := []string{
		"The runners were running through Straße and naïve cafés",
		"Привет, мир! Книги и волости. 東京タワー",
		"don't e-mail C++ https://example.com/a_b 3.14 ȺB",
		"Die Häuser und die Katzen laufen",
		strings.Repeat("généreusement continuellement ", 20),
	}
	names := []string{"simple", "raw", "raw_ci", "whitespace", "en", "en_stem", "de", "fr", "ru", "ru_stop"}
	want := map[string][]tok{}
	for _, n := range names {
		for _, x := range texts {
			want[n+"\x00"+x] = tokens(mustGet(t, n), x)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(g)))
			for range 300 {
				n, x := names[rng.Intn(len(names))], texts[rng.Intn(len(texts))]
				tk, err := r.Get(n)
				if err != nil {
					errs <- err.Error()
					return
				}
				if got := tokens(tk, x); fmt.Sprint(got) != fmt.Sprint(want[n+"\x00"+x]) {
					errs <- fmt.Sprintf("%s(%q) = %v, want %v", n, x, got, want[n+"\x00"+x])
					return
				}
			}
		}()
	}
	// Registration races with lookups too.
	for i := range 20 {
		if err := r.Register(fmt.Sprintf("custom%d", i), SimpleTokenizer{}); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestBuiltinInvariants(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	r := NewRegistry()
	for range 2000 {
		var sb strings.Builder
		for range rng.Intn(16) {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
		for _, n := range r.Names() {
			tk, _ := r.Get(n)
			checkInvariants(t, tk, sb.String())
		}
	}
}

func TestAppendLower(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"ABC xyz":    "abc xyz",
		"ÀÉÎÕÜ":      "àéîõü",
		"ȺȾ":         "ⱥⱦ",
		"a\xffB":     "a\uFFFDb",
		"ΣΑΣ":        "σασ",
		"ǅ":          "ǆ",
		"\U0001D400": "\U0001D400", // MATHEMATICAL BOLD CAPITAL A has no lowercase
	} {
		got := appendLower(nil, []byte(in))
		if string(got) != want || !utf8.Valid(got) {
			t.Errorf("appendLower(%q) = %q, want %q", in, got, want)
		}
	}
}
