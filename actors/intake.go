package actors

import (
	"sync"

	"github.com/hermes-search/hermes-go/messages"
)

// Intake carries accepted documents from the writer's adds to the
// coordinator, many at a time. An add puts its documents here; the add that
// finds no wake-up on its way sends one (IntakeReady), and the coordinator,
// when it gets to it, takes every document put until then. So no document
// waits for more documents, and while the coordinator is busy or not yet
// scheduled the adds of many goroutines cost it one message: a message per
// add, which made the coordinator's mailbox and scheduling a large part of
// an add's cost, became one per group.
//
// Order against the writer's other messages: the writer puts and sends the
// wake-up with its intake lock held for reading, and before a message that
// must follow every earlier add (a commit's prepare, a grown schema) it
// takes that lock for writing and calls Flush, which sends what waits
// directly and starts a new epoch: a wake-up of an older epoch, still in
// the mailbox, then takes nothing, so no later document overtakes the
// message.
type Intake struct {
	mu    sync.Mutex
	docs  [][]byte
	epoch uint64 // Flush starts a new one
	woken bool   // a wake-up for epoch is on its way to the coordinator
}

// IntakeReady tells the coordinator that documents wait in its Intake.
type IntakeReady struct{ epoch uint64 }

// Put adds accepted documents (wire forms, see ToMessage). If it returns a
// wake-up, the caller sends it to the coordinator, before anything that
// must follow these documents.
func (q *Intake) Put(docs ...[]byte) *IntakeReady {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.docs = append(q.docs, docs...)
	if q.woken {
		return nil
	}
	q.woken = true
	return &IntakeReady{epoch: q.epoch}
}

// Flush returns what waits as a message to send to the coordinator now
// (nil if nothing waits), and makes the wake-ups already sent void.
func (q *Intake) Flush() *messages.AddDocuments {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.epoch++
	q.woken = false
	docs := q.docs
	q.docs = nil
	if len(docs) == 0 {
		return nil
	}
	return &messages.AddDocuments{Docs: docs}
}

// take returns the documents a wake-up announced, and every one put since:
// none if a Flush came between.
func (q *Intake) take(m *IntakeReady) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if m.epoch != q.epoch {
		return nil
	}
	q.woken = false
	docs := q.docs
	// The coordinator keeps the group, so the next one is new, sized like
	// this one: puts then rarely grow it.
	q.docs = make([][]byte, 0, len(docs))
	return docs
}
