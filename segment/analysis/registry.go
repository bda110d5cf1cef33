package analysis

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrUnknownTokenizer is wrapped by the error Registry.Get returns for a name
// that is not registered; test for it with errors.Is.
var ErrUnknownTokenizer = errors.New("unknown tokenizer")

// Registry maps names to tokenizers. A schema names the tokenizer of each
// text field, and the index resolves the name here. It is safe for
// concurrent use. NewRegistry returns one holding the built-ins; the zero
// value is an empty registry, ready to use.
type Registry struct {
	mu         sync.RWMutex
	tokenizers map[string]Tokenizer
}

// NewRegistry returns a registry holding the built-in tokenizers:
//
//	simple      Unicode words (UAX #29), lowercased
//	raw         the whole text as one token
//	raw_ci      the whole text as one token, lowercased
//	whitespace  runs of non-white-space, unchanged
//	<lang>_stem simple + Snowball stemmer, for each of StemmerLanguages
//	<lang>_stop simple + stop words removed, for each of StopWordLanguages
//	<lang>      simple + stop words removed + stemmer, for the languages
//	            that have both
func NewRegistry() *Registry {
	r := &Registry{tokenizers: make(map[string]Tokenizer)}
	for name, t := range builtins() {
		r.tokenizers[name] = t
	}
	return r
}

// builtins builds the built-in tokenizers once; they hold no mutable state,
// so every registry shares them.
var builtins = sync.OnceValue(func() map[string]Tokenizer {
	simple := SimpleTokenizer{}
	m := map[string]Tokenizer{
		"simple":     simple,
		"raw":        RawTokenizer{},
		"raw_ci":     RawTokenizer{LowerCase: true},
		"whitespace": WhitespaceTokenizer{},
	}
	for _, lang := range StemmerLanguages() {
		stem, err := Stemmer(lang)
		if err != nil {
			panic(err) // unreachable: lang comes from StemmerLanguages
		}
		m[lang+"_stem"] = Chain(simple, stem)
		if stop, err := StopWordsFor(lang); err == nil {
			m[lang+"_stop"] = Chain(simple, StopWords(stop))
			m[lang] = Chain(simple, StopWords(stop), stem)
		}
	}
	return m
})

// Register adds t under name. It fails if name is empty, t is nil, or the
// name is already taken (built-ins included): a name means one analysis for
// the life of an index, so it is never silently replaced.
func (r *Registry) Register(name string, t Tokenizer) error {
	if name == "" {
		return errors.New("analysis: cannot register a tokenizer under an empty name")
	}
	if t == nil {
		return fmt.Errorf("analysis: cannot register a nil tokenizer as %q", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tokenizers == nil {
		r.tokenizers = make(map[string]Tokenizer)
	}
	if _, taken := r.tokenizers[name]; taken {
		return fmt.Errorf("analysis: tokenizer %q is already registered", name)
	}
	r.tokenizers[name] = t
	return nil
}

// Get returns the tokenizer registered under name. For an unknown name the
// error wraps ErrUnknownTokenizer and names both the name asked for and the
// names known.
func (r *Registry) Get(name string) (Tokenizer, error) {
	r.mu.RLock()
	t, ok := r.tokenizers[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("analysis: %w %q (known: %s)", ErrUnknownTokenizer, name, strings.Join(r.Names(), ", "))
	}
	return t, nil
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.tokenizers))
	for name := range r.tokenizers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
