package shipping

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cespare/xxhash/v2"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// FetcherConfig configures a fetcher.
type FetcherConfig struct {
	// Dir is the index directory segments are installed into.
	Dir storage.Directory
	// Window is how many chunk requests may be in flight (default 2), so
	// at most Window x ChunkBytes of a transfer is buffered or on the wire.
	// On loopback 2 was fastest (BenchmarkShipSegment in package node:
	// larger windows make larger gRPC frames and cost more than they hide).
	Window int
	// ChunkBytes is the size of each chunk asked for: at most (and by
	// default) the package's ChunkBytes. Tests use smaller ones.
	ChunkBytes int
	// IdleTimeout fails a transfer when no chunk arrives for this long
	// (default 30 s). A node that dies or is cut off is noticed sooner, by
	// the Terminated of its file server; this catches a node that lives
	// but stopped answering.
	IdleTimeout time.Duration
	// Logger receives the fetcher's logs; nil discards them.
	Logger *slog.Logger
}

// NewFetcher returns the props of a fetcher, the actor on the writer's node
// that installs remote workers' segments into cfg.Dir.
//
// It takes FetchSegment and answers SegmentInstalled (to reply_to, or the
// sender), one segment at a time in arrival order. It pulls each file in
// chunks of cfg.ChunkBytes with at most cfg.Window in flight, in the order
// listed with the segment's meta file last, writes them under their own
// names (segment ids are unique, and a segment without its meta file is
// never opened), checks every file's size and xxhash64 against the
// segment's digests as the bytes arrive, fsyncs each file, then the
// directory, and finally reads every file back to verify its footer and
// checksum.
//
// Durability contract: SegmentInstalled without error means every file of
// the segment is durable in cfg.Dir, under its name, and verified. With an
// error, the files this fetch created have been removed (a file whose
// removal failed is an orphan, which orphan cleanup deletes only if the
// segment-id journal records its id: so the writer records a shipped
// segment's id there before it fetches it), and a file that existed before
// is never touched. Either way the fetcher then sends ReleaseSegment to the
// source: the node's copy is no longer needed (a failed segment's batches
// are re-delivered and built again).
func NewFetcher(cfg FetcherConfig) *actor.Props {
	if cfg.Window <= 0 {
		cfg.Window = 2
	}
	if cfg.ChunkBytes <= 0 || cfg.ChunkBytes > ChunkBytes {
		cfg.ChunkBytes = ChunkBytes
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return actor.PropsFromProducer(func() actor.Actor { return &fetcher{cfg: cfg} })
}

type fetcher struct {
	cfg     FetcherConfig
	queue   []*transfer
	cur     *transfer
	nextTag uint64 // tags are unique for the fetcher's life: a stale chunk never matches
}

// transfer is one segment being fetched.
type transfer struct {
	seg     *messages.ShippedSegment
	files   []*messages.FileDigest // meta last
	source  *actor.PID
	replyTo *actor.PID
	start   time.Time

	// Requests: the next chunk to ask for, and the tags in flight.
	reqFile  int
	reqOff   int64
	inFlight map[uint64]chunkAt

	// Writes happen in request order: tags are consecutive, so the chunk
	// to write next is firstTag + written; later ones wait in arrived.
	firstTag uint64
	written  uint64
	arrived  map[uint64]*messages.Chunk
	wFile    int
	wOff     int64
	out      storage.WriteFile
	hash     *xxhash.Digest
	created  []string
	bytes    int64
}

type chunkAt struct {
	file   int
	offset int64
	length int
}

func (f *fetcher) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *messages.FetchSegment:
		t := &transfer{seg: m.Segment, source: m.Source, replyTo: m.ReplyTo}
		if t.replyTo == nil {
			t.replyTo = ctx.Sender()
		}
		f.queue = append(f.queue, t)
		if f.cur == nil {
			f.next(ctx)
		}

	case *messages.Chunk:
		t := f.cur
		if t == nil {
			return
		}
		at, ok := t.inFlight[m.Tag]
		if !ok {
			return // of a transfer that already failed
		}
		delete(t.inFlight, m.Tag)
		if err := f.received(t, at, m); err != nil {
			f.finish(ctx, err)
			return
		}
		f.requestOrComplete(ctx, t)

	case *actor.Terminated:
		if t := f.cur; t != nil && m.Who.Equal(t.source) {
			f.finish(ctx, fmt.Errorf("node lost during the transfer (%s): its file server %s terminated", m.Why, m.Who))
		}

	case *actor.ReceiveTimeout:
		if f.cur != nil {
			f.finish(ctx, fmt.Errorf("no chunk from %s for %v", f.cur.source, f.cfg.IdleTimeout))
		}

	case *actor.Stopping:
		if f.cur != nil {
			f.finish(ctx, errors.New("fetcher stopped"))
		}
		for _, t := range f.queue {
			ctx.Send(t.replyTo, &messages.SegmentInstalled{Id: t.seg.GetId(), Error: "fetcher stopped", Code: messages.ErrorCode_ERROR_TRANSFER})
		}
		f.queue = nil
	}
}

