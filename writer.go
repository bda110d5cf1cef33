package hermes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/hermes-search/hermes-go/actors"
	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
	"github.com/hermes-search/hermes-go/segment/mergepolicy"
	"github.com/hermes-search/hermes-go/storage"
)

// Schema, Field and Document are the segment package's, re-exported so that
// most programs import only this package.
type (
	Schema   = segment.Schema
	Field    = segment.Field
	Document = segment.Document
)

// Writer adds documents to an index and commits them. Its methods are safe
// for concurrent use. At most one Writer holds an index (a lock in the
// directory); Close releases it.
type Writer struct {
	// Set when the writer opens, read-only after.
	cfg      Config
	dir      storage.Directory
	schema   *Schema // the user's
	internal *Schema // segments': the user's and index.SeqField
	lock     io.Closer
	system   *actor.ActorSystem
	pids     actors.PIDs
	// ownSystem says the writer made system, and shuts it down on Close.
	ownSystem bool
	// dyn grows the schema for unknown fields; nil unless the schema is
	// dynamic (schema_dynamic.go).
	dyn *dynamicSchema

	// Safe for concurrent use on their own: each guards its state.
	credits  *credits        // intake backpressure
	keys     *index.Keys     // sequence numbers, delete log, primary keys
	segments *index.Segments // open segments, shared with Readers and merges
	intake   *actors.Intake  // accepted documents on their way to the coordinator (see send)
	// life ends when the writer closes (cause ErrClosed) or fails (cause
	// the failure): every call waiting on an actor returns then.
	life    context.Context
	endLife context.CancelCauseFunc

	// Atomics, read without mu: the first fatal failure, the current
	// tokenizers (replaced under mu by SetTokenizer), and the committed
	// state the segment manager last published (the view follows it).
	failure       atomic.Pointer[error]
	tokenizers    atomic.Pointer[map[string]analysis.Tokenizer]
	committedMeta atomic.Pointer[storage.Metadata]

	// mu orders intake against state changes: adds and deletes hold it for
	// reading, so a PrepareCommit (which takes it for writing) covers every
	// one that returned before it; the commit phases and Close take it for
	// writing to change the state.
	mu struct {
		sync.RWMutex
		state    writerState
		prepared *PreparedCommit // between PrepareCommit and Commit or Abort
		// view holds the committed segments open for the key checks of
		// adds (under the read lock); replaced after a commit or merge,
		// nil once closed.
		view               *view
		tokenizerOverrides map[string]string // field -> tokenizer name
	}

	closeOnce sync.Once
	closeErr  error // Close's result, set in closeOnce
}

type writerState int

const (
	stateOpen writerState = iota
	stateCommitting
	stateClosed
)

var writerSeq atomic.Uint64

// Create makes a new, empty index in dir with schema and returns its
// writer. It fails if dir already holds an index.
//
// When Create returns nil, the empty index (generation 1, with its schema)
// is durable.
func Create(ctx context.Context, dir storage.Directory, schema *Schema, cfg Config) (*Writer, error) {
	if schema == nil {
		return nil, errors.New("hermes: Create needs a schema")
	}
	if _, err := index.InternalSchema(schema); err != nil {
		return nil, fmt.Errorf("hermes: Create: schema: %w", err)
	}
	lock, err := dir.Lock()
	if err != nil {
		return nil, fmt.Errorf("hermes: lock index: %w", err)
	}
	switch _, err := storage.ReadMetadata(dir); {
	case err == nil:
		lock.Close()
		return nil, fmt.Errorf("hermes: Create: the directory already holds an index; use Open")
	case !errors.Is(err, fs.ErrNotExist):
		// A damaged index is not an empty directory: never write over it.
		lock.Close()
		return nil, fmt.Errorf("hermes: Create: the directory holds an unreadable index (%w); repair or remove it", err)
	}
	if err := refuseIndexFiles(dir); err != nil {
		lock.Close()
		return nil, err
	}
	schemaJSON, err := schema.MarshalJSON()
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("hermes: Create: schema: %w", err)
	}
	meta := &storage.Metadata{Generation: 1, Schema: schemaJSON}
	if err := storage.WriteMetadata(dir, meta); err != nil {
		lock.Close()
		return nil, fmt.Errorf("hermes: create index: %w", err)
	}
	w, err := start(ctx, dir, lock, schema, meta, cfg)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return w, nil
}

