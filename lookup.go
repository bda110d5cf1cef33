package hermes

import (
	"context"
	"errors"
	"fmt"

	"github.com/hermes-search/hermes-go/segment/query"
)

// ErrNotFound is returned by Reader.Document for a key no live document
// holds.
var ErrNotFound = errors.New("hermes: no document with that key")

// Document returns the stored fields of the live document whose primary
// key is key, as the reader's commit holds it; ErrNotFound if there is
// none. The schema must have a primary key. The key is matched exactly (a
// primary key is a keyword, not analysed).
func (r *Reader) Document(ctx context.Context, key string) (*Document, error) {
	pk, ok := r.schema.Primary()
	if !ok {
		return nil, fmt.Errorf("hermes: Document(%q): the schema has no primary key", key)
	}
	hits, err := r.SearchQuery(ctx, query.Term{Field: pk.Name, Term: key}, 1)
	if err != nil {
		return nil, err
	}
	if len(hits) == 0 {
		return nil, fmt.Errorf("%w: %s %q", ErrNotFound, pk.Name, key)
	}
	return hits[0].Document(ctx)
}

// Explain parses q and explains the score of hit's document for it: the
// BM25 breakdown of each term and phrase, the sums and boosts (see
// query.Explanation). The hit must come from this reader.
func (r *Reader) Explain(ctx context.Context, q string, hit Hit) (*query.Explanation, error) {
	if r.closed() {
		return nil, ErrClosed
	}
	parsed, err := r.ParseQuery(q)
	if err != nil {
		return nil, err
	}
	for i, sr := range r.view.readers {
		if sr.ID().String() == hit.Segment {
			return r.searcher.Explain(ctx, parsed, i, hit.DocID)
		}
	}
	return nil, fmt.Errorf("hermes: explain: segment %s is not one of this reader's", hit.Segment)
}
