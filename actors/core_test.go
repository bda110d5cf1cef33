package actors

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/supervisor"
)

// TestCoordinatorScripts runs the scripts in testdata/coordinator_*.txt
// against coordinatorCore: each delivers messages, panics, stops and the
// passing of time in a chosen order, and shows every effect (a message
// sent, a worker spawned or restarted, a timer set). Rewrite the expected
// output with -rewrite after a deliberate change, and read the diff.
func TestCoordinatorScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if !strings.Contains(path, "coordinator_") {
			return
		}
		var h *coreHarness
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "init" {
				h = newCoreHarness(t, d)
				return h.show(h.core.start())
			}
			return h.run(t, d)
		})
	})
}

// TestCommitterScripts runs testdata/committer_*.txt against committerCore.
func TestCommitterScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if !strings.Contains(path, "committer_") {
			return
		}
		var c committerCore
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			var ev interface{}
			switch d.Cmd {
			case "prepare":
				ev = &messages.PrepareRequest{Prepare: uint64(intArg(t, d, "prepare", 0)), UpTo: uint64(intArg(t, d, "up-to", 0))}
			case "durable":
				m := &messages.DurableResponse{Prepare: uint64(intArg(t, d, "prepare", 0)), Error: strArg(d, "error", "")}
				for i := 0; i < intArg(t, d, "segments", 0); i++ {
					m.Segments = append(m.Segments, &messages.SegmentInfo{Id: fmt.Sprintf("s%d", i+1), NumDocs: 10, Files: []string{fmt.Sprintf("s%d.store", i+1)}})
					m.Docs += 10
				}
				ev = m
			case "commit":
				ev = &messages.CommitRequest{}
			case "registered":
				ev = &messages.RegisterSegmentsResponse{Generation: uint64(intArg(t, d, "generation", 0)), Error: strArg(d, "error", "")}
			case "abort":
				ev = &messages.AbortRequest{Keep: d.HasArg("keep")}
			default:
				t.Fatalf("unknown command %q", d.Cmd)
			}
			out := showEffects(c.step(ev), nil)
			return out + fmt.Sprintf("state: %s\n", [...]string{"idle", "preparing", "prepared", "committing"}[c.state])
		})
	})
}

// coreHarness drives a coordinatorCore and stands in for its workers: a
// simulated worker adds every batch sent to its current generation to its
// builder, which an ack or a budget build turns into a segment.
type coreHarness struct {
	core     *coordinatorCore
	now      time.Time
	timers   []timer
	nextDoc  uint64
	nextSeg  int
	builders map[int32]*simWorker
}

type timer struct {
	at    time.Time
	event interface{}
}

type simWorker struct {
	generation uint64
	batches    []uint64
	docs       int
	flush      uint64 // the last FlushRequest it got
}

func newCoreHarness(t *testing.T, d *datadriven.TestData) *coreHarness {
	h := &coreHarness{now: time.Unix(1_700_000_000, 0), builders: map[int32]*simWorker{}}
	backoff := supervisor.Backoff{Initial: durationArg(t, d, "backoff", 10*time.Millisecond), Max: time.Second, Multiplier: 2}
	h.core = newCoordinatorCore(coreConfig{
		Workers:    intArg(t, d, "workers", 2),
		BatchDocs:  intArg(t, d, "batch", 4),
		BatchBytes: 1 << 20,
		MaxCrashes: intArg(t, d, "max-crashes", 2),
		Backoff:    backoff,
		Now:        func() time.Time { return h.now },
		Serial:     d.HasArg("serial"),
	})
	return h
}

