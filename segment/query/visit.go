package query

import "context"

// SegmentVisitor receives the live matches of one segment in batches, in
// increasing doc order; scores[i] is docs[i]'s score, or 0 unless scores
// were asked for. The slices are reused after the call.
type SegmentVisitor func(docs []uint32, scores []float32)

// visitBatch is the number of matches a SegmentVisitor gets per call:
// enough to amortise the call, small enough to stay in L1.
const visitBatch = 256

// Visit calls segment(i) for each segment i that may hold a match of q and
// passes every live match in it to the visitor segment returns (nil skips
// the segment). It is the one-pass building block of sorted search, exact
// counts and aggregations: no pruning, and BM25 scores are computed only
// if scores is true.
func (s *Searcher) Visit(ctx context.Context, q Query, scores bool, segment func(i int) (SegmentVisitor, error)) error {
	w, err := s.coll.weight(q)
	if err != nil {
		return err
	}
	for i, src := range s.coll.segs {
		if err := ctx.Err(); err != nil {
			return err
		}
		seg := &trackSource{segmentSource: src}
		sc, err := w.scorer(ctx, seg)
		if err != nil {
			return s.segErr(i, err)
		}
		if sc == nil {
			continue
		}
		visit, err := segment(i)
		if err != nil {
			return err
		}
		if visit == nil {
			continue
		}
		var docs [visitBatch]uint32
		var docScores [visitBatch]float32
		n, batches := 0, 0
		for d := sc.doc(); d != noMoreDocs; d = sc.next() {
			if seg.IsDeleted(d) {
				continue
			}
			docs[n] = d
			if scores {
				docScores[n] = float32(sc.score())
			}
			if n++; n == visitBatch {
				visit(docs[:], docScores[:])
				n = 0
				if batches++; batches&15 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
			}
		}
		if n > 0 {
			visit(docs[:n], docScores[:n])
		}
		if err := seg.err(); err != nil {
			return s.segErr(i, err)
		}
		seg.release()
	}
	return nil
}

// CountUpTo counts the live matches of q, stopping once it has seen more
// than limit of them: it returns min(count, limit) and whether that is the
// exact count. Its cost is bounded by limit matches, which is what lets a
// pruned top-k search still report a total (Lucene's TotalHits threshold).
func (s *Searcher) CountUpTo(ctx context.Context, q Query, limit int) (n int, exact bool, err error) {
	w, err := s.coll.weight(q)
	if err != nil {
		return 0, false, err
	}
	for i, src := range s.coll.segs {
		seg := &trackSource{segmentSource: src}
		sc, err := w.scorer(ctx, seg)
		if err != nil {
			return 0, false, s.segErr(i, err)
		}
		if sc == nil {
			continue
		}
		for d := sc.doc(); d != noMoreDocs; d = sc.next() {
			if seg.IsDeleted(d) {
				continue
			}
			if n == limit {
				return n, false, seg.err()
			}
			if n++; n&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return 0, false, err
				}
			}
		}
		if err := seg.err(); err != nil {
			return 0, false, s.segErr(i, err)
		}
		seg.release()
	}
	return n, true, nil
}
