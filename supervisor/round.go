package supervisor

import "sort"

// Round is the ack accounting of one flush round: which workers must still
// answer, and from which generation on. An awaited worker restarted in the
// middle of the round owes an ack from its new generation (the flush request
// that crashed it may have been dropped, so it is sent again); a worker that
// stopped for good owes none. Either way its batches are re-delivered, and
// the ledger check after the round asks for another round to cover them; so
// a worker that already acked owes nothing more this round.
type Round struct {
	Number  uint64
	waiting map[int32]uint64 // worker -> lowest generation whose ack counts
}

// NewRound starts round n, expecting one ack from each worker at or after
// the given generation.
func NewRound(n uint64, workers map[int32]uint64) *Round {
	w := make(map[int32]uint64, len(workers))
	for id, gen := range workers {
		w[id] = gen
	}
	return &Round{Number: n, waiting: w}
}

// Ack records an ack; it reports whether the ack counts (the worker was
// awaited and the generation is current).
func (r *Round) Ack(worker int32, generation uint64) bool {
	min, ok := r.waiting[worker]
	if !ok || generation < min {
		return false
	}
	delete(r.waiting, worker)
	return true
}

// Restarted records that worker came back as generation. If its ack is
// still awaited, it must now come from that generation or later, and
// Restarted reports true: the caller sends the flush request again.
func (r *Round) Restarted(worker int32, generation uint64) bool {
	if _, ok := r.waiting[worker]; !ok {
		return false
	}
	r.waiting[worker] = generation
	return true
}

// Lost records that worker stopped for good; the round stops waiting for it.
func (r *Round) Lost(worker int32) { delete(r.waiting, worker) }

// Done reports whether every awaited ack arrived.
func (r *Round) Done() bool { return len(r.waiting) == 0 }

// Waiting lists, ascending, the workers whose ack is awaited.
func (r *Round) Waiting() []int32 {
	ids := make([]int32, 0, len(r.waiting))
	for id := range r.waiting {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
