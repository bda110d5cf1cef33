package hermes

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sort"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
)

// ScoreField is the SortField name of the relevance score.
const ScoreField = "_score"

// MaxSortFields bounds SearchRequest.Sort.
const MaxSortFields = 4

// SortField orders hits by a fast field (or by ScoreField), ascending
// unless Desc. Documents without a value sort last in either direction.
type SortField struct {
	Field string
	Desc  bool
}

// TotalRelation says how TotalHits.Value relates to the true count.
type TotalRelation uint8

const (
	// TotalEqual: Value is the exact number of matching documents.
	TotalEqual TotalRelation = iota
	// TotalAtLeast: Value is a lower bound (counting stopped early).
	TotalAtLeast
)

func (r TotalRelation) String() string {
	if r == TotalAtLeast {
		return ">="
	}
	return "="
}

// TotalHits is the number of documents a query matches, as Lucene's
// TotalHits: exact, or a lower bound when counting was cut short.
type TotalHits struct {
	Value    int
	Relation TotalRelation
}

// SearchRequest is one page of a search, with its count and aggregations.
// Its zero value (plus a Query) asks for nothing but the total's lower
// bound; set K for hits.
type SearchRequest struct {
	// Query is a query string (see Reader.ParseQuery); Parsed, if not nil,
	// is used instead.
	Query  string
	Parsed query.Query
	// K is the number of hits to return (0: none, for counts and
	// aggregations only), after skipping Offset of them.
	K      int
	Offset int
	// After is a Hit.Cursor from an earlier page of the same Query and
	// Sort: this page starts after that hit (search_after). It can be
	// combined with Offset, which then counts from the cursor.
	After string
	// Sort orders the hits; empty means by score, best first. Ties are
	// broken by doc order: under the default score sort, the reader's
	// (segment, doc id) order, as Search; under any other sort, the primary
	// key (when the schema has one), then segment id and doc id.
	Sort []SortField
	// TotalHitsThreshold asks for the total: exact up to this many matches,
	// a lower bound past it. 0 counts only what the search needs anyway.
	// Searches that visit every match (any sort but the default, an After
	// cursor, aggregations) always count exactly.
	TotalHitsThreshold int
	// Aggs are computed over all matching documents, in the same pass.
	Aggs map[string]Aggregation
	// Fields are the stored fields each hit returns in Hit.Stored ("*":
	// all of them); none if empty (Hit.Document reads them later).
	Fields []string
	// Highlight, if not nil, sets each hit's Highlights.
	Highlight *HighlightRequest
}

// SearchResult is the answer to a SearchRequest.
type SearchResult struct {
	Hits  []Hit
	Total TotalHits
	Aggs  map[string]*AggResult
}

