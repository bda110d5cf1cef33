package hermes

import (
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/query"
)

// Highlight returns the best fragments of text, a stored value of field
// (read with Hit.Document), for q, with the byte ranges of the words q
// matches in each: see query.Highlight. The text is analysed with the
// field's tokenizer, as it was indexed, so a stemmed field marks
// "running" for the query word "runs", and a phrase marks only its words
// standing together. A field without a tokenizer (keyword) is matched as
// one whole value. It reads nothing from the index and needs no open
// snapshot: call it on the hits of any search.
func (r *Reader) Highlight(q query.Query, field, text string, opts query.HighlightOptions) ([]query.Fragment, error) {
	tok, ok := r.tokenizers[field]
	if !ok {
		tok = analysis.RawTokenizer{}
	}
	return query.Highlight(q, field, text, tok, opts)
}
