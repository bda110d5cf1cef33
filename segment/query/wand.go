package query

import (
	"context"
	"math"
)

// Block-max WAND (Ding & Suel, SIGIR 2011) for a disjunction of terms.
//
// Each term carries an upper bound of its score over the whole segment and,
// per block of postings, the bound implied by the block's largest frequency
// and smallest field length. With the terms sorted by current doc, the
// pivot is the first doc at which the bounds of the terms up to it can beat
// the top-k threshold; docs before it cannot. At the pivot, the block
// bounds decide whether to score the doc or to jump past the nearest block
// end. Only docs that could enter the top k are scored, and each is scored
// exactly as the exhaustive evaluation does (the same per-term BM25, summed
// in clause order), so the results are identical.

// wandTerm is one term's cursor.
type wandTerm struct {
	clause   int // index in the disjunction: the order scores are summed in
	p        postingsIterator
	w        *termWeight
	seg      segmentSource
	maxScore float64 // bound over the whole segment

	blockLast uint32 // last doc of the cached block bound
	blockMax  float64
	blockOK   bool
}

func (t *wandTerm) doc() uint32 { return t.p.Doc() }

// blockBound returns the bound of the block holding target, caching it
// until target passes the block's end (targets only grow).
func (t *wandTerm) blockBound(target uint32) float64 {
	if t.blockOK && target <= t.blockLast {
		return t.blockMax
	}
	last, maxFreq, minNorm, ok := t.p.BlockMax(target)
	if !ok {
		// No block information: fall back to the segment bound, for this
		// doc only.
		t.blockOK, t.blockLast, t.blockMax = true, target, t.maxScore
		return t.maxScore
	}
	t.blockOK, t.blockLast, t.blockMax = true, last, t.w.sim.bound(maxFreq, minNorm)
	return t.blockMax
}

func (t *wandTerm) score() float64 {
	return t.w.sim.score(t.p.Freq(), t.seg.FieldNorm(t.w.field, t.p.Doc()))
}

// segmentMaxScore bounds a term's score over a whole segment by walking its
// block bounds. BlockMax moves only p's skip cursor, not its position, so
// the iterator the search then runs is the same one: no second dictionary
// lookup and first-block decode per term and segment.
func segmentMaxScore(p postingsIterator, w *termWeight) float64 {
	var best float64
	target := p.Doc()
	for target != noMoreDocs {
		last, maxFreq, minNorm, ok := p.BlockMax(target)
		if !ok {
			break
		}
		best = max(best, w.sim.bound(maxFreq, minNorm))
		if last >= noMoreDocs-1 || last < target {
			break
		}
		target = last + 1
	}
	if best == 0 {
		// No block information at all: BM25 can never exceed idf*(k1+1).
		best = w.sim.idf * (bm25K1 + 1) * upperBoundSlack
	}
	return best
}

// wandSearch collects the top hits of a disjunction of terms (minus the
// excluded scorers) in one segment into top.
func wandSearch(ctx context.Context, seg segmentSource, hit func(doc uint32, score float64) Hit,
	terms []*termWeight, excl []weight, top *topK) error {
	var cur []*wandTerm
	for i, w := range terms {
		if w.df == 0 {
			continue
		}
		p, err := seg.Postings(w.field, w.term)
		if err != nil {
			return err
		}
		if p == nil || p.Doc() == noMoreDocs {
			continue
		}
		ms := segmentMaxScore(p, w)
		cur = append(cur, &wandTerm{clause: i, p: p, w: w, seg: seg, maxScore: ms})
	}
	if len(cur) == 0 {
		return nil
	}
	var not []scorer
	for _, w := range excl {
		s, err := w.scorer(ctx, seg)
		if err != nil {
			return err
		}
		if s != nil {
			not = append(not, s)
		}
	}
	excluded := func(doc uint32) bool {
		for _, x := range not {
			if x.advance(doc) == doc {
				return true
			}
		}
		return false
	}

	scores := make([]float64, len(terms)) // per clause, for summing in clause order
	matched := make([]bool, len(terms))
	for iter := 0; ; iter++ {
		if iter&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		sortByDoc(cur)
		for len(cur) > 0 && cur[len(cur)-1].doc() == noMoreDocs {
			cur = cur[:len(cur)-1]
		}
		if len(cur) == 0 {
			return nil
		}
		thr := math.Inf(-1)
		if top.full() {
			thr = float64(top.threshold())
		}
		// Pivot: the first term at which the summed segment bounds beat thr.
		p, acc := -1, 0.0
		for i, t := range cur {
			acc += t.maxScore
			if acc > thr {
				p = i
				break
			}
		}
		if p < 0 {
			return nil // no remaining doc can enter the top k
		}
		pivot := cur[p].doc()
		for p+1 < len(cur) && cur[p+1].doc() == pivot {
			p++
		}
		var bsum float64
		for _, t := range cur[:p+1] {
			bsum += t.blockBound(pivot)
		}
		if bsum > thr {
			if cur[0].doc() == pivot {
				// Every term up to p sits on the pivot: score it.
				if !seg.IsDeleted(pivot) && !excluded(pivot) {
					for _, t := range cur[:p+1] {
						scores[t.clause] = t.score()
						matched[t.clause] = true
					}
					var s float64
					for c := range scores {
						if matched[c] {
							s += scores[c]
							matched[c] = false
						}
					}
					top.offer(hit(pivot, s))
				}
				for _, t := range cur[:p+1] {
					t.p.Next()
				}
			} else {
				// Move the lagging term with the largest bound up to the pivot.
				j := 0
				for i := 1; i < p && cur[i].doc() < pivot; i++ {
					if cur[i].maxScore > cur[j].maxScore {
						j = i
					}
				}
				cur[j].p.Advance(pivot)
			}
			continue
		}
		// The blocks around the pivot cannot beat thr: skip to the first doc
		// past the nearest block end (or the next term's doc, if earlier).
		next := uint32(noMoreDocs)
		for _, t := range cur[:p+1] {
			if t.blockLast < next {
				next = t.blockLast + 1
			}
		}
		if p+1 < len(cur) && cur[p+1].doc() < next {
			next = cur[p+1].doc()
		}
		if next <= pivot {
			next = pivot + 1
		}
		j := 0
		for i := 1; i <= p; i++ {
			if cur[i].maxScore > cur[j].maxScore {
				j = i
			}
		}
		cur[j].p.Advance(next)
	}
}

func sortByDoc(ts []*wandTerm) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].doc() < ts[j-1].doc(); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
