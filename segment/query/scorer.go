package query

import "math/bits"

// scorer iterates the matches of a query in one segment, in increasing doc
// order. A new scorer is positioned on its first match (noMoreDocs if none).
// Deleted documents are not filtered here but by the collector.
type scorer interface {
	doc() uint32
	next() uint32
	// advance moves to the first match >= target; a target at or before the
	// current doc leaves the scorer where it is.
	advance(target uint32) uint32
	// score is the score of the current doc.
	score() float64
	// cost estimates how many docs the scorer visits, to lead conjunctions
	// with the rarest clause.
	cost() uint64
}

// termScorer scores one term's postings with BM25.
type termScorer struct {
	p     postingsIterator
	sim   *bm25
	seg   segmentSource
	field string
	df    uint64
}

func (t *termScorer) doc() uint32 { return t.p.Doc() }
func (t *termScorer) next() uint32 {
	if t.p.Doc() == noMoreDocs {
		return noMoreDocs
	}
	return t.p.Next()
}
func (t *termScorer) advance(target uint32) uint32 {
	if d := t.p.Doc(); d >= target {
		return d
	}
	return t.p.Advance(target)
}
func (t *termScorer) score() float64 {
	return t.sim.score(t.p.Freq(), t.seg.FieldNorm(t.field, t.p.Doc()))
}
func (t *termScorer) cost() uint64 { return t.df }

// conjScorer matches docs every sub-scorer matches; its score is the sum of
// theirs, in clause order.
type conjScorer struct {
	subs   []scorer // clause order, for summing
	byCost []scorer // rarest first, for leap-frogging
	cur    uint32
}

func newConj(subs []scorer) scorer {
	if len(subs) == 1 {
		return subs[0]
	}
	c := &conjScorer{subs: subs, byCost: append([]scorer(nil), subs...)}
	sortByCost(c.byCost)
	var start uint32
	for _, s := range subs {
		start = max(start, s.doc())
	}
	c.cur = c.align(start)
	return c
}

func sortByCost(s []scorer) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].cost() < s[j-1].cost(); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// align returns the first doc >= target that all subs match.
func (c *conjScorer) align(target uint32) uint32 {
	doc := target
outer:
	for doc != noMoreDocs {
		for _, s := range c.byCost {
			d := s.advance(doc)
			if d != doc {
				doc = d
				continue outer
			}
		}
		return doc
	}
	return noMoreDocs
}

func (c *conjScorer) doc() uint32 { return c.cur }
func (c *conjScorer) next() uint32 {
	if c.cur == noMoreDocs {
		return noMoreDocs
	}
	c.cur = c.align(c.cur + 1)
	return c.cur
}
func (c *conjScorer) advance(target uint32) uint32 {
	if target > c.cur {
		c.cur = c.align(target)
	}
	return c.cur
}
func (c *conjScorer) score() float64 {
	var s float64
	for _, sub := range c.subs {
		s += sub.score()
	}
	return s
}
func (c *conjScorer) cost() uint64 { return c.byCost[0].cost() }

// disjScorer matches docs any sub-scorer matches; its score is the sum of
// the matching subs' scores, in clause order. Subs are scanned linearly:
// boolean queries have few clauses (prefix expansions use bitsets).
type disjScorer struct {
	subs []scorer
	cur  uint32
}

func newDisj(subs []scorer) scorer {
	if len(subs) == 1 {
		return subs[0]
	}
	d := &disjScorer{subs: subs}
	d.cur = d.minDoc()
	return d
}

func (d *disjScorer) minDoc() uint32 {
	m := uint32(noMoreDocs)
	for _, s := range d.subs {
		m = min(m, s.doc())
	}
	return m
}
func (d *disjScorer) doc() uint32 { return d.cur }
func (d *disjScorer) next() uint32 {
	if d.cur == noMoreDocs {
		return noMoreDocs
	}
	for _, s := range d.subs {
		if s.doc() == d.cur {
			s.next()
		}
	}
	d.cur = d.minDoc()
	return d.cur
}
func (d *disjScorer) advance(target uint32) uint32 {
	if target <= d.cur {
		return d.cur
	}
	for _, s := range d.subs {
		s.advance(target)
	}
	d.cur = d.minDoc()
	return d.cur
}
func (d *disjScorer) score() float64 {
	var sum float64
	for _, s := range d.subs {
		if s.doc() == d.cur {
			sum += s.score()
		}
	}
	return sum
}
func (d *disjScorer) cost() uint64 {
	var c uint64
	for _, s := range d.subs {
		c += s.cost()
	}
	return c
}

