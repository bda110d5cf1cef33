// Package mergepolicy decides which committed segments to merge, and
// (Pacer) how much of the CPU the merges may take.
//
// A Policy is pure: it sees a snapshot of the committed segments and the
// set already being merged, and returns merges to start. It does no I/O and
// keeps no state between calls, so the writer may ask it as often as it
// likes (after every commit and every finished merge) and tests can drive it
// through long simulated histories.
//
// Two policies are provided: Tiered, the default (the original Hermes's
// tiered policy), and NoMerge. ForceMergeRounds plans a ForceMerge. A
// Pacer, unlike a Policy, keeps state: the CPU time merges have used.
package mergepolicy

import (
	"cmp"
	"slices"
)

// Segment is what a policy sees of a committed segment.
type Segment struct {
	// ID names the segment, unique within the index.
	ID string
	// NumDocs counts the documents stored in the segment, deleted or not.
	NumDocs uint32
	// NumDeleted counts its deleted documents (at most NumDocs).
	NumDeleted uint32
	// Bytes is the segment's size on disk. Tiered sizes segments by live
	// documents, not bytes, and ignores it.
	Bytes int64
}

// Live returns the number of live (not deleted) documents. It is 0 for
// inconsistent input where NumDeleted exceeds NumDocs.
func (s Segment) Live() uint32 {
	if s.NumDeleted >= s.NumDocs {
		return 0
	}
	return s.NumDocs - s.NumDeleted
}

// Merge is one merge to run: the IDs of its source segments. A merge
// writes one new segment holding the live documents of its sources. A merge
// may have a single source: it rewrites that segment without its deleted
// documents.
type Merge struct {
	Sources []string
}

// Policy picks merges.
//
// Implementations must be deterministic and fast; the writer asks after
// every commit and after every merge ends. merging holds the IDs of the
// segments already in running merges: a policy never picks those, never
// picks a segment twice, and never names a segment not in segments. The
// writer may start only some of the merges returned (it bounds how many run
// at once); it asks again when one ends.
type Policy interface {
	FindMerges(segments []Segment, merging map[string]bool) []Merge
}

// NoMerge never merges. Use it to keep segments as committed (tests, bulk
// loads followed by one ForceMerge).
type NoMerge struct{}

// FindMerges returns nil.
func (NoMerge) FindMerges([]Segment, map[string]bool) []Merge { return nil }

// DefaultForceMergeAtOnce is the number of segments ForceMergeRounds merges
// at once when given maxAtOnce < 2.
const DefaultForceMergeAtOnce = 64

// ForceMergeRounds plans the next round of a ForceMerge down to one
// segment: call it, run the merges it returns (they are independent and may
// run in parallel), then call it again with the resulting segments, until it
// returns nil. Each merge has at most maxAtOnce sources (values below 2 mean
// DefaultForceMergeAtOnce). The caller waits for running merges before
// starting, so every segment is available.
//
// Each round merges only as much as is needed so that the next round can
// finish in a single merge, smallest segments first: with 70 segments and
// maxAtOnce 64, the first round merges the 7 smallest into one and the
// second merges the remaining 64. So large segments are rewritten once, and
// the plan takes ceil(log_maxAtOnce(n)) rounds at most.
//
// A lone segment is rewritten once if it holds deleted documents, so that
// the result of a ForceMerge never carries deletes; a lone segment without
// deletes (and an empty index) needs nothing.
func ForceMergeRounds(segments []Segment, maxAtOnce int) []Merge {
	if maxAtOnce < 2 {
		maxAtOnce = DefaultForceMergeAtOnce
	}
	switch len(segments) {
	case 0:
		return nil
	case 1:
		if segments[0].NumDeleted > 0 {
			return []Merge{{Sources: []string{segments[0].ID}}}
		}
		return nil
	}
	sorted := sortBySize(segments)
	n := len(sorted)
	if n <= maxAtOnce {
		return []Merge{{Sources: ids(sorted)}}
	}
	// Reduce the count to maxAtOnce (so the next round is the last), each
	// merge of g segments removing g-1 of them. If one round cannot reach
	// that, merge every full group: the count still shrinks by ~maxAtOnce.
	need := n - maxAtOnce
	var merges []Merge
	for i := 0; need > 0 && n-i >= 2; {
		g := min(maxAtOnce, need+1, n-i)
		merges = append(merges, Merge{Sources: ids(sorted[i : i+g])})
		i += g
		need -= g - 1
	}
	return merges
}

// sortBySize returns a copy of segs sorted by live documents, then ID, so
// every decision is independent of the input order.
func sortBySize(segs []Segment) []Segment {
	out := slices.Clone(segs)
	slices.SortFunc(out, func(a, b Segment) int {
		return cmp.Or(cmp.Compare(a.Live(), b.Live()), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func ids(segs []Segment) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.ID
	}
	return out
}
