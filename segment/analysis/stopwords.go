package analysis

import (
	"bufio"
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// stopFiles holds the stop-word lists, one file per language code; see
// stopwords/README.md for their source and licence.
//
//go:embed stopwords/*.txt
var stopFiles embed.FS

// StopWordSet is an immutable set of terms that a StopWords filter drops.
// It is safe for concurrent use.
type StopWordSet struct {
	words map[string]struct{}
}

// NewStopWordSet returns a set holding words, compared byte for byte with the
// terms of the stream: give them in the form the stream has at the filter
// (lowercase after SimpleTokenizer). Empty words are ignored.
func NewStopWordSet(words ...string) *StopWordSet {
	s := &StopWordSet{words: make(map[string]struct{}, len(words))}
	for _, w := range words {
		if w != "" {
			s.words[w] = struct{}{}
		}
	}
	return s
}

// Contains reports whether term is in the set.
func (s *StopWordSet) Contains(term []byte) bool {
	_, ok := s.words[string(term)] // the conversion does not allocate
	return ok
}

// Len returns the number of words in the set.
func (s *StopWordSet) Len() int { return len(s.words) }

// Words returns the words of the set, sorted.
func (s *StopWordSet) Words() []string {
	out := make([]string, 0, len(s.words))
	for w := range s.words {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// StopWords returns a Filter that drops the terms in set. Dropped terms keep
// their positions, so the positions of the terms after them do not change.
func StopWords(set *StopWordSet) Filter { return stopFilter{set} }

type stopFilter struct{ set *StopWordSet }

func (f stopFilter) Filter(tok Token, emit func(Token)) {
	if !f.set.Contains(tok.Term) {
		emit(tok)
	}
}

// stopLists parses every embedded list once, on first use.
var stopLists = sync.OnceValues(func() (map[string]*StopWordSet, error) {
	entries, err := stopFiles.ReadDir("stopwords")
	if err != nil {
		return nil, err
	}
	lists := make(map[string]*StopWordSet, len(entries))
	for _, e := range entries {
		if path.Ext(e.Name()) != ".txt" {
			continue
		}
		name := path.Join("stopwords", e.Name())
		data, err := stopFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		words, err := parseStopWords(name, string(data))
		if err != nil {
			return nil, err
		}
		lists[strings.TrimSuffix(e.Name(), ".txt")] = NewStopWordSet(words...)
	}
	return lists, nil
})

// parseStopWords reads one word per line; blank lines and lines starting
// with '#' are skipped.
func parseStopWords(name, data string) ([]string, error) {
	var words []string
	sc := bufio.NewScanner(strings.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		w := strings.TrimSpace(sc.Text())
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		if !utf8.ValidString(w) || strings.ContainsFunc(w, isSpaceRune) {
			return nil, fmt.Errorf("analysis: %s:%d: stop word %q is not one valid UTF-8 word", name, line, w)
		}
		words = append(words, w)
	}
	return words, sc.Err()
}

func isSpaceRune(r rune) bool { return r == ' ' || r == '\t' }

// StopWordsFor returns the built-in stop-word list of a language, by its
// ISO 639-1 code ("en", "de", ...; see StopWordLanguages). The lists are
// Snowball's, lowercase.
func StopWordsFor(lang string) (*StopWordSet, error) {
	lists, err := stopLists()
	if err != nil {
		return nil, fmt.Errorf("analysis: reading the embedded stop-word lists: %w", err)
	}
	set, ok := lists[lang]
	if !ok {
		return nil, fmt.Errorf("analysis: no stop-word list for language %q (have %s)", lang, strings.Join(StopWordLanguages(), ", "))
	}
	return set, nil
}

// StopWordLanguages returns the codes of the languages with a built-in
// stop-word list, sorted.
func StopWordLanguages() []string {
	lists, _ := stopLists()
	out := make([]string, 0, len(lists))
	for lang := range lists {
		out = append(out, lang)
	}
	slices.Sort(out)
	return out
}