// SearchRequest runs req. Pagination: a cursor encodes the hit's sort
// values and its tiebreak, not a position, so a page asked for with After
// on a newer Reader continues after the same hit even if documents were
// added, deleted or merged in between, provided the sort is by fast fields
// and the schema has a primary key (the tiebreak that survives merges).
// Score-sorted cursors also work across commits, but scores change with
// the collection's statistics, and if the cursor's segment was merged away
// hits tying its score may repeat; there, as with Offset, page on one
// Reader for a stable result.
//
// With the default score sort, no cursor and no aggregations, the search
// is pruned (block-max WAND, see query.Searcher.Search) and the total is
// counted separately up to TotalHitsThreshold; otherwise every match is
// visited once, for sorting, counting and aggregating together.
func (r *Reader) SearchRequest(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	if r.closed() {
		return nil, ErrClosed
	}
	if req.K < 0 || req.Offset < 0 || req.TotalHitsThreshold < 0 {
		return nil, fmt.Errorf("hermes: search request: K, Offset and TotalHitsThreshold must not be negative")
	}
	q := req.Parsed
	if q == nil {
		var err error
		if q, err = r.ParseQuery(req.Query); err != nil {
			return nil, err
		}
	}
	plan, err := r.sortPlan(req.Sort)
	if err != nil {
		return nil, err
	}
	var after *sortEntry
	if req.After != "" {
		if after, err = r.decodeCursor(plan, req.After); err != nil {
			return nil, err
		}
	}
	aggs, err := r.newAggs(req.Aggs)
	if err != nil {
		return nil, err
	}
	loader, err := r.newHitLoader(&req)
	if err != nil {
		return nil, err
	}
	want := req.K + req.Offset
	if want < req.K { // overflow
		return nil, fmt.Errorf("hermes: search request: K+Offset overflows")
	}
	res := &SearchResult{}
	if want == 0 && aggs.len() == 0 {
		// A count alone: stop at the threshold.
		n, exact, err := r.searcher.CountUpTo(ctx, q, req.TotalHitsThreshold)
		if err != nil {
			return nil, err
		}
		res.Total = TotalHits{Value: n, Relation: TotalAtLeast}
		if exact {
			res.Total.Relation = TotalEqual
		}
		return res, nil
	}
	if plan.byPosition && after == nil && aggs.len() == 0 && want > 0 {
		hits, err := r.searcher.Search(ctx, q, want)
		if err != nil {
			return nil, err
		}
		res.Total = TotalHits{Value: len(hits), Relation: TotalAtLeast}
		if len(hits) < want {
			res.Total.Relation = TotalEqual
		} else if req.TotalHitsThreshold > 0 {
			n, exact, err := r.searcher.CountUpTo(ctx, q, max(req.TotalHitsThreshold, len(hits)))
			if err != nil {
				return nil, err
			}
			res.Total = TotalHits{Value: n, Relation: TotalAtLeast}
			if exact {
				res.Total.Relation = TotalEqual
			}
		}
		entries := make([]sortEntry, 0, len(hits))
		for _, h := range hits[min(req.Offset, len(hits)):] {
			e := sortEntry{seg: h.Segment, doc: h.Doc, score: h.Score, segID: h.SegmentID}
			e.keys[0] = orderedF64(float64(h.Score))
			entries = append(entries, e)
		}
		if res.Hits, err = r.entryHits(plan, entries); err != nil {
			return nil, err
		}
		if err := r.loadHits(ctx, loader, q, &req, res.Hits); err != nil {
			return nil, err
		}
		return res, nil
	}

	top := &entryHeap{n: want, plan: plan}
	total := 0
	err = r.searcher.Visit(ctx, q, plan.scores && want > 0, func(seg int) (query.SegmentVisitor, error) {
		cols := make([]numColumn, len(plan.keys))
		for i, k := range plan.keys {
			if !k.score {
				if cols[i], err = r.column(seg, k.field); err != nil {
					return nil, err
				}
			}
		}
		collectAggs, err := aggs.segment(r, seg)
		if err != nil {
			return nil, err
		}
		sr := r.view.readers[seg]
		segID := sr.ID()
		offer := func(doc uint32, score float32) {
			e := sortEntry{seg: seg, segID: segID, doc: doc, score: score}
			for i, k := range plan.keys {
				if k.score {
					e.keys[i] = orderedF64(float64(score))
					continue
				}
				v, ok := cols[i].ordered(doc)
				if !ok {
					e.missing |= 1 << i
				}
				e.keys[i] = v
			}
			// The sort values alone usually decide; the primary key is
			// read only for a tie.
			if after != nil && plan.compareKeys(&e, after) < 0 {
				return
			}
			if top.full() && plan.compareKeys(&e, &top.heap[0]) > 0 {
				return
			}
			if plan.byKey {
				e.pk, _ = sr.Key(doc) // a bad key column fails Open
			}
			if after != nil && plan.compare(&e, after) <= 0 {
				return
			}
			top.offer(e)
		}
		return func(docs []uint32, scores []float32) {
			total += len(docs)
			collectAggs(docs)
			if want == 0 {
				return
			}
			for i, doc := range docs {
				offer(doc, scores[i])
			}
		}, nil
	})
	if err != nil {
		return nil, err
	}
	res.Total = TotalHits{Value: total, Relation: TotalEqual}
	res.Aggs = aggs.results()
	if err := aggs.err(); err != nil { // after results: they read the last segment's values
		return nil, err
	}
	entries := top.sorted()
	if res.Hits, err = r.entryHits(plan, entries[min(req.Offset, len(entries)):]); err != nil {
		return nil, err
	}
	if err := r.loadHits(ctx, loader, q, &req, res.Hits); err != nil {
		return nil, err
	}
	return res, nil
}

