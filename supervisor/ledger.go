package supervisor

import (
	"fmt"
	"sort"
)

// NoWorker marks a batch that waits in the ledger for a worker.
const NoWorker int32 = -1

// Batch is a unit of work the ledger tracks until it is durable.
type Batch[D any] struct {
	Seq    uint64
	Docs   []D
	Bytes  int
	Worker int32 // NoWorker while queued for (re-)delivery
	// Crashes counts, by index in Docs, how often adding that document
	// crashed a worker.
	Crashes map[int]int
}

// Blame names the document a worker was adding when it panicked: index
// Index of batch Seq. The worker records it before each add.
type Blame struct {
	Seq   uint64
	Index int
}

// Rejection is a document isolated as poison: adding it crashed workers
// MaxCrashes times.
type Rejection[D any] struct {
	Doc    D
	Reason string
}

// Ledger holds every batch handed to a worker until a durable segment holding
// it is acknowledged. It is not safe for concurrent use: one actor owns it.
type Ledger[D any] struct {
	maxCrashes int
	nextSeq    uint64
	open       map[uint64]*Batch[D]
	redeliver  []uint64 // FIFO of batches to hand out again, oldest first
}

// NewLedger returns an empty ledger. A document whose add crashed workers
// maxCrashes times is rejected.
func NewLedger[D any](maxCrashes int) *Ledger[D] {
	if maxCrashes < 1 {
		maxCrashes = 1
	}
	return &Ledger[D]{maxCrashes: maxCrashes, nextSeq: 1, open: make(map[uint64]*Batch[D])}
}

// Open records a new batch of docs and returns it, not yet assigned.
// Sequence numbers start at 1 and only increase.
func (l *Ledger[D]) Open(docs []D, bytes int) *Batch[D] {
	b := &Batch[D]{Seq: l.nextSeq, Docs: docs, Bytes: bytes, Worker: NoWorker}
	l.nextSeq++
	l.open[b.Seq] = b
	return b
}

// LastSeq is the sequence number of the last batch opened, 0 before any.
func (l *Ledger[D]) LastSeq() uint64 { return l.nextSeq - 1 }

// Assign records that worker now holds batch seq.
func (l *Ledger[D]) Assign(seq uint64, worker int32) {
	if b, ok := l.open[seq]; ok {
		b.Worker = worker
	}
}

// NextRedelivery pops the oldest batch waiting to be delivered again.
func (l *Ledger[D]) NextRedelivery() (*Batch[D], bool) {
	for len(l.redeliver) > 0 {
		seq := l.redeliver[0]
		l.redeliver = l.redeliver[1:]
		if b, ok := l.open[seq]; ok && b.Worker == NoWorker {
			return b, true
		}
	}
	return nil, false
}

// Requeue puts an unassigned batch at the front of the re-delivery line.
func (l *Ledger[D]) Requeue(seq uint64) {
	l.redeliver = append([]uint64{seq}, l.redeliver...)
}

// Batch returns open batch seq.
func (l *Ledger[D]) Batch(seq uint64) (*Batch[D], bool) {
	b, ok := l.open[seq]
	return b, ok
}

// Redeliveries reports how many batches wait to be delivered again.
func (l *Ledger[D]) Redeliveries() int { return len(l.redeliver) }

// Durable records that worker wrote batches seqs into a durable segment; they
// leave the ledger. It fails, changing nothing, when any of them is not held
// by that worker (a stale or duplicate notice): the caller must then discard
// the segment, because those batches are being delivered again.
func (l *Ledger[D]) Durable(worker int32, seqs []uint64) error {
	for _, s := range seqs {
		b, ok := l.open[s]
		if !ok {
			return fmt.Errorf("ledger: batch %d is not open (already durable or unknown)", s)
		}
		if b.Worker != worker {
			return fmt.Errorf("ledger: batch %d is held by worker %d, not worker %d", s, b.Worker, worker)
		}
	}
	for _, s := range seqs {
		delete(l.open, s)
	}
	return nil
}

// DurableLate records a durable segment that a lost worker wrote before it
// was lost (its notice overtook by the news of the loss), if none of its
// batches was handed out again since: they leave the ledger. Otherwise it
// fails, changing nothing, and the caller must discard the segment.
func (l *Ledger[D]) DurableLate(seqs []uint64) error {
	if err := l.CheckLate(seqs); err != nil {
		return err
	}
	for _, s := range seqs {
		delete(l.open, s)
	}
	return nil
}

