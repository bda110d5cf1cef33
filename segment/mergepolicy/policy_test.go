package mergepolicy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// seg builds a segment for hand-written cases.
func seg(id string, docs, deleted uint32) Segment {
	return Segment{ID: id, NumDocs: docs, NumDeleted: deleted, Bytes: int64(docs) * 100}
}

func TestTieredExamples(t *testing.T) {
	p := DefaultTiered()
	floor := func(n int, prefix string) []Segment {
		var out []Segment
		for i := range n {
			out = append(out, seg(fmt.Sprintf("%s%02d", prefix, i), 1000, 0))
		}
		return out
	}
	tests := []struct {
		name    string
		segs    []Segment
		merging map[string]bool
		want    []Merge
	}{
		{"empty", nil, nil, nil},
		{"a full tier is left alone", floor(10, "s"), nil, nil},
		{"one over: the 10 smallest merge", floor(11, "s"), nil,
			[]Merge{{Sources: ids(floor(10, "s"))}}},
		{"tiny segments count as the floor",
			append(floor(10, "s"), seg("tiny", 3, 0)), nil,
			[]Merge{{Sources: append([]string{"tiny"}, ids(floor(9, "s"))...)}}},
		{"a merging segment neither counts nor is picked", floor(11, "s"), map[string]bool{"s00": true}, nil},
		{"tiers are separate: 6 small and 6 of the next tier",
			append(floor(6, "a"), []Segment{seg("b0", 20000, 0), seg("b1", 20000, 0), seg("b2", 20000, 0),
				seg("b3", 20000, 0), seg("b4", 20000, 0), seg("b5", 20000, 0)}...), nil, nil},
		{"too many deletes: rewritten alone", []Segment{seg("d", 1000, 201), seg("e", 1000, 200)}, nil,
			[]Merge{{Sources: []string{"d"}}}},
		{"too large to rewrite", []Segment{seg("big", 9_000_000, 3_000_000)}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := p.FindMerges(tc.segs, tc.merging)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("FindMerges = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTieredMaxMergedDocs(t *testing.T) {
	// 12 segments of 2M in one tier, two over SegmentsPerTier: only two fit
	// under 5M, and merging them brings the tier back to 10.
	p := DefaultTiered()
	var segs []Segment
	for i := range 12 {
		segs = append(segs, seg(fmt.Sprintf("s%02d", i), 2_000_000, 0))
	}
	got := p.FindMerges(segs, nil)
	want := []Merge{{Sources: []string{"s00", "s01"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FindMerges = %v, want %v", got, want)
	}
}

func TestNoMerge(t *testing.T) {
	var segs []Segment
	for i := range 100 {
		segs = append(segs, seg(fmt.Sprint(i), 10, 9))
	}
	if got := (NoMerge{}).FindMerges(segs, nil); got != nil {
		t.Fatalf("NoMerge.FindMerges = %v", got)
	}
}

// randomSegments returns n segments with sizes spread over seven orders of
// magnitude and some deletes.
func randomSegments(rng *rand.Rand, n int, prefix string) []Segment {
	out := make([]Segment, n)
	for i := range out {
		docs := uint32(math.Exp(rng.Float64() * math.Log(20e6)))
		var del uint32
		if rng.IntN(4) == 0 {
			del = uint32(rng.Float64() * 0.6 * float64(docs))
		}
		out[i] = seg(fmt.Sprintf("%s%d", prefix, i), docs, del)
	}
	return out
}

// randomTiered returns the default policy or one with random settings.
func randomTiered(rng *rand.Rand) *Tiered {
	if rng.IntN(2) == 0 {
		return DefaultTiered()
	}
	return &Tiered{
		SegmentsPerTier: 1 + rng.IntN(20),
		MaxMergeAtOnce:  2 + rng.IntN(20),
		FloorDocs:       uint32(1 + rng.IntN(10000)),
		MaxMergedDocs:   uint32(1000 + rng.IntN(10_000_000)),
		MaxDeletedShare: rng.Float64(),
	}
}

// checkMerges asserts the contract every Policy result must meet, and
// Tiered's limits.
func checkMerges(t *testing.T, p *Tiered, segs []Segment, merging map[string]bool, merges []Merge) {
	t.Helper()
	c := p.withDefaults()
	byID := make(map[string]Segment, len(segs))
	for _, s := range segs {
		byID[s.ID] = s
	}
	used := make(map[string]bool)
	for _, m := range merges {
		if len(m.Sources) == 0 || len(m.Sources) > c.MaxMergeAtOnce {
			t.Fatalf("merge %v has %d sources, want 1 to MaxMergeAtOnce=%d", m, len(m.Sources), c.MaxMergeAtOnce)
		}
		var live uint64
		for _, id := range m.Sources {
			s, ok := byID[id]
			switch {
			case !ok:
				t.Fatalf("merge %v names unknown segment %q", m, id)
			case merging[id]:
				t.Fatalf("merge %v picks %q, which is already merging", m, id)
			case used[id]:
				t.Fatalf("segment %q picked twice in %v", id, merges)
			}
			used[id] = true
			live += uint64(s.Live())
		}
		if live > uint64(c.MaxMergedDocs) {
			t.Fatalf("merge %v would hold %d live docs, over MaxMergedDocs=%d", m, live, c.MaxMergedDocs)
		}
		if len(m.Sources) == 1 {
			s := byID[m.Sources[0]]
			if share := float64(s.NumDeleted) / float64(s.NumDocs); !(share > c.MaxDeletedShare) {
				t.Fatalf("singleton merge of %+v, whose deleted share %.3f is not over %.3f", s, share, c.MaxDeletedShare)
			}
		}
	}
}

func TestTieredPropertiesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 1000 {
		p := randomTiered(rng)
		segs := randomSegments(rng, rng.IntN(300), "s")
		merging := make(map[string]bool)
		for _, s := range segs {
			if rng.IntN(5) == 0 {
				merging[s.ID] = true
			}
		}
		merges := p.FindMerges(segs, merging)
		checkMerges(t, p, segs, merging, merges)

		// Deterministic, and blind to the input's order.
		shuffled := slices.Clone(segs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if again := p.FindMerges(shuffled, merging); !reflect.DeepEqual(again, merges) {
			t.Fatalf("iteration %d: shuffled input gave %v, first call %v", iter, again, merges)
		}
	}
}

// testTier is the tier of a size, computed here independently of Tiered:
// the largest t with FloorDocs * width^t <= max(live, FloorDocs).
func testTier(c Tiered, live uint32) int {
	w := float64(max(2, min(c.SegmentsPerTier, c.MaxMergeAtOnce)))
	size := float64(max(live, c.FloorDocs))
	t := 0
	for float64(c.FloorDocs)*math.Pow(w, float64(t+1)) <= size {
		t++
	}
	return t
}

// applyMerges replaces each merge's sources by one new segment holding
// their live documents, as a merger does.
func applyMerges(segs []Segment, merges []Merge, nextID *int) []Segment {
	byID := make(map[string]Segment, len(segs))
	for _, s := range segs {
		byID[s.ID] = s
	}
	gone := make(map[string]bool)
	var added []Segment
	for _, m := range merges {
		var live uint32
		for _, id := range m.Sources {
			gone[id] = true
			live += byID[id].Live()
		}
		*nextID++
		added = append(added, seg(fmt.Sprintf("m%d", *nextID), live, 0))
	}
	out := slices.DeleteFunc(slices.Clone(segs), func(s Segment) bool { return gone[s.ID] })
	return append(out, added...)
}

func totalLive(segs []Segment) uint64 {
	var n uint64
	for _, s := range segs {
		n += uint64(s.Live())
	}
	return n
}

// TestTieredFixpoint merges random indexes until the policy is satisfied
// and checks the state it promises: no tier over SegmentsPerTier unless
// even its two smallest segments cannot merge, and no mergeable segment
// with too many deletes.
func TestTieredFixpoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 200 {
		p := randomTiered(rng)
		c := p.withDefaults()
		segs := randomSegments(rng, rng.IntN(400), "s")
		live := totalLive(segs)
		nextID := 0
		for round := 0; ; round++ {
			if round > 1000 {
				t.Fatalf("iteration %d: no fixpoint after 1000 rounds", iter)
			}
			merges := p.FindMerges(segs, nil)
			if len(merges) == 0 {
				break
			}
			checkMerges(t, p, segs, nil, merges)
			segs = applyMerges(segs, merges, &nextID)
		}
		if got := totalLive(segs); got != live {
			t.Fatalf("iteration %d: live docs %d after merging, want %d", iter, got, live)
		}
		tiers := make(map[int][]uint32)
		for _, s := range segs {
			tiers[testTier(c, s.Live())] = append(tiers[testTier(c, s.Live())], s.Live())
			if s.Live() <= c.MaxMergedDocs && float64(s.NumDeleted)/float64(s.NumDocs) > c.MaxDeletedShare {
				t.Fatalf("iteration %d: %+v keeps over %.2f deleted", iter, s, c.MaxDeletedShare)
			}
		}
		for tier, sizes := range tiers {
			slices.Sort(sizes)
			if len(sizes) > c.SegmentsPerTier && uint64(sizes[0])+uint64(sizes[1]) <= uint64(c.MaxMergedDocs) {
				t.Fatalf("iteration %d (%+v): tier %d keeps %d segments %v, and its smallest two could merge",
					iter, c, tier, len(sizes), sizes)
			}
		}
	}
}

// simulate commits segments of commitDocs(i) live documents and runs the
// policy after every commit and every finished merge, as the writer does.
// A merge takes 0 to maxDelay commits to finish and at most maxConcurrent
// run at once (0: unbounded). It returns the largest segment count seen and
// the number of documents merges rewrote.
func simulate(t *testing.T, rng *rand.Rand, p Policy, commits int, commitDocs func(i int) uint32,
	maxDelay, maxConcurrent int) (final []Segment, maxSegments int, rewritten uint64) {
	t.Helper()
	type running struct {
		m    Merge
		done int // commit index at which it finishes
	}
	var segs []Segment
	var runs []running
	merging := make(map[string]bool)
	nextID := 0
	startMerges := func(now int) {
		for _, m := range p.FindMerges(segs, merging) {
			if maxConcurrent > 0 && len(runs) >= maxConcurrent {
				break
			}
			for _, id := range m.Sources {
				if merging[id] {
					t.Fatalf("policy picked %q, already merging", id)
				}
				merging[id] = true
			}
			runs = append(runs, running{m, now + rng.IntN(maxDelay+1)})
		}
	}
	finishMerges := func(now int) bool {
		var finished bool
		for i := 0; i < len(runs); {
			if runs[i].done > now {
				i++
				continue
			}
			before := totalLive(segs)
			segs = applyMerges(segs, []Merge{runs[i].m}, &nextID)
			rewritten += uint64(segs[len(segs)-1].Live())
			if totalLive(segs) != before {
				t.Fatalf("merge changed the live documents")
			}
			for _, id := range runs[i].m.Sources {
				delete(merging, id)
			}
			runs = slices.Delete(runs, i, i+1)
			finished = true
		}
		return finished
	}
	for i := range commits {
		nextID++
		segs = append(segs, seg(fmt.Sprintf("c%d", nextID), commitDocs(i), 0))
		maxSegments = max(maxSegments, len(segs))
		startMerges(i)
		for finishMerges(i) {
			startMerges(i)
		}
	}
	// Let everything settle.
	for now := commits; len(runs) > 0; now++ {
		finishMerges(now + maxDelay)
		startMerges(now)
	}
	return segs, maxSegments, rewritten
}

func TestTieredSimulationLogarithmic(t *testing.T) {
	const commits, docs = 1000, 1000
	p := DefaultTiered()
	// 10^6 documents from 1,000-document (floor-sized) commits fill tiers
	// 0 to 3 (sizes 10^3, 10^4, 10^5, 10^6), each holding at most
	// SegmentsPerTier segments once merges finish.
	tiers := 1 + int(math.Log10(commits*docs/DefaultFloorDocs))
	bound := DefaultSegmentsPerTier * tiers

	t.Run("instant merges", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		segs, maxSegs, rewritten := simulate(t, rng, p, commits, func(int) uint32 { return docs }, 0, 0)
		// A segment waits only for the merge its commit triggers, which
		// ends at once: never more than bound + 1 segments.
		if maxSegs > bound+1 {
			t.Errorf("max segments %d, want at most %d", maxSegs, bound+1)
		}
		// Each merge of ten equal segments lifts its documents one tier, so
		// a document is rewritten at most once per tier above 0.
		if limit := uint64(commits*docs) * uint64(tiers-1); rewritten > limit {
			t.Errorf("merges rewrote %d docs, want at most %d (once per tier)", rewritten, limit)
		}
		t.Logf("segments: final %d, max %d (bound %d); write amplification %.2f",
			len(segs), maxSegs, bound, float64(rewritten)/float64(commits*docs))
	})
	t.Run("slow merges, 4 at once", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		segs, maxSegs, rewritten := simulate(t, rng, p, commits, func(int) uint32 { return docs }, 5, 4)
		// Segments in running merges come on top: at most 4 merges of
		// MaxMergeAtOnce segments.
		if limit := bound + 4*DefaultMaxMergeAtOnce; maxSegs > limit {
			t.Errorf("max segments %d, want at most %d", maxSegs, limit)
		}
		if len(segs) > bound {
			t.Errorf("%d segments after merges settle, want at most %d", len(segs), bound)
		}
		t.Logf("segments: final %d, max %d; write amplification %.2f",
			len(segs), maxSegs, float64(rewritten)/float64(commits*docs))
	})
	t.Run("mixed commit sizes", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		sizes := rand.New(rand.NewPCG(11, 12))
		segs, maxSegs, _ := simulate(t, rng, p, commits, func(int) uint32 { return uint32(1 + sizes.IntN(4000)) }, 3, 4)
		// About 2*10^6 documents: one more tier than above at most.
		limit := DefaultSegmentsPerTier*(tiers+1) + 4*DefaultMaxMergeAtOnce
		if maxSegs > limit {
			t.Errorf("max segments %d, want at most %d", maxSegs, limit)
		}
		t.Logf("segments: final %d, max %d", len(segs), maxSegs)
	})
}

func TestForceMergeRounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for iter := range 300 {
		maxAtOnce := []int{0, 2, 3, 10, 64}[rng.IntN(5)]
		m := maxAtOnce
		if m < 2 {
			m = DefaultForceMergeAtOnce
		}
		n := rng.IntN(3000)
		segs := randomSegments(rng, n, "s")
		live := totalLive(segs)
		// Rounds needed: the count must fall from n to 1 by at most a
		// factor m per round, plus one rewrite if one segment has deletes.
		maxRounds := 1
		for c := n; c > 1; c = (c + m - 1) / m {
			maxRounds++
		}
		nextID := 0
		rounds := 0
		for {
			merges := ForceMergeRounds(segs, maxAtOnce)
			if len(merges) == 0 {
				break
			}
			rounds++
			if rounds > maxRounds {
				t.Fatalf("iteration %d: n=%d maxAtOnce=%d: more than %d rounds", iter, n, maxAtOnce, maxRounds)
			}
			used := make(map[string]bool)
			for _, mg := range merges {
				if len(mg.Sources) > m {
					t.Fatalf("merge of %d sources, over %d", len(mg.Sources), m)
				}
				for _, id := range mg.Sources {
					if used[id] {
						t.Fatalf("segment %q picked twice in one round", id)
					}
					used[id] = true
				}
			}
			segs = applyMerges(segs, merges, &nextID)
		}
		if n > 0 && (len(segs) != 1 || segs[0].NumDeleted != 0) {
			t.Fatalf("iteration %d: n=%d maxAtOnce=%d ended with %v, want one segment without deletes", iter, n, maxAtOnce, segs)
		}
		if got := totalLive(segs); got != live {
			t.Fatalf("iteration %d: %d live docs after force merge, want %d", iter, got, live)
		}
	}
}

