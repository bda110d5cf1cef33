package analysis

import (
	"math/rand"
	"strings"
	"testing"
)

// queueTokens runs TokenizeQueue over text and returns the tokens in the
// order the caller receives them: those full and the end take from the
// queue, and those that went to long. It fails t if full is called while
// the queue still has room for a short term, or long while it holds some.
func queueTokens(t *testing.T, tk QueueTokenizer, text string) []tok {
	t.Helper()
	var q TermQueue
	var out []tok
	drain := func() {
		for k := range q.N {
			out = append(out, tok{string(q.Term(k)), int(q.Positions[k])})
		}
		q.Reset()
	}
	full := func() {
		if q.N == 0 {
			t.Fatal("full called on an empty queue")
		}
		drain()
	}
	long := func(tk Token) {
		if q.N != 0 || len(tk.Term) <= QueueBytes {
			t.Fatalf("long called for %d bytes with %d terms queued", len(tk.Term), q.N)
		}
		out = append(out, tok{string(tk.Term), tk.Position})
	}
	tk.TokenizeQueue(text, &q, full, long)
	drain()
	return out
}

func sameTokens(t *testing.T, text string, got, want []tok) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%.80q...: %d tokens queued, %d emitted", text, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%.80q...: token %d queued %v, emitted %v", text, i, got[i], want[i])
		}
	}
}

// TokenizeQueue gives the terms and positions of Tokenize, on real text,
// on random text of the pieces the scanner treats specially, and on texts
// that fill the queue by token count, by bytes, and with terms longer
// than it holds, ASCII and not, at every place among the others.
func TestTokenizeQueueMatchesTokenize(t *testing.T) {
	check := func(text string) {
		t.Helper()
		sameTokens(t, text, queueTokens(t, SimpleTokenizer{}, text), tokens(SimpleTokenizer{}, text))
	}
	t.Run("corpus", func(t *testing.T) {
		docs, _ := loadCorpus(t, 2<<20)
		for _, d := range docs {
			sameTokens(t, d, queueTokens(t, SimpleTokenizer{}, d), tokens(SimpleTokenizer{}, d))
		}
	})
	rng := rand.New(rand.NewSource(6))
	for range 3000 {
		var sb strings.Builder
		for range rng.Intn(400) {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
		check(sb.String())
	}
	long := func(n int, letter string) string { return strings.Repeat(letter, n) }
	for range 300 {
		var sb strings.Builder
		for range 1 + rng.Intn(40) {
			switch rng.Intn(6) {
			case 0: // longer than the queue
				sb.WriteString(long(QueueBytes-8+rng.Intn(16), []string{"A", "é", "x"}[rng.Intn(3)]))
			case 1: // a large part of it
				sb.WriteString(long(500+rng.Intn(1500), "b"))
			default:
				for range rng.Intn(200) {
					sb.WriteString(long(1+rng.Intn(9), "c"))
					sb.WriteByte(' ')
				}
			}
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
		check(sb.String())
	}
}
