package analysis

// QueueTokens and QueueBytes are the capacity of a TermQueue: enough
// tokens for a receiver to work on them in passes whose cache misses
// overlap, few enough that what its first passes bring into the cache is
// still there for the last.
const (
	QueueTokens = 128
	QueueBytes  = 4096
)

// TermQueue holds the terms that a QueueTokenizer wrote for its caller:
// term k (k < N) is Bytes[Ends[k-1]:Ends[k]] (from 0 for the first), at
// position Positions[k]. It holds no pointer, so that queuing a term
// stores none: no write barrier per token while the collector runs.
type TermQueue struct {
	N         int // queued terms
	Used      int // bytes of the queued terms
	Ends      [QueueTokens]uint32
	Positions [QueueTokens]uint32
	// Bytes has 8 spare bytes past QueueBytes, so that writers and
	// readers may store and load 8 bytes at a time.
	Bytes [QueueBytes + 8]byte
}

// Reset empties q.
func (q *TermQueue) Reset() { q.N, q.Used = 0, 0 }

// Term returns the bytes of term k.
func (q *TermQueue) Term(k int) []byte {
	start := uint32(0)
	if k > 0 {
		start = q.Ends[k-1]
	}
	return q.Bytes[start:q.Ends[k]]
}

// Push queues term at pos if q has room for it, and reports whether it
// had. The position is stored as QueuedPosition(pos).
func (q *TermQueue) Push(term []byte, pos int) bool {
	at := q.Used
	if q.N == QueueTokens || len(term) > QueueBytes-at {
		return false
	}
	copy(q.Bytes[at:], term)
	q.Used = at + len(term)
	q.Ends[q.N] = uint32(q.Used)
	q.Positions[q.N] = QueuedPosition(pos)
	q.N++
	return true
}

// QueuedPosition is a token's position as a TermQueue holds it: positions
// beyond 1<<31 become 1<<31, negative ones 0.
func QueuedPosition(pos int) uint32 { return uint32(min(max(pos, 0), 1<<31)) }

// QueueTokenizer is a Tokenizer that can also write its tokens' terms and
// positions straight into its caller's TermQueue, which saves a call and
// a copy of the term per token. Offsets (Token.Start, End) are not kept.
type QueueTokenizer interface {
	Tokenizer
	// TokenizeQueue queues the tokens that Tokenize would emit, in
	// order, in q, and no empty term. When q has no room for the next
	// term it calls full, which must empty q (Reset); a term too long for
	// an empty q goes to long instead, once full has emptied q, so that
	// the tokens arrive in order. It returns with the last tokens in q.
	TokenizeQueue(text string, q *TermQueue, full func(), long func(Token))
}
