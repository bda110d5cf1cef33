package hermes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// Reader searches one committed state of an index: a snapshot that later
// commits do not change. It is safe for concurrent use. Close it to release
// its segments.
type Reader struct {
	schema     *Schema
	view       *view
	own        *index.Segments // the set it holds (shared with its writer, if any)
	searcher   *query.Searcher
	tokenizers map[string]analysis.Tokenizer
	defaults   []string
	key        segment.Field // the primary key; Name "" if none
	blocks     *segment.BlockCache

	closeOnce sync.Once
	isClosed  atomic.Bool
	// inUse is held shared by every search and document read, and taken
	// exclusively by Close: segment files are memory-mapped, and unmapping
	// them under a running search would crash the process instead of
	// failing it with ErrClosed.
	inUse sync.RWMutex
}

// Hit is one search result. Its primary key comes with it; its stored
// fields are read only when asked for, with Document.
type Hit struct {
	Score float32
	// Key is the document's primary key (Field "" if the schema has none),
	// read from the segment's key column without decompressing stored
	// fields.
	Key segment.FieldValue
	// Segment and DocID locate the document in the index.
	Segment string
	DocID   uint32
	// Cursor, set by Reader.SearchRequest, continues a search after this
	// hit (SearchRequest.After).
	Cursor string
	// Stored holds the stored fields SearchRequest.Fields asked for.
	Stored *Document
	// Highlights holds, by field, the fragments SearchRequest.Highlight
	// asked for, best first; a field with no match has none.
	Highlights map[string][]HitFragment

	r   *Reader
	seg int // index in r.view.readers
}

// Document returns the hit's stored fields named in fields, or all of them
// if fields is empty, in the order they were added. It reads them from the
// reader the hit came from, through its cache of decompressed blocks (see
// Config.StoredCacheBytes); that reader must still be open.
func (h Hit) Document(ctx context.Context, fields ...string) (*Document, error) {
	if h.r == nil {
		return nil, fmt.Errorf("hermes: the hit did not come from a Reader")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := h.r.enter(); err != nil {
		return nil, err
	}
	defer h.r.leave()
	for _, f := range fields {
		if fld, ok := h.r.schema.Field(f); !ok || !fld.Stored {
			return nil, fmt.Errorf("hermes: field %q is not a stored field of the schema", f)
		}
	}
	return h.r.view.readers[h.seg].DocumentFields(h.DocID, h.r.blocks, fields...)
}

// OpenReader opens the last commit of the index in dir for searching. It
// takes no lock: readers and a writer, in this process or another, may run
// at once.
//
// A writer in another process may commit, or register a merge, between
// this reader's read of metadata.json and its opening of the segment files,
// and then delete files that the newer commit no longer needs. Writers keep
// such files for Config.RetiredFileGrace after no kept generation names
// them; if one is missing all the same, OpenReader reads metadata.json again
// and retries with the newer commit, as Lucene's FindSegmentsFile does. A
// file missing while metadata.json still names it is damage, and reported
// as such.
func OpenReader(ctx context.Context, dir storage.Directory, cfg Config) (*Reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var failedGen uint64
	for attempt := 1; ; attempt++ {
		meta, schema, err := readIndexMetadata(dir)
		if err != nil {
			return nil, err
		}
		r, err := openReaderAt(dir, meta, schema, cfg)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return r, err
		}
		if attempt > 1 && meta.Generation == failedGen {
			return nil, fmt.Errorf("%w; %s still names it (generation %d): a committed file is missing, run 'hermes check'", err, storage.MetadataFile, meta.Generation)
		}
		if attempt == maxOpenAttempts {
			return nil, fmt.Errorf("%w (the index changed under each of %d attempts to open it)", err, attempt)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		failedGen = meta.Generation
	}
}

// maxOpenAttempts bounds OpenReader's retries: each one follows a commit
// that came between reading metadata.json and opening the files.
const maxOpenAttempts = 100

// openReaderAt opens the segments of meta.
func openReaderAt(dir storage.Directory, meta *storage.Metadata, schema *Schema, cfg Config) (*Reader, error) {
	internal, err := index.InternalSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("hermes: schema in %s: %w", storage.MetadataFile, err)
	}
	segments := index.NewSegments(dir, internal, meta, cfg.Logger)
	v, err := openView(segments, meta)
	if err != nil {
		segments.Close()
		return nil, err
	}
	r, err := newReader(schema, internal, v, cfg)
	if err != nil {
		v.release()
		segments.Close()
		return nil, err
	}
	r.own = segments
	return r, nil
}