// fallBackHint tells, when metadata.json cannot be read, which kept
// generation could replace it.
func fallBackHint(dir storage.Directory) string {
	gens, err := storage.Generations(dir)
	if err != nil {
		return ""
	}
	for i := len(gens) - 1; i >= 0; i-- {
		if m, err := storage.ReadGeneration(dir, gens[i]); err == nil {
			return fmt.Sprintf("; the index keeps generation %d (%s, %s): 'hermes check --index DIR --fall-back' restores it",
				m.Generation, storage.GenerationFile(m.Generation), plural(len(m.Segments), "segment"))
		}
	}
	return ""
}

// refuseIndexFiles fails, wrapping ErrIndexFilesFound, when dir holds
// files of an index (segments, deletes, kept commit generations) though it
// has no metadata.json: creating an index there would make them orphans
// and lose them.
func refuseIndexFiles(dir storage.Directory) error {
	names, err := dir.List()
	if err != nil {
		return fmt.Errorf("hermes: Create: %w", err)
	}
	var segmentFiles, deletesFiles, generations int
	var example string
	for _, name := range names {
		if _, kind, _, ok := segment.ParseFileName(name); ok {
			if kind == segment.DeletesKind {
				deletesFiles++
			} else {
				segmentFiles++
			}
		} else if gen, ok := storage.ParseGenerationFile(name); ok {
			// A kept generation of an empty index (a Create cut short)
			// holds nothing to lose; a damaged one protects nothing.
			if m, err := storage.ReadGeneration(dir, gen); err != nil || len(m.Segments) == 0 {
				continue
			}
			generations++
		} else {
			continue
		}
		if example == "" {
			example = name
		}
	}
	if example == "" {
		return nil
	}
	return fmt.Errorf("%w: %s, %s and %s (e.g. %s). Nothing was changed. "+
		"Run 'hermes check --index DIR' to see what can be recovered and 'hermes check --index DIR --fall-back' to restore the newest kept commit, "+
		"or move these files away to start a new index here",
		ErrIndexFilesFound, plural(segmentFiles, "segment file"), plural(deletesFiles, "deletes file"),
		plural(generations, "kept commit generation file"), example)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Open returns a writer for the index in dir, holding what its last
// successful commit holds.
func Open(ctx context.Context, dir storage.Directory, cfg Config) (*Writer, error) {
	lock, err := dir.Lock()
	if err != nil {
		return nil, fmt.Errorf("hermes: lock index: %w", err)
	}
	meta, schema, err := readIndexMetadata(dir)
	if err != nil {
		lock.Close()
		return nil, err
	}
	w, err := start(ctx, dir, lock, schema, meta, cfg)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return w, nil
}

func readIndexMetadata(dir storage.Directory) (*storage.Metadata, *Schema, error) {
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("hermes: open index: %w%s", err, fallBackHint(dir))
	}
	schema, err := segment.ParseSchema(meta.Schema)
	if err != nil {
		return nil, nil, fmt.Errorf("hermes: open index: schema in %s: %w", storage.MetadataFile, err)
	}
	return meta, schema, nil
}

