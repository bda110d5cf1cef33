package actors

// docQueue is the coordinator's queue of accepted documents not yet in a
// batch, oldest first: the groups they came in (AddDocuments), kept as
// they are. A flat slice, appended to per group and cut from the front per
// batch, copied the whole queue each time it ran out of room (about four
// times per document at 1.25x growth), where a group is now appended once
// and most batches are slices of one group.
type docQueue struct {
	groups [][][]byte // the first starts at head
	head   int
	n      int // documents queued
}

// push queues a group; docs must not change afterwards (messages never
// do), as batches may be slices of it.
func (q *docQueue) push(docs [][]byte) {
	if len(docs) > 0 {
		q.groups = append(q.groups, docs)
		q.n += len(docs)
	}
}

// len is how many documents are queued.
func (q *docQueue) len() int { return q.n }

// take removes the oldest documents: at most maxDocs, and no more once
// they hold maxBytes (worker.MessageBytes), at least one; q must not be
// empty. A batch within the first group is a slice of it, one that spans
// groups a copy.
func (q *docQueue) take(maxDocs, maxBytes int, size func([]byte) int) (docs [][]byte, bytes int) {
	g := q.groups[0][q.head:]
	n := 0
	for n < len(g) && n < maxDocs && (n == 0 || bytes < maxBytes) {
		bytes += size(g[n])
		n++
	}
	if n == len(g) && n < maxDocs && bytes < maxBytes && len(q.groups) > 1 {
		docs = append(make([][]byte, 0, min(maxDocs, q.n)), g...)
		q.pop(len(g))
		for q.n > 0 && len(docs) < maxDocs && bytes < maxBytes {
			d := q.groups[0][q.head]
			docs = append(docs, d)
			bytes += size(d)
			q.pop(1)
		}
		return docs, bytes
	}
	docs = g[:n:n]
	q.pop(n)
	return docs, bytes
}

// pop drops the first n documents, all in the first group.
func (q *docQueue) pop(n int) {
	q.head += n
	q.n -= n
	if q.head == len(q.groups[0]) {
		q.groups[0] = nil // let the group go
		q.groups, q.head = q.groups[1:], 0
		if len(q.groups) == 0 {
			q.groups = nil // and the list's backing array
		}
	}
}

// list returns every queued document, oldest first.
func (q *docQueue) list() [][]byte {
	out := make([][]byte, 0, q.n)
	for i, g := range q.groups {
		if i == 0 {
			g = g[q.head:]
		}
		out = append(out, g...)
	}
	return out
}

// drain returns every queued document, oldest first, and empties q.
func (q *docQueue) drain() [][]byte {
	out := q.list()
	*q = docQueue{}
	return out
}