func TestForceMergeRoundsSmallestFirst(t *testing.T) {
	// 70 segments, 64 at once: merging the 7 smallest leaves 64, which the
	// second round merges; the large segments are rewritten once.
	var segs []Segment
	for i := range 70 {
		segs = append(segs, seg(fmt.Sprintf("s%02d", i), uint32(1000*(70-i)), 0))
	}
	got := ForceMergeRounds(segs, 64)
	want := []Merge{{Sources: []string{"s69", "s68", "s67", "s66", "s65", "s64", "s63"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("first round = %v, want %v", got, want)
	}
	if got := ForceMergeRounds(segs[:64], 64); len(got) != 1 || len(got[0].Sources) != 64 {
		t.Fatalf("64 segments: %v, want one merge of all", got)
	}
	if got := ForceMergeRounds([]Segment{seg("a", 10, 0)}, 64); got != nil {
		t.Fatalf("one clean segment: %v, want nil", got)
	}
	if got := ForceMergeRounds([]Segment{seg("a", 10, 1)}, 64); !reflect.DeepEqual(got, []Merge{{Sources: []string{"a"}}}) {
		t.Fatalf("one segment with deletes: %v, want it rewritten", got)
	}
}

func BenchmarkTieredFindMerges(b *testing.B) {
	for _, n := range []int{30, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			segs := randomSegments(rng, n, "s")
			merging := map[string]bool{segs[0].ID: true}
			p := DefaultTiered()
			b.ReportAllocs()
			for b.Loop() {
				p.FindMerges(segs, merging)
			}
		})
	}
}
