package query

import "sort"

// repeatGroups groups the indexes of terms that occur more than once, as
// Lucene's SloppyPhraseScorer does: each group in order of phrase offset
// (ties in phrase order), groups in order of first occurrence. It returns
// nil when no term repeats.
func repeatGroups(terms [][]byte, offsets []int64) [][]int {
	var groups [][]int
	byTerm := map[string]int{}
	for i, t := range terms {
		if g, ok := byTerm[string(t)]; ok {
			groups[g] = append(groups[g], i)
			continue
		}
		byTerm[string(t)] = len(groups)
		groups = append(groups, []int{i})
	}
	out := groups[:0]
	for _, g := range groups {
		if len(g) > 1 {
			sort.SliceStable(g, func(a, b int) bool { return offsets[g[a]] < offsets[g[b]] })
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sloppyFreq is Lucene's SloppyPhraseScorer.phraseFreq: each term's
// positions are shifted by its offset in the phrase; the sweep repeatedly
// takes the term at the smallest shifted position, and the distance of a
// match is the spread between it and the largest shifted position (end).
// While the smallest term can advance without passing the next smallest,
// the spread is minimised; then the match counts 1/(distance+1) when
// distance <= slop. The result is 0 when no match is within the slop.
//
// A term that occurs several times in the phrase (a repeat group) must
// take a different position for each occurrence, as in Lucene: the k-th
// occurrence (by phrase offset) starts at the term's k-th position, and
// whenever an advance lands two occurrences on the same position, the one
// with the smaller shifted position advances again (advanceRpts). The
// brute-force model test checks that a document matches exactly when some
// choice of distinct positions spreads over at most slop.
func (p *phraseScorer) sloppyFreq() float64 {
	n := len(p.terms)
	idx := make([]int, n)
	at := make([]int64, n) // current shifted position of each term
	for i, t := range p.terms {
		p.bufs[i] = t.Positions(p.bufs[i][:0])
		if len(p.bufs[i]) == 0 {
			return 0
		}
		at[i] = int64(p.bufs[i][0]) - p.offsets[i]
	}
	next1 := func(i int) bool {
		idx[i]++
		if idx[i] == len(p.bufs[i]) {
			return false
		}
		at[i] = int64(p.bufs[i][idx[i]]) - p.offsets[i]
		return true
	}
	for _, g := range p.rptGroups {
		for j := 1; j < len(g); j++ {
			for k := 0; k < j; k++ {
				if !next1(g[j]) {
					return 0
				}
			}
		}
	}
	end := int64(-1 << 62)
	for i := range at {
		end = max(end, at[i])
	}
	advance := func(i int) bool {
		if !next1(i) {
			return false
		}
		end = max(end, at[i])
		return true
	}
	// resolve advances repeats of term i off the position i just took.
	resolve := func(i int) bool {
		if p.rptGroup == nil || p.rptGroup[i] < 0 {
			return true
		}
		g := p.rptGroups[p.rptGroup[i]]
		for {
			c := -1
			for _, j := range g {
				if j != i && at[j]+p.offsets[j] == at[i]+p.offsets[i] {
					c = j
					break
				}
			}
			if c < 0 {
				return true
			}
			if !(at[i] < at[c] || at[i] == at[c] && p.offsets[i] < p.offsets[c]) {
				i = c // advance the lesser of the two
			}
			if !advance(i) {
				return false
			}
		}
	}
	// less orders terms as Lucene's PhraseQueue: by shifted position, then
	// offset, then phrase order.
	less := func(a, b int) bool {
		if at[a] != at[b] {
			return at[a] < at[b]
		}
		if p.offsets[a] != p.offsets[b] {
			return p.offsets[a] < p.offsets[b]
		}
		return a < b
	}
	// smallest returns the least term other than skip.
	smallest := func(skip int) int {
		best := -1
		for i := 0; i < n; i++ {
			if i != skip && (best < 0 || less(i, best)) {
				best = i
			}
		}
		return best
	}
	slop := int64(p.slop)
	var freq float64
	cur := smallest(-1)
	match := end - at[cur]
	next := at[smallest(cur)]
	for advance(cur) && resolve(cur) {
		if at[cur] > next { // done minimising this match's distance
			if match <= slop {
				freq += 1 / float64(match+1)
			}
			cur = smallest(-1)
			next = at[smallest(cur)]
			match = end - at[cur]
		} else {
			match = min(match, end-at[cur])
		}
	}
	if match <= slop {
		freq += 1 / float64(match+1)
	}
	return freq
}