// CheckLate reports whether DurableLate(seqs) would take the segment now,
// changing nothing: a segment still to be installed is worth installing.
func (l *Ledger[D]) CheckLate(seqs []uint64) error {
	for _, s := range seqs {
		b, ok := l.open[s]
		if !ok {
			return fmt.Errorf("ledger: batch %d is not open (already durable or unknown)", s)
		}
		if b.Worker != NoWorker {
			return fmt.Errorf("ledger: batch %d was handed to worker %d again", s, b.Worker)
		}
		if len(b.Crashes) > 0 {
			// A document was rejected from it since: the segment may
			// hold that document.
			return fmt.Errorf("ledger: batch %d changed since", s)
		}
	}
	return nil
}

// WorkerLost queues every batch the worker held for re-delivery, at once.
// blame, if not nil, names the document whose add crashed it: once that
// document has crashed workers maxCrashes times it leaves its batch and is
// rejected with reason; the rest of the batch is re-delivered like the
// others. A stop, or a crash outside an add, blames nothing.
func (l *Ledger[D]) WorkerLost(worker int32, blame *Blame, reason string) []Rejection[D] {
	var rejected []Rejection[D]
	for _, s := range l.HeldBy(worker) {
		b := l.open[s]
		b.Worker = NoWorker
		if blame != nil && blame.Seq == s && blame.Index >= 0 && blame.Index < len(b.Docs) {
			if r, ok := l.charge(b, blame.Index, reason); ok {
				rejected = append(rejected, r)
			}
		}
		if len(b.Docs) == 0 {
			delete(l.open, s)
			continue
		}
		l.redeliver = append(l.redeliver, s)
	}
	return rejected
}

// LateBlame charges the document blame names with a crash reported after
// its worker was lost without blame (a remote worker's report can come
// after the news of its stop). Once the document has crashed workers
// maxCrashes times it is rejected with reason, if its batch waits for
// re-delivery; a batch a worker holds is left as it is, and the document is
// rejected at its next crash.
func (l *Ledger[D]) LateBlame(blame Blame, reason string) []Rejection[D] {
	b, ok := l.open[blame.Seq]
	if !ok || blame.Index < 0 || blame.Index >= len(b.Docs) {
		return nil
	}
	if b.Worker != NoWorker {
		if b.Crashes == nil {
			b.Crashes = map[int]int{}
		}
		b.Crashes[blame.Index]++
		return nil
	}
	r, ok := l.charge(b, blame.Index, reason)
	if !ok {
		return nil
	}
	if len(b.Docs) == 0 {
		delete(l.open, b.Seq)
	}
	return []Rejection[D]{r}
}

// charge counts a crash of document i of b; at maxCrashes it takes the
// document out of b and returns it rejected.
func (l *Ledger[D]) charge(b *Batch[D], i int, reason string) (Rejection[D], bool) {
	if b.Crashes == nil {
		b.Crashes = map[int]int{}
	}
	b.Crashes[i]++
	if b.Crashes[i] < l.maxCrashes {
		return Rejection[D]{}, false
	}
	r := Rejection[D]{Doc: b.Docs[i], Reason: reason}
	b.remove(i)
	return r, true
}

// remove takes document i out of the batch, keeping the others' crash
// counts on the right documents.
func (b *Batch[D]) remove(i int) {
	n := len(b.Docs)
	b.Bytes -= b.Bytes / n
	b.Docs = append(b.Docs[:i:i], b.Docs[i+1:]...)
	crashes := map[int]int{}
	for j, c := range b.Crashes {
		switch {
		case j < i:
			crashes[j] = c
		case j > i:
			crashes[j-1] = c
		}
	}
	b.Crashes = crashes
}

// Outstanding reports how many batches are not yet durable.
func (l *Ledger[D]) Outstanding() int { return len(l.open) }

// OutstandingUpTo reports how many batches numbered up to seq are not yet
// durable.
func (l *Ledger[D]) OutstandingUpTo(seq uint64) int {
	n := 0
	for s := range l.open {
		if s <= seq {
			n++
		}
	}
	return n
}

// HeldBy lists, ascending, the batches a worker holds.
func (l *Ledger[D]) HeldBy(worker int32) []uint64 {
	var seqs []uint64
	for s, b := range l.open {
		if b.Worker == worker {
			seqs = append(seqs, s)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs
}