func start(ctx context.Context, dir storage.Directory, lock io.Closer, schema *Schema, meta *storage.Metadata, cfg Config) (*Writer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	internal, err := index.InternalSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("hermes: schema: %w", err)
	}
	tokenizers, err := segment.ResolveTokenizers(internal, cfg.Tokenizers, nil)
	if err != nil {
		return nil, fmt.Errorf("hermes: %w", err)
	}
	segments := index.NewSegments(dir, internal, meta, cfg.Logger)
	if cfg.KeepGenerations > 1 {
		older, err := storage.KeptGenerations(dir, meta.Generation-1, cfg.KeepGenerations-1)
		if err != nil {
			segments.Close()
			return nil, fmt.Errorf("hermes: open index: %w", err)
		}
		segments.KeepGenerations(cfg.KeepGenerations, older)
	}
	v, err := openView(segments, meta)
	if err != nil {
		segments.Close()
		return nil, err
	}
	life, endLife := context.WithCancelCause(context.Background())
	w := &Writer{
		life:     life,
		endLife:  endLife,
		segments: segments,
		cfg:      cfg,
		dir:      dir,
		schema:   schema,
		internal: internal,
		lock:     lock,
		credits:  newCredits(cfg.QueueCapacity),
		intake:   new(actors.Intake),
		dyn:      newDynamicSchema(schema, internal, meta),
	}
	w.mu.tokenizerOverrides = map[string]string{}
	w.mu.view = v
	w.tokenizers.Store(&tokenizers)
	w.committedMeta.Store(meta)
	pk, _ := schema.Primary()
	w.keys = index.NewKeys(index.KeysConfig{Dir: dir, Key: pk, Upsert: cfg.OnDuplicate == ReplaceDuplicates, Segments: segments, Metadata: meta, Logger: cfg.Logger})

	ids, err := actors.NewSegmentIDs(dir, time.Now().Truncate(time.Millisecond), cfg.Logger) // wall clock only, as ids
	if err != nil {
		v.release()
		segments.Close()
		return nil, fmt.Errorf("hermes: open index: %w", err)
	}
	segments.RecordIDs(ids)
	segments.SetGrace(cfg.Clock, cfg.RetiredFileGrace)

	w.system = cfg.ActorSystem
	if w.system == nil {
		w.system = actor.NewActorSystem(actor.WithDeadLetterThrottleInterval(time.Millisecond), actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return slog.New(slog.DiscardHandler) // protoactor's own logging is noise to users
		}))
		w.ownSystem = true
	}
	acfg := &actors.Config{
		Dir:          dir,
		Schema:       internal,
		Env:          writerEnv{w},
		Intake:       w.intake,
		Workers:      cfg.Workers,
		WorkerMemory: cfg.MaxIndexingMemory / int64(cfg.Workers),
		Remote:       cfg.remoteWorkers(),
		BatchDocs:    cfg.BatchDocs,
		BatchBytes:   cfg.BatchBytes,
		MaxCrashes:   cfg.MaxCrashes,
		Backoff:      cfg.WorkerBackoff,
		Clock:        cfg.Clock,
		Seed:         writerSeq.Load(),
		Serial:       cfg.Deterministic,
		Metadata:     meta,
		Segments:     segments,
		IDs:          ids,

		MergePolicy:         cfg.MergePolicy,
		MaxConcurrentMerges: cfg.MaxConcurrentMerges,
		MergePacer:          mergepolicy.NewPacer(cfg.MergeCPUShare, nil), // real time: it paces CPU
		KeepGenerations:     cfg.KeepGenerations,
		Logger:              cfg.Logger,
	}
	name := fmt.Sprintf("hermes-writer-%d", writerSeq.Add(1))
	w.pids, err = actors.Start(ctx, w.system, name, acfg)
	if err != nil {
		v.release()
		segments.Close()
		if w.ownSystem {
			w.system.Shutdown()
		}
		return nil, err
	}
	w.keys.Start()
	// Leftovers of a crash or of an earlier writer's aborts and merges.
	if n, err := w.CleanupOrphans(ctx); err != nil {
		cfg.Logger.Warn("orphan cleanup failed", "error", err)
	} else if n > 0 {
		cfg.Logger.Info("removed orphan files", "files", n)
	}
	w.settle()
	cfg.Logger.Info("writer opened", "generation", meta.Generation, "segments", len(meta.Segments), "workers", cfg.Workers)
	return w, nil
}

// Schema returns the index's schema: with dynamic mapping, as grown so far,
// committed or not.
func (w *Writer) Schema() *Schema { return w.currentSchema() }