// loadHits reads the stored fields and highlights req asks of hits.
func (r *Reader) loadHits(ctx context.Context, l *hitLoader, q query.Query, req *SearchRequest, hits []Hit) error {
	if l == nil {
		return nil
	}
	return l.load(ctx, r, q, hits, req.Fields)
}

// sortKey is one resolved SortField.
type sortKey struct {
	field segment.Field
	score bool
	desc  bool
}

// sortPlan is the total order of a request's hits.
type sortPlan struct {
	keys []sortKey
	// byPosition: the default score sort, ties in reader order as Search.
	byPosition bool
	// byKey: ties by primary key, then segment id and doc id.
	byKey  bool
	scores bool
	// spec fingerprints the sort, so a cursor is not used with another.
	spec uint32
}

func (r *Reader) sortPlan(fields []SortField) (*sortPlan, error) {
	if len(fields) > MaxSortFields {
		return nil, fmt.Errorf("hermes: sort by %d fields; at most %d", len(fields), MaxSortFields)
	}
	if len(fields) == 0 {
		fields = []SortField{{Field: ScoreField, Desc: true}}
	}
	p := &sortPlan{}
	spec := crc32.NewIEEE()
	for _, f := range fields {
		fmt.Fprintf(spec, "%s:%v;", f.Field, f.Desc)
		if f.Field == ScoreField {
			p.keys = append(p.keys, sortKey{score: true, desc: f.Desc})
			p.scores = true
			continue
		}
		fld, err := r.fastField(f.Field, "sort")
		if err != nil {
			return nil, err
		}
		p.keys = append(p.keys, sortKey{field: fld, desc: f.Desc})
	}
	p.spec = spec.Sum32()
	p.byPosition = len(p.keys) == 1 && p.keys[0].score && p.keys[0].desc
	p.byKey = !p.byPosition && r.key.Name != ""
	return p, nil
}

// sortEntry is a hit being ranked.
type sortEntry struct {
	keys    [MaxSortFields]uint64 // ordered values (see numColumn.ordered)
	missing uint8                 // bit i: the doc has no value for keys[i]
	score   float32
	seg     int // position in the reader; -1 for a cursor's segment it lacks
	segID   segment.ID
	doc     uint32
	pk      []byte
}

// compare orders a before b (<0), or after (>0); 0 only for the same doc.
func (p *sortPlan) compare(a, b *sortEntry) int {
	if c := p.compareKeys(a, b); c != 0 {
		return c
	}
	return p.compareTies(a, b)
}

// compareKeys compares the sort values only.
func (p *sortPlan) compareKeys(a, b *sortEntry) int {
	for i, k := range p.keys {
		ma, mb := a.missing&(1<<i) != 0, b.missing&(1<<i) != 0
		switch {
		case ma != mb:
			if ma {
				return 1
			}
			return -1
		case ma:
			continue
		case a.keys[i] != b.keys[i]:
			c := -1
			if a.keys[i] > b.keys[i] {
				c = 1
			}
			if k.desc {
				c = -c
			}
			return c
		}
	}
	return 0
}

