package query

// hasRepeat reports whether a term occurs twice in terms.
func hasRepeat(terms []string) bool {
	seen := make(map[string]bool, len(terms))
	for _, t := range terms {
		if seen[t] {
			return true
		}
		seen[t] = true
	}
	return false
}

// sloppyFreq is Lucene's SloppyPhraseScorer.phraseFreq for a phrase
// without repeated terms: each term's positions are shifted by its offset
// in the phrase; the sweep repeatedly takes the term at the smallest
// shifted position, and the distance of a match is the spread between it
// and the largest shifted position (end). While the smallest term can
// advance without passing the next smallest, the spread is minimised; then
// the match counts 1/(distance+1) when distance <= slop. The result is 0
// when no match is within the slop.
func (p *phraseScorer) sloppyFreq() float64 {
	n := len(p.terms)
	idx := make([]int, n)
	at := make([]int64, n) // current shifted position of each term
	end := int64(-1 << 62)
	for i, t := range p.terms {
		p.bufs[i] = t.Positions(p.bufs[i][:0])
		if len(p.bufs[i]) == 0 {
			return 0
		}
		at[i] = int64(p.bufs[i][0]) - p.offsets[i]
		end = max(end, at[i])
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
	for {
		idx[cur]++ // advance the smallest term
		if idx[cur] == len(p.bufs[cur]) {
			break
		}
		at[cur] = int64(p.bufs[cur][idx[cur]]) - p.offsets[cur]
		end = max(end, at[cur])
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