// AddDocument validates doc and hands it to the workers. It never blocks:
// it returns a *segment.DocumentError naming the field for an invalid
// document, a *DuplicateKeyError for a primary key already in the index or
// added since the last commit, ErrQueueFull when QueueCapacity documents wait
// for a worker, and ErrClosed after Close. On any error nothing was added (a
// registered key is rolled back).
//
// With a dynamic schema (UnknownFields DynamicUnknown), fields doc has and
// the schema lacks are added to it first (see Writer.DecodeJSON). They stay
// in the schema even when doc is then refused (a full queue, a duplicate
// key, a closed writer): the document is not added, and the next Commit
// writes the fields, empty.
//
// A nil return means the document is accepted. It belongs to the first
// commit whose PrepareCommit starts after AddDocument returned: intake
// stays open during a commit, and documents added while one is prepared
// wait for the next.
//
// The writer keeps nothing of doc once AddDocument returns, accepted or
// not: it keeps an encoded copy, and copies of new field names. The caller
// may change doc, or reuse the memory of its strings, at once.
func (w *Writer) AddDocument(doc *Document) error {
	primary, err := w.check(doc)
	if err != nil {
		return err
	}
	_, err = w.addChecked([]*Document{doc}, []int{primary})
	return err
}

// AddDocumentWait is AddDocument that waits for room in the queue instead of
// returning ErrQueueFull, until ctx ends.
func (w *Writer) AddDocumentWait(ctx context.Context, doc *Document) error {
	primary, err := w.check(doc)
	if err != nil {
		return err
	}
	docs, primaries := []*Document{doc}, []int{primary}
	_, err = w.addChecked(docs, primaries)
	for errors.Is(err, ErrQueueFull) {
		// Credits returned after changed() wake the wait, so the try
		// between them misses none.
		changed := w.credits.changed()
		if _, err = w.addChecked(docs, primaries); !errors.Is(err, ErrQueueFull) {
			break
		}
		if err := w.credits.wait(ctx, changed); err != nil {
			return err
		}
		_, err = w.addChecked(docs, primaries)
	}
	return err
}

// AddDocuments adds docs in order and returns how many were added, stopping
// at the first error (ErrQueueFull included), which it returns. It is
// AddDocument for each, with one trip to the workers for all, but that it
// checks each against the schema before it adds any: with a dynamic
// schema, the fields of the documents up to the first that fails a check
// are in the schema even if an earlier one is then refused (a full queue,
// a duplicate key, invalid UTF-8).
func (w *Writer) AddDocuments(docs []*Document) (int, error) {
	// Validated first, outside the intake lock (a dynamic schema grows
	// here); encoded only once they have credits (see accept).
	var invalid error
	primaries := make([]int, 0, len(docs))
	for _, doc := range docs {
		primary, err := w.check(doc)
		if err != nil {
			invalid = err
			break
		}
		primaries = append(primaries, primary)
	}
	n, err := w.addChecked(docs[:len(primaries)], primaries)
	if err != nil {
		return n, err
	}
	return n, invalid
}

// addChecked adds docs, which passed w.check (it returned primaries), in
// order and returns how many it added, stopping at the first it cannot
// add, whose error it returns: the intake of AddDocument, AddDocumentWait
// and AddDocuments.
func (w *Writer) addChecked(docs []*Document, primaries []int) (int, error) {
	w.mu.RLock()
	n, badUTF8, err := w.accept(docs, primaries)
	w.mu.RUnlock()
	if badUTF8 {
		return n, w.utf8Error(docs[n]) // out of the lock: it may grow a dynamic schema
	}
	return n, err
}