// reqOptScorer matches what req matches; opt adds its score where it also
// matches.
type reqOptScorer struct {
	req, opt scorer
}

func (r *reqOptScorer) doc() uint32                  { return r.req.doc() }
func (r *reqOptScorer) next() uint32                 { return r.req.next() }
func (r *reqOptScorer) advance(target uint32) uint32 { return r.req.advance(target) }
func (r *reqOptScorer) cost() uint64                 { return r.req.cost() }
func (r *reqOptScorer) score() float64 {
	s := r.req.score()
	d := r.req.doc()
	if r.opt.advance(d) == d {
		s += r.opt.score()
	}
	return s
}

// exclScorer matches what req matches and none of excl match.
type exclScorer struct {
	req  scorer
	excl []scorer
}

func newExcl(req scorer, excl []scorer) scorer {
	e := &exclScorer{req: req, excl: excl}
	e.skipExcluded()
	return e
}

func (e *exclScorer) excluded(doc uint32) bool {
	for _, x := range e.excl {
		if x.advance(doc) == doc {
			return true
		}
	}
	return false
}

func (e *exclScorer) skipExcluded() uint32 {
	d := e.req.doc()
	for d != noMoreDocs && e.excluded(d) {
		d = e.req.next()
	}
	return d
}

func (e *exclScorer) doc() uint32 { return e.req.doc() }
func (e *exclScorer) next() uint32 {
	if e.req.doc() == noMoreDocs {
		return noMoreDocs
	}
	e.req.next()
	return e.skipExcluded()
}
func (e *exclScorer) advance(target uint32) uint32 {
	if target <= e.req.doc() {
		return e.req.doc()
	}
	e.req.advance(target)
	return e.skipExcluded()
}
func (e *exclScorer) score() float64 { return e.req.score() }
func (e *exclScorer) cost() uint64   { return e.req.cost() }

// rangeDocsScorer walks every doc id of a segment that match accepts, with
// a constant score: used for All, Range and negative-only Booleans.
type rangeDocsScorer struct {
	n     uint32
	cur   uint32
	match func(doc uint32) bool // nil accepts all
}

func newDocsScorer(n uint32, match func(uint32) bool) scorer {
	s := &rangeDocsScorer{n: n}
	s.match = match
	s.cur = s.from(0)
	return s
}

func (s *rangeDocsScorer) from(doc uint32) uint32 {
	for ; doc < s.n; doc++ {
		if s.match == nil || s.match(doc) {
			return doc
		}
	}
	return noMoreDocs
}
func (s *rangeDocsScorer) doc() uint32 { return s.cur }
func (s *rangeDocsScorer) next() uint32 {
	if s.cur != noMoreDocs {
		s.cur = s.from(s.cur + 1)
	}
	return s.cur
}
func (s *rangeDocsScorer) advance(target uint32) uint32 {
	if target > s.cur {
		s.cur = s.from(target)
	}
	return s.cur
}
func (s *rangeDocsScorer) score() float64 { return 1 }
func (s *rangeDocsScorer) cost() uint64   { return uint64(s.n) }

// bitsetScorer walks the set bits of a bitset with a constant score (a
// prefix query's union).
type bitsetScorer struct {
	words []uint64
	count uint64
	cur   uint32
}

func newBitsetScorer(words []uint64, count uint64) scorer {
	b := &bitsetScorer{words: words, count: count}
	b.cur = b.from(0)
	return b
}

func (b *bitsetScorer) from(doc uint32) uint32 {
	i := int(doc >> 6)
	if i >= len(b.words) {
		return noMoreDocs
	}
	w := b.words[i] >> (doc & 63)
	if w != 0 {
		return doc + uint32(bits.TrailingZeros64(w))
	}
	for i++; i < len(b.words); i++ {
		if b.words[i] != 0 {
			return uint32(i)<<6 + uint32(bits.TrailingZeros64(b.words[i]))
		}
	}
	return noMoreDocs
}
func (b *bitsetScorer) doc() uint32 { return b.cur }
func (b *bitsetScorer) next() uint32 {
	if b.cur != noMoreDocs {
		b.cur = b.from(b.cur + 1)
	}
	return b.cur
}
func (b *bitsetScorer) advance(target uint32) uint32 {
	if target > b.cur {
		b.cur = b.from(target)
	}
	return b.cur
}
func (b *bitsetScorer) score() float64 { return 1 }
func (b *bitsetScorer) cost() uint64   { return b.count }