// next starts the first queued transfer, if any.
func (f *fetcher) next(ctx actor.Context) {
	for f.cur == nil && len(f.queue) > 0 {
		t := f.queue[0]
		f.queue = f.queue[1:]
		files, err := checkSegment(t.seg)
		if err == nil && t.source == nil {
			err = errors.New("no source to fetch from")
		}
		if err != nil {
			f.reply(ctx, t, fmt.Errorf("shipping: segment %s: %w", t.seg.GetId(), err))
			continue
		}
		t.files = files
		t.start = time.Now()
		t.inFlight = make(map[uint64]chunkAt, f.cfg.Window)
		t.arrived = make(map[uint64]*messages.Chunk, f.cfg.Window)
		t.firstTag = f.nextTag
		f.cur = t
		ctx.Watch(t.source)
		ctx.SetReceiveTimeout(f.cfg.IdleTimeout)
		// Zero-length files (none in a valid segment) need no chunk.
		if err := f.advance(t); err != nil {
			f.finish(ctx, err)
			return
		}
		f.requestOrComplete(ctx, t)
		return
	}
}

// requestOrComplete asks for more chunks of t, or finishes it when every
// file has been written.
func (f *fetcher) requestOrComplete(ctx actor.Context, t *transfer) {
	if t.wFile == len(t.files) {
		f.finish(ctx, f.complete(t))
		return
	}
	f.request(ctx, t)
}

// checkSegment checks that seg names exactly the files of its own segment,
// each once, and returns them with meta last.
func checkSegment(seg *messages.ShippedSegment) ([]*messages.FileDigest, error) {
	if seg == nil {
		return nil, errors.New("no segment")
	}
	id, err := segment.ParseID(seg.Id)
	if err != nil {
		return nil, err
	}
	metaName := id.String() + ".meta"
	var files []*messages.FileDigest
	var meta *messages.FileDigest
	seen := map[string]bool{}
	for _, d := range seg.Files {
		fid, kind, _, ok := segment.ParseFileName(d.Name)
		switch {
		case !ok || fid != id || kind == segment.DeletesKind:
			return nil, fmt.Errorf("%q is not a file of segment %s", d.Name, id)
		case seen[d.Name]:
			return nil, fmt.Errorf("%s is listed twice", d.Name)
		case d.Size < 0:
			return nil, fmt.Errorf("%s has size %d", d.Name, d.Size)
		}
		seen[d.Name] = true
		if d.Name == metaName {
			meta = d
		} else {
			files = append(files, d)
		}
	}
	if meta == nil {
		return nil, fmt.Errorf("its files do not include %s", metaName)
	}
	// Every file of a segment is needed to open it: a listing without one
	// would install "intact" and be committed unopenable.
	for _, name := range segment.SegmentFiles(id) {
		if !seen[name] {
			return nil, fmt.Errorf("its files do not include %s", name)
		}
	}
	return append(files, meta), nil
}

// request asks for chunks until the window is full or every chunk is asked.
func (f *fetcher) request(ctx actor.Context, t *transfer) {
	for len(t.inFlight) < f.cfg.Window && t.reqFile < len(t.files) {
		d := t.files[t.reqFile]
		if t.reqOff >= d.Size {
			t.reqFile++
			t.reqOff = 0
			continue
		}
		n := int(min(int64(f.cfg.ChunkBytes), d.Size-t.reqOff))
		tag := f.nextTag
		f.nextTag++
		t.inFlight[tag] = chunkAt{file: t.reqFile, offset: t.reqOff, length: n}
		ctx.Send(t.source, &messages.ReadChunk{File: d.Name, Offset: t.reqOff, Length: int32(n), Tag: tag, ReplyTo: ctx.Self()})
		t.reqOff += int64(n)
	}
}

// received checks a chunk and writes it and every chunk it was holding up.
func (f *fetcher) received(t *transfer, at chunkAt, c *messages.Chunk) error {
	name := t.files[at.file].Name
	switch {
	case c.Error != "":
		return fmt.Errorf("node cannot read %s: %s", name, c.Error)
	case len(c.Data) != at.length:
		return fmt.Errorf("%s: node sent %d bytes at offset %d, want %d (the node's copy is shorter than its digest says)", name, len(c.Data), at.offset, at.length)
	}
	t.arrived[c.Tag] = c
	for {
		c, ok := t.arrived[t.firstTag+t.written]
		if !ok {
			return nil
		}
		delete(t.arrived, c.Tag)
		t.written++
		if err := f.write(t, c.Data); err != nil {
			return err
		}
	}
}

