package supervisor

import (
	"fmt"
	"sort"
)

// NoWorker marks a batch that waits in the ledger for a worker.
const NoWorker int32 = -1

// Batch is a unit of work the ledger tracks until it is durable.
type Batch[D any] struct {
	Seq     uint64
	Docs    []D
	Bytes   int
	Worker  int32 // NoWorker while queued for (re-)delivery
	Crashes int   // how often delivering this batch crashed a worker
}

// Rejection is a document isolated as poison: alone in its batch, it crashed
// workers MaxCrashes times.
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

// NewLedger returns an empty ledger. A batch whose delivery crashed workers
// maxCrashes times is split in two (or, holding one document, rejected).
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

// WorkerLost queues every batch the worker held for re-delivery. failed is
// the batch whose delivery crashed it (0 if none: a stop, or a crash outside
// a batch). A batch that has now crashed workers maxCrashes times is split in
// halves, each a new batch; a single document is rejected with reason.
func (l *Ledger[D]) WorkerLost(worker int32, failed uint64, reason string) []Rejection[D] {
	var held []uint64
	for s, b := range l.open {
		if b.Worker == worker {
			held = append(held, s)
		}
	}
	sort.Slice(held, func(i, j int) bool { return held[i] < held[j] })

	var rejected []Rejection[D]
	for _, s := range held {
		b := l.open[s]
		b.Worker = NoWorker
		if s == failed {
			b.Crashes++
		}
		if b.Crashes < l.maxCrashes {
			l.redeliver = append(l.redeliver, s)
			continue
		}
		delete(l.open, s)
		if len(b.Docs) <= 1 {
			for _, d := range b.Docs {
				rejected = append(rejected, Rejection[D]{Doc: d, Reason: reason})
			}
			continue
		}
		half := len(b.Docs) / 2
		for _, part := range [][]D{b.Docs[:half:half], b.Docs[half:]} {
			n := l.Open(part, b.Bytes*len(part)/len(b.Docs))
			l.redeliver = append(l.redeliver, n.Seq)
		}
	}
	return rejected
}

// Outstanding reports how many batches are not yet durable.
func (l *Ledger[D]) Outstanding() int { return len(l.open) }

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
