package query

import "math"

// BM25 parameters, Lucene's and tantivy's defaults.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// upperBoundSlack inflates the score bounds used for pruning, so that
// rounding in float64 (bounds and real scores are summed in different
// orders) can never make a bound smaller than a score it must cover.
const upperBoundSlack = 1 + 1e-9

// bm25 scores one term (or phrase) of one field with collection-wide
// statistics.
type bm25 struct {
	idf   float64
	avgdl float64
}

// idf is BM25's inverse document frequency, ln(1 + (N - df + 0.5)/(df + 0.5)),
// with N the number of documents that have the field.
func idf(n, df uint64) float64 {
	if df > n {
		n = df // statistics of deleted documents can make df exceed N; keep idf >= 0
	}
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

func newBM25(idf float64, docCount, sumTokens uint64) bm25 {
	avgdl := 1.0
	if docCount > 0 && sumTokens > 0 {
		avgdl = float64(sumTokens) / float64(docCount)
	}
	return bm25{idf: idf, avgdl: avgdl}
}

// score returns the BM25 score of a term occurring tf times in a field of
// dl tokens. It increases with tf and decreases with dl, which is what
// makes block maxima (largest tf, smallest dl) upper bounds.
func (w *bm25) score(tf, dl uint32) float64 { return w.scoreFreq(float64(tf), dl) }

// scoreFreq is score for a fractional frequency (a sloppy phrase's).
func (w *bm25) scoreFreq(f float64, dl uint32) float64 {
	return w.idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(dl)/w.avgdl))
}

// bound returns a safe upper bound of score(tf', dl') for tf' <= maxFreq and
// dl' >= minNorm.
func (w *bm25) bound(maxFreq, minNorm uint32) float64 {
	return w.score(maxFreq, minNorm) * upperBoundSlack
}
