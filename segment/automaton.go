package segment

import (
	"errors"

	"github.com/blevesearch/vellum"
)

// TermsMatching calls fn with each term of field that the automaton a
// accepts, in byte order, restricted to start <= term < end (a nil bound is
// open), until fn returns false. The walk prunes the term dictionary with
// the automaton (vellum's FST search), so a Levenshtein or regular
// expression automaton visits only the dictionary paths it can still
// accept. The slice is only valid during the call. An automaton with an
// Err method (RegexpAutomaton) that reports an error after the walk fails
// it with that error.
func (r *Reader) TermsMatching(field string, a vellum.Automaton, start, end []byte, fn func(term []byte) bool) (err error) {
	rf, err := r.indexedField(field)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = corrupt(fileName(r.core.id, kindDict), "field %q: unreadable FST: %v", rf.field.Name, p)
		}
	}()
	it, err := rf.fst.Search(a, start, end)
	for err == nil {
		term, _ := it.Current()
		if !fn(term) {
			break
		}
		err = it.Next()
	}
	if err == nil {
		err = vellum.ErrIteratorDone
	}
	if errors.Is(err, vellum.ErrIteratorDone) {
		if b, ok := a.(interface{ Err() error }); ok {
			return b.Err()
		}
		return nil
	}
	return corrupt(fileName(r.core.id, kindDict), "field %q: %v", rf.field.Name, err)
}
