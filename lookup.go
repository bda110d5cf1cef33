package hermes

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
)

// ErrNotFound is returned by Reader.Document for a key no live document
// holds.
var ErrNotFound = errors.New("hermes: no document with that key")

// Document returns the stored fields of the live document whose primary
// key is key, as the reader's commit holds it; ErrNotFound if there is
// none. The schema must have a primary key. The key is matched exactly (a
// keyword key is not analysed); a u64 or i64 key is given as its decimal
// text, and text that is not such a number is an error.
func (r *Reader) Document(ctx context.Context, key string) (*Document, error) {
	pk, ok := r.schema.Primary()
	if !ok {
		return nil, fmt.Errorf("hermes: Document(%q): the schema has no primary key", key)
	}
	var q query.Query = query.Term{Field: pk.Name, Term: key}
	switch pk.Type {
	case segment.TypeU64, segment.TypeI64:
		// Numbers are indexed as 8-byte terms, not as their text: match the
		// one value, as the query "id:42" does.
		var v any
		var err error
		if pk.Type == segment.TypeU64 {
			v, err = strconv.ParseUint(key, 10, 64)
		} else {
			v, err = strconv.ParseInt(key, 10, 64)
		}
		if err != nil {
			return nil, fmt.Errorf("hermes: Document(%q): the primary key %s is %v, and %q is not such a number", key, pk.Name, pk.Type, key)
		}
		q = query.Range{Field: pk.Name, Min: v, Max: v, MinInclusive: true, MaxInclusive: true}
	}
	hits, err := r.SearchQuery(ctx, q, 1)
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