// accept is addChecked's part under the intake lock (mu held for reading,
// see send). It takes what credits there are for docs and only then
// encodes them, so that a full queue costs no encoding, into small slabs
// (wireSlab); it numbers them and reserves their keys, in order, and sends
// those accepted. A PrepareCommit or a schema's growth waits for this, so
// for the encoding of at most QueueCapacity documents (a copy of their
// values).
//
// It stops at the first document it cannot accept, with AddDocument's
// order of errors: badUTF8 if that one holds a string of invalid UTF-8
// (for the caller to name), else err says why (a closed or failed writer,
// a full queue, a duplicate key). Unused credits go back.
func (w *Writer) accept(docs []*Document, primaries []int) (n int, badUTF8 bool, err error) {
	if len(docs) == 0 {
		return 0, false, nil
	}
	if err := w.intakeErr(); err != nil {
		return 0, !validUTF8(docs[0]), err
	}
	k := w.credits.takeUpTo(len(docs))
	accepted := make([][]byte, 0, k)
	var slab []byte
	slabEnd := 0 // docs[:slabEnd] have room in the slabs made so far
	for i, doc := range docs[:k] {
		if i == slabEnd && i+1 < k { // a last one is allocated alone
			var n int
			slab, n = wireSlab(docs[i:k])
			slabEnd += n
		}
		wire, key, ok := actors.EncodeDocument(doc, primaries[i], &slab)
		if !ok {
			badUTF8 = true
			break
		}
		if key == nil { // a numeric key (or none)
			key, _ = w.schema.PrimaryKey(doc)
		}
		seq, kerr := w.keys.Add(key, w.mu.view.readers)
		if kerr != nil {
			err = kerr
			break
		}
		accepted = append(accepted, actors.AppendSeq(wire, seq))
	}
	if unused := k - len(accepted); unused > 0 {
		w.credits.give(unused)
	}
	if len(accepted) > 0 {
		w.send(accepted...)
	}
	if err == nil && !badUTF8 && k < len(docs) {
		// The first without a credit.
		badUTF8 = !validUTF8(docs[k])
		if !badUTF8 {
			err = ErrQueueFull
		}
	}
	return len(accepted), badUTF8, err
}

// maxWireSlab bounds the wire forms that AddDocuments carves from one
// allocation. A slab lives until the last of its documents is durable (the
// coordinator's ledger holds each until a worker's segment with it is
// written), while a worker counts only its own documents' bytes in its
// memory budget (worker.HeldBytes) and forgets them once it built its
// segment: a slab that the queue split between the batches of two workers
// outlives the first one's count. Small slabs keep that small: two
// straddle each batch at most (a batch is up to BatchDocs documents and
// BatchBytes, 256 and 1 MiB by default), however many documents a call
// adds. One slab for a call could span every batch in the queue and keep
// them all until the slowest worker's segment is written.
const maxWireSlab = 16 << 10

// wireSlab returns an empty slab for the wire forms of the first of docs,
// as many as fit in maxWireSlab but at least one, and how many that is.
func wireSlab(docs []*Document) (slab []byte, n int) {
	size := actors.WireSize(docs[0])
	for n = 1; n < len(docs); n++ {
		s := actors.WireSize(docs[n])
		if size+s > maxWireSlab {
			break
		}
		size += s
	}
	return make([]byte, 0, size), n
}

// validUTF8 reports whether doc's strings are valid UTF-8 (the one check
// that w.check leaves to the encoding), without encoding it.
func validUTF8(doc *Document) bool {
	for i := range doc.Values {
		if v := &doc.Values[i]; v.Kind == segment.KindString && !utf8.ValidString(v.Str) {
			return false
		}
	}
	return true
}

// check validates doc but for the UTF-8 of its strings, which encoding it
// checks (actors.EncodeDocument), and returns the index of its primary
// key's value for the encoding (-1: look it up).
func (w *Writer) check(doc *Document) (primary int, err error) {
	// The schema as grown so far (dynamic mapping): a document that needs
	// a grown field follows the grown schema to the coordinator (see
	// growSchema).
	primary, err = w.currentSchema().ValidateFields(doc, w.cfg.MaxDocumentBytes)
	if err != nil {
		// The error in Validate's order, or a dynamic schema grown for
		// doc's unknown fields.
		if err := w.validate(doc); err != nil {
			return 0, err
		}
		primary = -1 // the key is looked up after encoding
	}
	return primary, nil
}

// utf8Error is the error for doc, whose encoding found a string of invalid
// UTF-8: Validate's, which names it.
func (w *Writer) utf8Error(doc *Document) error {
	err := w.validate(doc)
	if err == nil { // not expected: Validate checks every string
		err = &segment.DocumentError{Problem: "invalid UTF-8"}
	}
	return err
}