// phraseScorer matches docs where every term occurs at its relative
// position; it scores BM25 over the phrase frequency.
type phraseScorer struct {
	terms   []postingsIterator
	offsets []int64 // position of each term relative to the first
	order   []int   // terms by doc frequency, rarest first
	sim     *bm25
	seg     segmentSource
	field   string
	df      uint64
	cur     uint32
	freq    uint32
	bufs    [][]uint32
	slop    int     // > 0: a sloppy phrase
	sloppy  float64 // a sloppy phrase's frequency in cur
	// Repeated terms of a sloppy phrase (see repeatGroups): the groups,
	// and each term's group or -1; nil without repeats.
	rptGroups [][]int
	rptGroup  []int
}

func newPhraseScorer(terms []postingsIterator, dfs []uint64, offsets []int64, sim *bm25, seg segmentSource, field string, slop int, rptGroups [][]int) scorer {
	p := &phraseScorer{terms: terms, offsets: offsets, sim: sim, seg: seg, field: field,
		bufs: make([][]uint32, len(terms)), df: dfs[0], slop: slop}
	if slop > 0 && rptGroups != nil {
		p.rptGroups = rptGroups
		p.rptGroup = make([]int, len(terms))
		for i := range p.rptGroup {
			p.rptGroup[i] = -1
		}
		for g, members := range rptGroups {
			for _, i := range members {
				p.rptGroup[i] = g
			}
		}
	}
	p.order = make([]int, len(terms))
	for i := range p.order {
		p.order[i] = i
		p.df = min(p.df, dfs[i])
	}
	for i := 1; i < len(p.order); i++ {
		for j := i; j > 0 && dfs[p.order[j]] < dfs[p.order[j-1]]; j-- {
			p.order[j], p.order[j-1] = p.order[j-1], p.order[j]
		}
	}
	var start uint32
	for _, t := range terms {
		start = max(start, t.Doc())
	}
	p.cur = p.find(start)
	return p
}

// find returns the first doc >= target holding the phrase.
func (p *phraseScorer) find(target uint32) uint32 {
	doc := target
	for doc != noMoreDocs {
		aligned := true
		for _, i := range p.order {
			t := p.terms[i]
			d := t.Doc()
			if d < doc {
				d = t.Advance(doc)
			}
			if d != doc {
				doc = d
				aligned = false
				break
			}
		}
		if !aligned {
			continue
		}
		if p.slop > 0 {
			if p.sloppy = p.sloppyFreq(); p.sloppy > 0 {
				return doc
			}
		} else if p.freq = p.phraseFreq(); p.freq > 0 {
			return doc
		}
		doc++
		if doc == noMoreDocs {
			break
		}
	}
	return noMoreDocs
}

// phraseFreq counts the start positions at which every term sits at its
// offset, walking the sorted position lists together.
func (p *phraseScorer) phraseFreq() uint32 {
	for i, t := range p.terms {
		p.bufs[i] = t.Positions(p.bufs[i][:0])
		if len(p.bufs[i]) == 0 {
			return 0
		}
	}
	idx := make([]int, len(p.terms))
	var n uint32
next:
	for _, start := range p.bufs[0] {
		base := int64(start) - p.offsets[0]
		for i := 1; i < len(p.terms); i++ {
			want := base + p.offsets[i]
			ps := p.bufs[i]
			for idx[i] < len(ps) && int64(ps[idx[i]]) < want {
				idx[i]++
			}
			if idx[i] == len(ps) {
				break next
			}
			if int64(ps[idx[i]]) != want {
				continue next
			}
		}
		n++
	}
	return n
}

func (p *phraseScorer) doc() uint32 { return p.cur }
func (p *phraseScorer) next() uint32 {
	if p.cur != noMoreDocs {
		p.cur = p.find(p.cur + 1)
	}
	return p.cur
}
func (p *phraseScorer) advance(target uint32) uint32 {
	if target > p.cur {
		p.cur = p.find(target)
	}
	return p.cur
}
func (p *phraseScorer) score() float64 {
	if p.slop > 0 {
		return p.sim.scoreFreq(p.sloppy, p.seg.FieldNorm(p.field, p.cur))
	}
	return p.sim.score(p.freq, p.seg.FieldNorm(p.field, p.cur))
}
func (p *phraseScorer) cost() uint64 { return p.df }