// compareTies breaks a tie of sort values.
func (p *sortPlan) compareTies(a, b *sortEntry) int {
	if p.byPosition {
		if a.seg != b.seg {
			return cmpInt(a.seg, b.seg)
		}
		return cmpInt(int(a.doc), int(b.doc))
	}
	if p.byKey {
		// Live keys are unique, and a key names the same document in
		// every commit, whatever segment holds it now.
		return bytes.Compare(a.pk, b.pk)
	}
	if c := bytes.Compare(a.segID[:], b.segID[:]); c != 0 {
		return c
	}
	return cmpInt(int(a.doc), int(b.doc))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// entryHeap keeps the n first entries under plan's order.
type entryHeap struct {
	n    int
	plan *sortPlan
	heap []sortEntry // max-heap: heap[0] is the last kept entry
}

func (h *entryHeap) full() bool { return len(h.heap) == h.n }

func (h *entryHeap) after(i, j int) bool { return h.plan.compare(&h.heap[i], &h.heap[j]) > 0 }

func (h *entryHeap) offer(e sortEntry) {
	if len(h.heap) < h.n {
		h.heap = append(h.heap, e)
		for i := len(h.heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !h.after(i, p) {
				break
			}
			h.heap[i], h.heap[p] = h.heap[p], h.heap[i]
			i = p
		}
		return
	}
	if h.plan.compare(&e, &h.heap[0]) >= 0 {
		return
	}
	h.heap[0] = e
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h.heap) && h.after(l, m) {
			m = l
		}
		if r < len(h.heap) && h.after(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.heap[i], h.heap[m] = h.heap[m], h.heap[i]
		i = m
	}
}

func (h *entryHeap) sorted() []sortEntry {
	out := h.heap
	sort.Slice(out, func(i, j int) bool { return h.plan.compare(&out[i], &out[j]) < 0 })
	return out
}

// entryHits turns ranked entries into hits with their keys and cursors.
func (r *Reader) entryHits(plan *sortPlan, entries []sortEntry) ([]Hit, error) {
	out := make([]Hit, len(entries))
	for i := range entries {
		e := &entries[i]
		h := Hit{Score: e.score, Segment: e.segID.String(), DocID: e.doc, r: r, seg: e.seg}
		if r.key.Name != "" {
			key, err := r.view.readers[e.seg].Key(e.doc)
			if err != nil {
				return nil, fmt.Errorf("hermes: segment %s: %w", e.segID, err)
			}
			h.Key = segment.KeyValue(r.key, key)
			e.pk = key
		}
		h.Cursor = plan.encodeCursor(e)
		out[i] = h
	}
	return out, nil
}

// cursorVersion starts every cursor; a new layout takes a new number.
const cursorVersion = 1

// encodeCursor writes: version, sort fingerprint, missing bits, the keys,
// segment id, doc id, primary key.
func (p *sortPlan) encodeCursor(e *sortEntry) string {
	b := make([]byte, 0, 6+8*len(p.keys)+16+4+len(e.pk))
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint32(b, p.spec)
	b = append(b, e.missing)
	for i := range p.keys {
		b = binary.BigEndian.AppendUint64(b, e.keys[i])
	}
	b = append(b, e.segID[:]...)
	b = binary.BigEndian.AppendUint32(b, e.doc)
	b = append(b, e.pk...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is returned for a SearchRequest.After that is not a cursor
// of a hit of a search with the same sort.
var ErrBadCursor = errors.New("hermes: bad cursor")

func (r *Reader) decodeCursor(p *sortPlan, s string) (*sortEntry, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	fixed := 6 + 8*len(p.keys) + 16 + 4
	if err != nil || len(b) < fixed || b[0] != cursorVersion {
		return nil, fmt.Errorf("%w %q: not a cursor from Hit.Cursor", ErrBadCursor, s)
	}
	if binary.BigEndian.Uint32(b[1:]) != p.spec {
		return nil, fmt.Errorf("%w %q: it comes from a search with another sort", ErrBadCursor, s)
	}
	e := &sortEntry{missing: b[5], seg: -1}
	b = b[6:]
	for i := range p.keys {
		e.keys[i] = binary.BigEndian.Uint64(b)
		if p.keys[i].score {
			e.score = float32(fromOrderedF64(e.keys[i]))
		}
		b = b[8:]
	}
	copy(e.segID[:], b)
	e.doc = binary.BigEndian.Uint32(b[16:])
	e.pk = b[20:]
	for i, sr := range r.view.readers {
		if sr.ID() == e.segID {
			e.seg = i
		}
	}
	if e.seg < 0 && p.byPosition {
		// The segment is gone: place the cursor before every doc that ties
		// its score, so none is lost (some may repeat).
		e.doc = 0
	}
	if e.score != e.score || math.IsInf(float64(e.score), 0) {
		return nil, fmt.Errorf("%w %q: score out of range", ErrBadCursor, s)
	}
	return e, nil
}