// send hands accepted documents to the coordinator through the intake
// (actors.Intake): many adds, one message. Call with mu held for reading,
// so that a PrepareCommit (mu for writing) finds every earlier add on its
// way to the coordinator (see flushIntake).
func (w *Writer) send(docs ...[]byte) {
	if wake := w.intake.Put(docs...); wake != nil {
		w.system.Root.Send(w.pids.Coordinator, wake)
	}
}

// flushIntake sends the accepted documents that wait in the intake to the
// coordinator now, ahead of the message the caller sends next (a prepare,
// a grown schema), which must follow every earlier add. Call with mu held
// for writing.
func (w *Writer) flushIntake() {
	if m := w.intake.Flush(); m != nil {
		w.system.Root.Send(w.pids.Coordinator, m)
	}
}

// DeleteByKey deletes the document whose primary key is key (a string for
// a keyword key; an int, int64 or uint64 for a numeric one), if any: the
// committed one, or one added since the last commit. Like an add it takes
// effect with the next Commit and never blocks. Adding the key again after
// it is no duplicate.
func (w *Writer) DeleteByKey(key any) error {
	f, ok := w.schema.Primary()
	if !ok {
		return errors.New("hermes: DeleteByKey needs a primary key in the schema")
	}
	d := new(Document)
	switch k := key.(type) {
	case string:
		d.AddString(f.Name, k)
	case []byte:
		d.AddString(f.Name, string(k))
	case uint64:
		d.AddU64(f.Name, k)
	case int64:
		d.AddI64(f.Name, k)
	case int:
		if f.Type == segment.TypeU64 && k >= 0 {
			d.AddU64(f.Name, uint64(k))
		} else {
			d.AddI64(f.Name, int64(k))
		}
	default:
		return fmt.Errorf("hermes: DeleteByKey: key of type %T; want string, []byte, int, int64 or uint64", key)
	}
	if err := w.schema.Validate(d, w.cfg.MaxDocumentBytes); err != nil {
		return fmt.Errorf("hermes: DeleteByKey: %w", err)
	}
	term, _ := w.schema.PrimaryKey(d)
	w.mu.RLock()
	defer w.mu.RUnlock()
	if err := w.intakeErr(); err != nil {
		return err
	}
	w.keys.Delete(term)
	return nil
}

// intakeErr says why documents cannot be added now; call with mu held.
// Intake stays open during a commit: what is added then goes to the next.
func (w *Writer) intakeErr() error {
	if err := w.failed(); err != nil {
		return err
	}
	if w.mu.state == stateClosed {
		return ErrClosed
	}
	return nil
}

// SetTokenizer makes field use the named tokenizer (from Config.Tokenizers)
// for segments built from now on: each worker's next segment builder. It is
// not persisted, and queries still analyse the field with the schema's
// tokenizer, so it is meant for tokenizers that produce the same kind of
// terms (a fixed version of a custom tokenizer, say), not for changing a
// field's analysis. A writer with workers on other nodes (Config.Nodes)
// refuses it: see remote.go.
func (w *Writer) SetTokenizer(field, tokenizer string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.intakeErr(); err != nil {
		return err
	}
	if err := w.cfg.refuseTokenizerChange(); err != nil {
		return err
	}
	overrides := maps.Clone(w.mu.tokenizerOverrides)
	overrides[field] = tokenizer
	if f, ok := w.currentSchema().Field(field); !ok || f.Type != segment.TypeText {
		return fmt.Errorf("hermes: SetTokenizer: %q is not a text field of the schema", field)
	}
	m, err := segment.ResolveTokenizers(w.currentInternal(), w.cfg.Tokenizers, overrides)
	if err != nil {
		return fmt.Errorf("hermes: SetTokenizer: %w", err)
	}
	w.mu.tokenizerOverrides = overrides
	w.tokenizers.Store(&m)
	return nil
}

// WorkerInfo names one indexing worker.
type WorkerInfo struct {
	ID         int
	Generation uint64 // increases each time the worker is restarted or replaced
	// PID is the worker's actor: for a worker on a node (Config.Nodes), nil
	// while it starts or its node is lost. A local worker waiting out a
	// backoff after failures names its stopped actor.
	PID *actor.PID
}