// Reader returns a Reader over the writer's latest committed state (the last
// commit, or a merge registered since).
func (w *Writer) Reader() (*Reader, error) {
	if err := w.refreshView(); err != nil {
		return nil, err
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.mu.view == nil {
		return nil, ErrClosed
	}
	v, err := openView(w.segments, w.mu.view.meta)
	if err != nil {
		return nil, err
	}
	w.segments.Retain()
	user, internal, err := w.schemasOf(v.meta)
	if err != nil {
		v.release()
		w.segments.Close()
		return nil, err
	}
	r, err := newReader(user, internal, v, w.cfg)
	if err != nil {
		v.release()
		w.segments.Close()
		return nil, err
	}
	r.own = w.segments
	return r, nil
}

// newReader searches v: segments built with internal, the user's schema
// plus the hidden sequence field.
func newReader(schema, internal *Schema, v *view, cfg Config) (*Reader, error) {
	tokenizers, err := segment.ResolveTokenizers(internal, cfg.Tokenizers, nil)
	if err != nil {
		return nil, fmt.Errorf("hermes: %w", err)
	}
	var defaults []string
	for _, f := range schema.Fields() {
		if f.Indexed && f.Type == segment.TypeText {
			defaults = append(defaults, f.Name)
		}
	}
	key, _ := schema.Primary()
	return &Reader{
		schema:     schema,
		view:       v,
		searcher:   query.NewSearcher(v.readers, internal, tokenizers),
		tokenizers: tokenizers,
		defaults:   defaults,
		key:        key,
		blocks:     segment.NewBlockCache(cfg.StoredCacheBytes),
	}, nil
}

// Generation is the commit this reader sees.
func (r *Reader) Generation() uint64 { return r.view.meta.Generation }

// NumDocs counts the documents this reader sees.
func (r *Reader) NumDocs() int {
	n := 0
	for _, s := range r.view.meta.Segments {
		n += int(s.NumDocs - s.NumDeleted)
	}
	return n
}

// Schema returns the index's schema.
func (r *Reader) Schema() *Schema { return r.schema }

// ParseQuery parses a query string: Lucene's syntax (title:foo AND "a
// phrase" -bar, prefix*, year:[1990 TO 2000]); plain words search every
// indexed text field, OR-ed. See package segment/query.
func (r *Reader) ParseQuery(q string) (query.Query, error) {
	return r.searcher.Parse(q, r.defaults)
}

// Search parses q and returns its k best hits, best first, with their
// primary keys; Hit.Document reads their stored fields.
func (r *Reader) Search(ctx context.Context, q string, k int) ([]Hit, error) {
	parsed, err := r.ParseQuery(q)
	if err != nil {
		return nil, err
	}
	return r.SearchQuery(ctx, parsed, k)
}

// SearchQuery is Search for a query built in Go.
func (r *Reader) SearchQuery(ctx context.Context, q query.Query, k int) ([]Hit, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	hits, err := r.searcher.Search(ctx, q, k)
	if err != nil {
		return nil, err
	}
	out := make([]Hit, len(hits))
	for i, h := range hits {
		out[i] = Hit{Score: h.Score, Segment: h.SegmentID.String(), DocID: h.Doc, r: r, seg: h.Segment}
		if r.key.Name == "" {
			continue
		}
		key, err := r.view.readers[h.Segment].Key(h.Doc)
		if err != nil {
			return nil, fmt.Errorf("hermes: segment %s: %w", h.SegmentID, err)
		}
		out[i].Key = segment.KeyValue(r.key, key)
	}
	return out, nil
}

// Count returns how many documents match q.
func (r *Reader) Count(ctx context.Context, q string) (int, error) {
	if err := r.enter(); err != nil {
		return 0, err
	}
	defer r.leave()
	parsed, err := r.ParseQuery(q)
	if err != nil {
		return 0, err
	}
	return r.searcher.Count(ctx, parsed)
}

func (r *Reader) closed() bool { return r.isClosed.Load() }

// enter marks a use of the segments, which Close waits for; ErrClosed if
// the reader is closed. leave ends it.
func (r *Reader) enter() error {
	r.inUse.RLock()
	if r.closed() {
		r.inUse.RUnlock()
		return ErrClosed
	}
	return nil
}

func (r *Reader) leave() { r.inUse.RUnlock() }

// Close releases the reader's segments, after the searches and document
// reads running on it have returned. Searching a closed reader fails with
// ErrClosed.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		r.inUse.Lock()
		r.isClosed.Store(true)
		r.inUse.Unlock()
		r.view.release()
		if r.own != nil {
			r.own.Close()
		}
	})
	return nil
}