func (h *coreHarness) run(t *testing.T, d *datadriven.TestData) string {
	worker := int32(intArg(t, d, "worker", 0))
	sim := h.builders[worker]
	gen := func() uint64 {
		if d.HasArg("gen") {
			return uint64(intArg(t, d, "gen", 0))
		}
		return h.core.workers[worker].generation
	}
	if out, ok := h.runRemote(t, d); ok { // remote_core_test.go
		return out
	}
	var ev interface{}
	switch d.Cmd {
	case "add":
		m := &messages.AddDocuments{}
		for i := 0; i < intArg(t, d, "docs", 1); i++ {
			h.nextDoc++
			doc := new(segment.Document).AddString("id", fmt.Sprintf("d%d", h.nextDoc))
			m.Docs = append(m.Docs, ToMessage(doc, h.nextDoc))
		}
		ev = m
	case "grow": // the writer's schema grew to version
		v := intArg(t, d, "version", 1)
		ev = &messages.AddDocuments{SchemaVersion: uint32(v), Schema: fmt.Appendf(nil, "schema-v%d", v)}
	case "request-work":
		ev = &messages.RequestWork{Worker: worker, Generation: gen()}
	case "prepare":
		ev = &messages.PrepareRequest{UpTo: uint64(intArg(t, d, "up-to", int(h.nextDoc))), DeadlineMs: durationArg(t, d, "deadline", 0).Milliseconds()}
	case "cancel":
		ev = &messages.CancelPrepare{Prepare: uint64(intArg(t, d, "prepare", 0))}
	case "abort":
		ev = &messages.AbortRequest{Keep: true}
	case "ack", "built":
		seg, batches := h.segment(sim)
		if d.HasArg("batches") { // a notice from an earlier generation
			h.nextSeg++
			seg = &messages.SegmentInfo{Id: fmt.Sprintf("s%d", h.nextSeg), NumDocs: uint32(intArg(t, d, "docs", 1))}
			batches = nil
			for _, s := range strings.Split(strArg(d, "batches", ""), ",") {
				n, _ := strconv.ParseUint(s, 10, 64)
				batches = append(batches, n)
			}
		}
		if d.Cmd == "built" {
			ev = &messages.SegmentBuilt{Worker: worker, Generation: gen(), Segment: seg, Batches: batches}
		} else {
			ev = &messages.FlushAck{Worker: worker, Generation: gen(), Round: uint64(intArg(t, d, "round", int(sim.flush))), Segment: seg, Batches: batches}
		}
	case "panic":
		f := workerFailed{worker: worker, generation: gen(), reason: strArg(d, "reason", "boom")}
		if d.HasArg("batch") {
			f.blame = &supervisor.Blame{Seq: uint64(intArg(t, d, "batch", 0)), Index: intArg(t, d, "doc", 0)}
		}
		ev = f
	case "build-fails":
		ev = workerFailed{worker: worker, generation: gen(), reason: "build segment: storage: disk full", buildFailed: true,
			flushID: uint64(intArg(t, d, "round", int(sim.flush))), code: messages.ErrorCode_ERROR_DISK_FULL}
	case "stop":
		ev = workerStopped{worker: worker}
	case "return":
		ev = &messages.ReturnDurable{Segments: []*messages.SegmentInfo{{Id: strArg(d, "segment", "s?"), NumDocs: 1}}, Docs: 1}
	case "tick":
		return h.tick(durationArg(t, d, "by", 0))
	case "state":
		return h.state()
	default:
		t.Fatalf("unknown command %q", d.Cmd)
	}
	return h.show(h.core.step(ev))
}

// segment turns a simulated worker's builder into a segment, or nil when
// it is empty.
func (h *coreHarness) segment(sim *simWorker) (*messages.SegmentInfo, []uint64) {
	if sim == nil || sim.docs == 0 {
		return nil, nil
	}
	h.nextSeg++
	seg := &messages.SegmentInfo{Id: fmt.Sprintf("s%d", h.nextSeg), NumDocs: uint32(sim.docs), Files: []string{fmt.Sprintf("s%d.store", h.nextSeg)}}
	batches := sim.batches
	sim.batches, sim.docs = nil, 0
	return seg, batches
}

