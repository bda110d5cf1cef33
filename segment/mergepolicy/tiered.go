package mergepolicy

// Tiered is the default merge policy, the original Hermes's, in the spirit
// of Lucene's TieredMergePolicy and tantivy's LogMergePolicy. It works in
// three steps:
//
//  1. Size. A segment's size is its live documents (NumDocs - NumDeleted),
//     raised to FloorDocs if smaller, so that tiny segments count as one
//     floor-sized one and are merged together early. Segments in running
//     merges are left out entirely.
//
//  2. Tiers. Sizes are grouped into tiers that each span a factor w, the
//     tier width, w = min(SegmentsPerTier, MaxMergeAtOnce): tier 0 holds
//     sizes below FloorDocs*w, tier 1 below FloorDocs*w², and so on. While a
//     tier holds more than SegmentsPerTier segments, its smallest ones are
//     merged: up to MaxMergeAtOnce of them, smallest first, stopping before
//     the merged segment would pass MaxMergedDocs live documents (a merge
//     needs at least two). Merging w segments of a tier multiplies the size
//     by at least w, so the result moves up a tier: each document is
//     rewritten about once per tier, and an index of n documents keeps at
//     most about SegmentsPerTier * (log_w(n/FloorDocs) + 1) segments, plus
//     the segments too large to merge further.
//
//  3. Deletes. A segment not picked above whose deleted share
//     (NumDeleted/NumDocs) exceeds MaxDeletedShare is rewritten alone to
//     reclaim the space, if its live documents fit in MaxMergedDocs.
//     (Deletes also shrink a segment's size, so it drops into a lower tier
//     and is merged with its peers there.)
//
// No merge ever produces a segment of more than MaxMergedDocs live
// documents, so segments at or above MaxMergedDocs (e.g. from ForceMerge)
// are never merged or rewritten by the policy; only ForceMerge touches
// them.
//
// Decisions depend only on the segments' sizes and IDs, not on their order
// in the input. A zero (or out-of-range) field takes its default; see
// DefaultTiered. Tiered is safe for concurrent use if not modified.
type Tiered struct {
	// SegmentsPerTier is how many segments a tier may hold before its
	// smallest are merged. Default 10; at least 1.
	SegmentsPerTier int
	// MaxMergeAtOnce bounds the number of sources of one merge. Default
	// 10; at least 2.
	MaxMergeAtOnce int
	// FloorDocs is the size below which segments count as FloorDocs live
	// documents. Default 1,000.
	FloorDocs uint32
	// MaxMergedDocs bounds the live documents of a merged segment.
	// Default 5,000,000.
	MaxMergedDocs uint32
	// MaxDeletedShare is the share of deleted documents (0 to 1) above
	// which a segment is rewritten even alone. Default 0.2; 1 or more
	// turns such rewrites off.
	MaxDeletedShare float64
}

// Default settings of Tiered, as in the original Hermes.
const (
	DefaultSegmentsPerTier = 10
	DefaultMaxMergeAtOnce  = 10
	DefaultFloorDocs       = 1_000
	DefaultMaxMergedDocs   = 5_000_000
	DefaultMaxDeletedShare = 0.2
)

// DefaultTiered returns a Tiered policy with the default settings.
func DefaultTiered() *Tiered {
	return &Tiered{
		SegmentsPerTier: DefaultSegmentsPerTier,
		MaxMergeAtOnce:  DefaultMaxMergeAtOnce,
		FloorDocs:       DefaultFloorDocs,
		MaxMergedDocs:   DefaultMaxMergedDocs,
		MaxDeletedShare: DefaultMaxDeletedShare,
	}
}

// withDefaults returns t with zero and out-of-range fields replaced by the
// defaults.
func (t *Tiered) withDefaults() Tiered {
	c := *t
	if c.SegmentsPerTier < 1 {
		c.SegmentsPerTier = DefaultSegmentsPerTier
	}
	if c.MaxMergeAtOnce < 2 {
		c.MaxMergeAtOnce = DefaultMaxMergeAtOnce
	}
	if c.FloorDocs == 0 {
		c.FloorDocs = DefaultFloorDocs
	}
	if c.MaxMergedDocs == 0 {
		c.MaxMergedDocs = DefaultMaxMergedDocs
	}
	if !(c.MaxDeletedShare > 0) { // also catches NaN
		c.MaxDeletedShare = DefaultMaxDeletedShare
	}
	return c
}

// width returns the factor between the sizes of consecutive tiers. It is
// capped so that tier bounds cannot overflow.
func (t *Tiered) width() uint64 {
	return uint64(max(2, min(t.SegmentsPerTier, t.MaxMergeAtOnce, 1<<16)))
}

// tier returns the tier of a segment with the given live documents.
func (t *Tiered) tier(live uint32) int {
	size := uint64(max(live, t.FloorDocs))
	w := t.width()
	tier := 0
	// FloorDocs*w < 2^48, and bound grows only while it is <= size < 2^32.
	for bound := uint64(t.FloorDocs) * w; size >= bound; bound *= w {
		tier++
	}
	return tier
}

// FindMerges implements Policy, as described on Tiered.
func (t *Tiered) FindMerges(segments []Segment, merging map[string]bool) []Merge {
	c := t.withDefaults()

	// Eligible segments, smallest first; a repeated ID (bad input) is
	// considered once.
	seen := make(map[string]bool, len(segments))
	var eligible []Segment
	for _, s := range sortBySize(segments) {
		if merging[s.ID] || seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		eligible = append(eligible, s)
	}

	// Step 2: tiers, each kept in ascending size order.
	var tiers [][]Segment
	for _, s := range eligible {
		i := c.tier(s.Live())
		for len(tiers) <= i {
			tiers = append(tiers, nil)
		}
		tiers[i] = append(tiers[i], s)
	}
	picked := make(map[string]bool)
	var merges []Merge
	for _, segs := range tiers {
		for len(segs) > c.SegmentsPerTier {
			n, docs := 0, uint64(0)
			for n < len(segs) && n < c.MaxMergeAtOnce && docs+uint64(segs[n].Live()) <= uint64(c.MaxMergedDocs) {
				docs += uint64(segs[n].Live())
				n++
			}
			if n < 2 {
				break // the rest are larger still: nothing here fits
			}
			for _, s := range segs[:n] {
				picked[s.ID] = true
			}
			merges = append(merges, Merge{Sources: ids(segs[:n])})
			segs = segs[n:]
		}
	}

	// Step 3: rewrite segments with too many deletes.
	for _, s := range eligible {
		if picked[s.ID] || s.NumDocs == 0 || s.Live() > c.MaxMergedDocs {
			continue
		}
		if float64(s.NumDeleted)/float64(s.NumDocs) > c.MaxDeletedShare {
			merges = append(merges, Merge{Sources: []string{s.ID}})
		}
	}
	return merges
}
