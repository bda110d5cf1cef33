// Package analysis turns field text into the terms that the index stores.
//
// A Tokenizer splits text into Tokens and hands each one to a callback, so no
// slice of tokens is ever built: the indexing hot path stays free of per-token
// allocations. Tokenizers are looked up by name in a Registry, which starts
// with the built-ins:
//
//   - "simple": Unicode words (UAX #29 word boundaries: letters and numbers,
//     punctuation and white space dropped), lowercased.
//   - "raw": the whole text as one token; "raw_ci": the same, lowercased.
//   - "whitespace": runs of non-white-space characters, case kept.
//   - "<lang>_stem": simple plus the Snowball stemmer of lang.
//   - "<lang>_stop": simple plus the stop-word list of lang.
//   - "<lang>": simple, stop words removed, then stemmed.
//
// See StemmerLanguages and StopWordLanguages for the languages. Users build
// their own analyzers with Chain and Filters (LowerCase, StopWords, Stemmer)
// and register them under a new name.
//
// Positions count the tokens of the base tokenizer: a filter that drops a
// token (a stop word) leaves a gap, so phrase and proximity queries still see
// the true distance between the words that remain.
//
// Every built-in emits only non-empty, valid UTF-8 terms: invalid byte
// sequences in the input act as separators (simple) or are replaced by U+FFFD
// (raw, whitespace).
package analysis

// Token is one term produced by a tokenizer.
//
// Term is only valid during the emit callback: tokenizers reuse their buffers,
// so a receiver that keeps a term must copy it. A receiver (a Filter, for
// instance) may modify the bytes of Term in place during the callback, but
// must not write past len(Term).
type Token struct {
	// Term is the token's text, in valid UTF-8 for every built-in.
	Term []byte
	// Position is the token's ordinal in the base tokenizer's stream,
	// starting at 0. The built-in tokenizers emit strictly increasing
	// positions; a filter that drops a token leaves a gap, and one that adds
	// tokens (synonyms, say) may repeat a position.
	Position int
	// Start and End are the byte offsets in the tokenized text of the
	// characters the token came from: text[Start:End] is the original word
	// (before lowercasing, stemming...), which is what a highlighter marks.
	// Every built-in tokenizer sets them, and the built-in filters keep
	// them.
	Start, End int
}

// Tokenizer splits text into tokens.
//
// Tokenize calls emit once per token, in order, and returns when the text is
// exhausted. Implementations must be safe for concurrent use by many
// goroutines, and must not retain emit or text after returning.
type Tokenizer interface {
	Tokenize(text string, emit func(Token))
}

// TokenizerFunc adapts an ordinary function to the Tokenizer interface.
type TokenizerFunc func(text string, emit func(Token))

// Tokenize calls f(text, emit).
func (f TokenizerFunc) Tokenize(text string, emit func(Token)) { f(text, emit) }

// Filter turns one token into zero or more tokens.
//
// Filter is called once per token of the stream it is chained onto; it passes
// what it produces to emit (possibly nothing, to drop the token). tok.Term
// follows the Token rules: a filter may rewrite it in place and emit a
// shorter slice of it, or emit a buffer of its own that stays valid until emit
// returns. Implementations must be safe for concurrent use.
type Filter interface {
	Filter(tok Token, emit func(Token))
}

// FilterFunc adapts an ordinary function to the Filter interface.
type FilterFunc func(tok Token, emit func(Token))

// Filter calls f(tok, emit).
func (f FilterFunc) Filter(tok Token, emit func(Token)) { f(tok, emit) }

// Chain returns a Tokenizer that runs base and passes each of its tokens
// through filters, in order. With no filters it behaves like base.
func Chain(base Tokenizer, filters ...Filter) Tokenizer {
	if len(filters) == 0 {
		return base
	}
	return &chain{base: base, filters: append([]Filter(nil), filters...)}
}

type chain struct {
	base    Tokenizer
	filters []Filter
}

// Tokenize builds the pipeline from the last filter back to emit; this costs
// one small closure per filter per call, and nothing per token.
func (c *chain) Tokenize(text string, emit func(Token)) {
	next := emit
	for i := len(c.filters) - 1; i >= 0; i-- {
		f, out := c.filters[i], next
		next = func(tok Token) { f.Filter(tok, out) }
	}
	c.base.Tokenize(text, next)
}