// tick moves time on and delivers the timers that fall due.
func (h *coreHarness) tick(by time.Duration) string {
	h.now = h.now.Add(by)
	var b strings.Builder
	sort.SliceStable(h.timers, func(i, j int) bool { return h.timers[i].at.Before(h.timers[j].at) })
	for len(h.timers) > 0 && !h.timers[0].at.After(h.now) {
		tm := h.timers[0]
		h.timers = h.timers[1:]
		fmt.Fprintf(&b, "fire %s\n", showEvent(tm.event))
		b.WriteString(h.show(h.core.step(tm.event)))
	}
	return b.String()
}

// show prints effects and applies them to the simulated workers and timers.
func (h *coreHarness) show(effects []effect) string {
	return showEffects(effects, h)
}

func showEffects(effects []effect, h *coreHarness) string {
	var b strings.Builder
	for _, e := range effects {
		switch e := e.(type) {
		case toWorker:
			var sim *simWorker
			if h != nil {
				sim = h.builders[e.worker]
			}
			switch m := e.msg.(type) {
			case *messages.Batch:
				fmt.Fprintf(&b, "-> worker %d: Batch seq=%d gen=%d docs=%v%s\n", e.worker, m.Seq, m.Generation, docSeqs(m.Docs), showSchema(m))
				if sim != nil && sim.generation == m.Generation {
					sim.batches = append(sim.batches, m.Seq)
					sim.docs += len(m.Docs)
				}
			case *messages.FlushRequest:
				fmt.Fprintf(&b, "-> worker %d: FlushRequest round=%d\n", e.worker, m.Round)
				if sim != nil {
					sim.flush = m.Round
				}
			}
		case toCommitter:
			m := e.msg.(*messages.DurableResponse)
			var segs []string
			for _, s := range m.Segments {
				segs = append(segs, fmt.Sprintf("%s(%d)", s.Id, s.NumDocs))
			}
			var rejected []uint64
			for _, r := range m.Rejected {
				rejected = append(rejected, DocSeq(r.Doc))
			}
			fmt.Fprintf(&b, "-> committer: DurableResponse prepare=%d docs=%d segments=%v rejected=%v rounds=%d", m.Prepare, m.Docs, segs, rejected, m.Rounds)
			if m.Error != "" {
				fmt.Fprintf(&b, " code=%s error=%q", m.Code, m.Error)
			}
			b.WriteString("\n")
		case toCoordinator:
			switch m := e.msg.(type) {
			case *messages.CancelPrepare:
				fmt.Fprintf(&b, "-> coordinator: CancelPrepare prepare=%d\n", m.Prepare)
			case *messages.ReturnDurable:
				fmt.Fprintf(&b, "-> coordinator: ReturnDurable segments=%d docs=%d\n", len(m.Segments), m.Docs)
			}
		case forwardToCommitter:
			switch m := e.msg.(type) {
			case *messages.PrepareRequest:
				fmt.Fprintf(&b, "-> committer (for the writer): PrepareRequest prepare=%d up-to=%d\n", m.Prepare, m.UpTo)
			case *messages.AbortRequest:
				fmt.Fprintf(&b, "-> committer (for the writer): AbortRequest keep=%t\n", m.Keep)
			}
		case toManager:
			m := e.msg.(*messages.RegisterSegments)
			fmt.Fprintf(&b, "-> segment manager: RegisterSegments segments=%d\n", len(m.Segments))
		case toRequester:
			fmt.Fprintf(&b, "-> requester: %s\n", showReply(e.msg))
		case respond:
			fmt.Fprintf(&b, "respond: %s\n", showReply(e.msg))
		case spawnWorker:
			fmt.Fprintf(&b, "spawn worker %d gen=%d\n", e.worker, e.generation)
			if h != nil {
				h.builders[e.worker] = &simWorker{generation: e.generation}
			}
		case restartWorker:
			fmt.Fprintf(&b, "restart worker %d gen=%d\n", e.worker, e.generation)
			if h != nil {
				h.builders[e.worker] = &simWorker{generation: e.generation}
			}
		case after:
			fmt.Fprintf(&b, "after %v: %s\n", e.d, showEvent(e.event))
			if h != nil {
				h.timers = append(h.timers, timer{at: h.now.Add(e.d), event: e.event})
			}
		case releaseCredits:
			fmt.Fprintf(&b, "release %d credits\n", e.n)
		case deleteFiles:
			fmt.Fprintf(&b, "delete segment %s\n", e.segment)
		default:
			if s := showRemote(e); s != "" {
				b.WriteString(s)
				continue
			}
			fmt.Fprintf(&b, "%T %+v\n", e, e)
		}
	}
	return b.String()
}