// Workers lists the indexing workers' PIDs, for services that run their own
// chaos tests: stopping a worker (ActorSystem.Root.Stop) or making it panic
// loses no document; its batches are re-delivered and commits still finish.
func (w *Writer) Workers(ctx context.Context) ([]WorkerInfo, error) {
	res, err := ask[*messages.WorkersResponse](w, ctx, w.pids.Coordinator, &messages.WorkersRequest{}, w.cfg.FlushDeadline)
	if err != nil {
		return nil, err
	}
	out := make([]WorkerInfo, len(res.Workers))
	for i, r := range res.Workers {
		out[i] = WorkerInfo{ID: int(r.Worker), Generation: r.Generation, PID: r.Pid}
	}
	return out, nil
}

// ActorSystem returns the actor system the writer's actors live in.
func (w *Writer) ActorSystem() *actor.ActorSystem { return w.system }

// Close aborts a prepared commit that was neither committed nor aborted,
// discards documents added since the last commit, stops every actor of the
// writer (and its actor system, if it made it), and releases the lock. What
// was committed stays. Close is idempotent.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		w.keys.Close()
		w.mu.Lock()
		prepared := w.mu.prepared
		w.mu.state = stateClosed
		w.mu.Unlock()
		if prepared != nil {
			_ = prepared.abort(context.Background())
		}
		// Calls still waiting on the actors return ErrClosed now, and so do
		// adds waiting for room in the queue.
		w.endLife(ErrClosed)
		w.credits.close()
		// The lock is released only once every actor has stopped, so no
		// stale worker writes beside the next writer; a worker busy in a
		// long build is waited for.
		actors.Stop(w.system, w.pids.Parent, func(waited time.Duration) {
			w.cfg.Logger.Warn("still waiting for the writer's actors to stop", "waited", waited)
		})
		if w.ownSystem {
			w.system.Shutdown()
		}
		w.mu.Lock()
		w.mu.view.release()
		w.mu.view = nil
		w.mu.Unlock()
		w.segments.Close()
		if err := w.lock.Close(); err != nil && w.closeErr == nil {
			w.closeErr = fmt.Errorf("hermes: release lock: %w", err)
		}
	})
	return w.closeErr
}

// committed takes a new committed state from the segment manager (a commit
// or a merge) and moves the writer's view to it, so that segments merged
// away are released at once.
func (w *Writer) committed(m *storage.Metadata) {
	w.committedMeta.Store(m)
	w.keys.Published(m)
	if err := w.refreshView(); err != nil {
		w.cfg.Logger.Error("could not open the committed segments", "generation", m.Generation, "error", err)
	}
}

// settle waits, under Config.Deterministic, for the background work that
// writes files (the primary-key filter's save), so that it cannot overlap
// the caller's next call.
func (w *Writer) settle() {
	if w.cfg.Deterministic {
		w.keys.Settle()
	}
}

// writerEnv is the writer as its actors see it (actors.Env).
type writerEnv struct{ w *Writer }

func (e writerEnv) Tokenizers() map[string]analysis.Tokenizer { return *e.w.tokenizers.Load() }
func (e writerEnv) ReleaseCredits(n int)                      { e.w.credits.give(n) }
func (e writerEnv) Committed(m *storage.Metadata)             { e.w.committed(m) }
func (e writerEnv) Fatal(reason error)                        { e.w.fail(reason) }
func (e writerEnv) PendingKeyBytes() int64                    { return e.w.keys.PendingBytes() }

func (w *Writer) fail(reason error) {
	err := fmt.Errorf("%w: %w", ErrWriterFailed, reason)
	if w.failure.CompareAndSwap(nil, &err) {
		w.endLife(err)
		// Adds waiting for room in the queue return the failure now: the
		// credits they wait for may never come back.
		w.credits.close()
	}
}

func (w *Writer) failed() error {
	if p := w.failure.Load(); p != nil {
		return *p
	}
	return nil
}