// write appends data to the file being written, then closes every file
// that is complete.
func (f *fetcher) write(t *transfer, data []byte) error {
	if t.out == nil {
		if err := f.create(t); err != nil {
			return err
		}
	}
	if _, err := t.out.Write(data); err != nil {
		return err
	}
	t.hash.Write(data)
	t.wOff += int64(len(data))
	t.bytes += int64(len(data))
	return f.advance(t)
}

func (f *fetcher) create(t *transfer) error {
	name := t.files[t.wFile].Name
	out, err := f.cfg.Dir.Create(name)
	if err != nil {
		return err
	}
	t.created = append(t.created, name)
	t.out, t.hash = out, xxhash.New()
	return nil
}

// advance finishes the current file when it is complete (checking its
// digest, fsyncing it) and moves on, over any empty files.
func (f *fetcher) advance(t *transfer) error {
	for t.wFile < len(t.files) && t.wOff == t.files[t.wFile].Size {
		if t.out == nil { // an empty file
			if err := f.create(t); err != nil {
				return err
			}
		}
		d := t.files[t.wFile]
		if sum := t.hash.Sum64(); sum != d.Xxhash64 {
			return &storage.CorruptError{File: d.Name, Reason: fmt.Sprintf("received bytes hash to %016x, the node's digest says %016x: corrupted on the node or in transit", sum, d.Xxhash64)}
		}
		err := t.out.Sync()
		if cerr := t.out.Close(); err == nil {
			err = cerr
		}
		t.out = nil
		if err != nil {
			return err
		}
		t.wFile++
		t.wOff = 0
	}
	return nil
}

// complete makes the new names durable and reads every file back to check
// its size, footer and checksum.
func (f *fetcher) complete(t *transfer) error {
	if err := f.cfg.Dir.SyncDir(); err != nil {
		return err
	}
	for _, d := range t.files {
		if err := verifyFile(f.cfg.Dir, d); err != nil {
			return err
		}
	}
	return nil
}

// verifyFile checks that the installed file has the digest's size and a
// valid footer and checksum.
func verifyFile(dir storage.Directory, d *messages.FileDigest) error {
	rf, err := dir.Open(d.Name)
	if err != nil {
		return err
	}
	defer rf.Close()
	if rf.Size() != d.Size {
		return &storage.CorruptError{File: d.Name, Reason: fmt.Sprintf("installed file holds %d bytes, want %d", rf.Size(), d.Size)}
	}
	// The footer names the file's kind; Verify checks everything else.
	var kind [4]byte
	if rf.Size() >= storage.FooterSize {
		if _, err := rf.ReadAt(kind[:], rf.Size()-storage.FooterSize); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	_, err = storage.Verify(rf, kind)
	return err
}

// finish ends the current transfer with err (nil: installed), answers,
// releases the node's copy and starts the next transfer.
func (f *fetcher) finish(ctx actor.Context, err error) {
	t := f.cur
	f.cur = nil
	ctx.CancelReceiveTimeout()
	ctx.Unwatch(t.source)
	if t.out != nil {
		_ = t.out.Close()
		t.out = nil
	}
	if err != nil {
		err = fmt.Errorf("shipping: segment %s: %w", t.seg.Id, err)
		f.cleanup(t)
	}
	ctx.Send(t.source, &messages.ReleaseSegment{Id: t.seg.Id, Files: names(t.files)})
	f.reply(ctx, t, err)
	f.next(ctx)
}

// cleanup removes the files a failed transfer created. Errors are logged
// only: what is left is an orphan, which the writer's cleanup removes if
// the segment-id journal records its id.
func (f *fetcher) cleanup(t *transfer) {
	for _, name := range t.created {
		if err := f.cfg.Dir.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.cfg.Logger.Warn("remove partial segment file", "file", name, "error", err)
		}
	}
	if len(t.created) > 0 {
		if err := f.cfg.Dir.SyncDir(); err != nil {
			f.cfg.Logger.Warn("sync directory after removing partial segment files", "error", err)
		}
	}
}

func (f *fetcher) reply(ctx actor.Context, t *transfer, err error) {
	res := &messages.SegmentInstalled{Id: t.seg.GetId(), Bytes: t.bytes, Chunks: int32(t.written)}
	if err != nil {
		res.Error, res.Code = err.Error(), messages.CodeOf(err)
		if res.Code == messages.ErrorCode_ERROR_NONE {
			res.Code = messages.ErrorCode_ERROR_TRANSFER
		}
		f.cfg.Logger.Warn("segment transfer failed", "segment", t.seg.GetId(), "source", t.source.String(), "error", err)
	} else {
		f.cfg.Logger.Info("segment installed", "segment", t.seg.Id, "bytes", t.bytes, "chunks", t.written, "took", time.Since(t.start))
	}
	if t.replyTo != nil {
		ctx.Send(t.replyTo, res)
	}
}

func names(files []*messages.FileDigest) []string {
	out := make([]string, len(files))
	for i, d := range files {
		out[i] = d.Name
	}
	return out
}
