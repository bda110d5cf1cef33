package analysis

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/hungarian"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/norwegian"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/romanian"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/blevesearch/snowballstem/spanish"
	"github.com/blevesearch/snowballstem/swedish"
	"github.com/blevesearch/snowballstem/turkish"
)

// stemFuncs maps ISO 639-1 codes to the Snowball stemmers of
// github.com/blevesearch/snowballstem. Norwegian is Bokmål; English is
// Snowball's "english" (Porter2), not the original Porter stemmer.
var stemFuncs = map[string]func(*snowballstem.Env) bool{
	"da": danish.Stem,
	"de": german.Stem,
	"en": english.Stem,
	"es": spanish.Stem,
	"fi": finnish.Stem,
	"fr": french.Stem,
	"hu": hungarian.Stem,
	"it": italian.Stem,
	"nl": dutch.Stem,
	"no": norwegian.Stem,
	"pt": portuguese.Stem,
	"ro": romanian.Stem,
	"ru": russian.Stem,
	"sv": swedish.Stem,
	"tr": turkish.Stem,
}

// StemmerLanguages returns the codes of the languages that Stemmer accepts,
// sorted.
func StemmerLanguages() []string {
	out := make([]string, 0, len(stemFuncs))
	for lang := range stemFuncs {
		out = append(out, lang)
	}
	slices.Sort(out)
	return out
}

// Stemmer returns a Filter that replaces each term by its Snowball stem in
// the given language (an ISO 639-1 code; see StemmerLanguages). Snowball
// stemmers expect lowercase input, so put the filter after lowercasing.
func Stemmer(lang string) (Filter, error) {
	stem, ok := stemFuncs[lang]
	if !ok {
		return nil, fmt.Errorf("analysis: no stemmer for language %q (have %s)", lang, strings.Join(StemmerLanguages(), ", "))
	}
	return stemFilter{stem: stem}, nil
}

type stemFilter struct {
	stem func(*snowballstem.Env) bool
}

// stemEnv is a Snowball environment plus an output buffer. Environments hold
// the word being stemmed, so each goroutine needs its own: they are pooled.
type stemEnv struct {
	env *snowballstem.Env
	buf []byte
}

var stemEnvPool = sync.Pool{New: func() any { return &stemEnv{env: snowballstem.NewEnv("")} }}

func (f stemFilter) Filter(tok Token, emit func(Token)) {
	if len(tok.Term) == 0 {
		emit(tok)
		return
	}
	e := stemEnvPool.Get().(*stemEnv)
	// The environment reads the term through a string that shares its
	// bytes: the stemmer builds new strings for its edits and never writes
	// to the old one, and the reference is dropped before the term can
	// change (SetCurrent("") below), so no copy is needed.
	in := unsafe.String(&tok.Term[0], len(tok.Term))
	e.env.SetCurrent(in)
	f.stem(e.env)
	out := e.env.Current()
	e.env.SetCurrent("")
	if unsafe.StringData(out) != unsafe.StringData(in) || len(out) != len(in) {
		if len(out) <= len(tok.Term) {
			tok.Term = tok.Term[:copy(tok.Term, out)]
		} else {
			e.buf = append(e.buf[:0], out...)
			tok.Term = e.buf
		}
	}
	emit(tok)
	if cap(e.buf) <= maxPooledBuf {
		stemEnvPool.Put(e)
	}
}