func showReply(msg interface{}) string {
	switch m := msg.(type) {
	case *messages.PrepareResponse:
		if m.Error != "" {
			return fmt.Sprintf("PrepareResponse error=%q code=%s", m.Error, m.Code)
		}
		return fmt.Sprintf("PrepareResponse segments=%d docs=%d", len(m.Segments), m.Docs)
	case *messages.CommitResponse:
		if m.Error != "" {
			return fmt.Sprintf("CommitResponse error=%q", m.Error)
		}
		return fmt.Sprintf("CommitResponse generation=%d", m.Generation)
	case *messages.AbortResponse:
		if m.Error != "" {
			return fmt.Sprintf("AbortResponse error=%q", m.Error)
		}
		return "AbortResponse"
	}
	return fmt.Sprintf("%T", msg)
}

func showEvent(ev interface{}) string {
	switch e := ev.(type) {
	case restartDue:
		return fmt.Sprintf("restart due: worker %d gen=%d", e.worker, e.generation)
	case deadlineDue:
		return fmt.Sprintf("deadline due: prepare %d", e.prepare)
	}
	return fmt.Sprintf("%T", ev)
}

// state prints what the core holds.
func (h *coreHarness) state() string {
	c := h.core
	var b strings.Builder
	var queued []uint64
	for _, d := range c.queue.list() {
		queued = append(queued, DocSeq(d))
	}
	fmt.Fprintf(&b, "queue: %v\n", queued)
	for _, w := range c.workers {
		fmt.Fprintf(&b, "worker %d: gen=%d live=%t idle=%t holds=%v\n", w.id, w.generation, w.live, w.idle, c.ledger.HeldBy(w.id))
	}
	fmt.Fprintf(&b, "outstanding batches: %d; durable segments: %d (%d docs); rejected: %d\n",
		c.ledger.Outstanding(), len(c.segments), c.segmentDoc, len(c.rejected))
	return b.String()
}

func docSeqs(docs [][]byte) []uint64 {
	out := make([]uint64, len(docs))
	for i, d := range docs {
		out[i] = DocSeq(d)
	}
	return out
}

func intArg(t *testing.T, d *datadriven.TestData, key string, def int) int {
	if !d.HasArg(key) {
		return def
	}
	var v int
	d.ScanArgs(t, key, &v)
	return v
}

func strArg(d *datadriven.TestData, key, def string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return strings.Join(a.Vals, ",")
		}
	}
	return def
}

func durationArg(t *testing.T, d *datadriven.TestData, key string, def time.Duration) time.Duration {
	if !d.HasArg(key) {
		return def
	}
	v, err := time.ParseDuration(strArg(d, key, ""))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return v
}

// showSchema shows a batch's schema version, and the schema it carries,
// once the schema grew.
func showSchema(m *messages.Batch) string {
	if m.SchemaVersion == 0 && m.Schema == nil {
		return ""
	}
	if m.Schema == nil {
		return fmt.Sprintf(" schema=v%d", m.SchemaVersion)
	}
	return fmt.Sprintf(" schema=v%d carries=%s", m.SchemaVersion, m.Schema)
}
