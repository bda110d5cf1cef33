package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hermes-search/hermes-go/segment"
)

// now is the clock of "now" in date queries; tests replace it.
var now = time.Now

// parseDateValue reads a date as a query gives it: an RFC 3339 timestamp or
// a bare day (see segment.ParseDate), integer epoch milliseconds, or date
// math on now: "now", "now-7d", "now+1h", "now-1M-2d" (units y, M, w, d,
// h, m, s; M and y are calendar months and years in UTC). It returns epoch
// milliseconds and whether the text was a bare day.
func parseDateValue(s string) (ms int64, day bool, err error) {
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		t, err := dateMath(now().UTC(), rest)
		if err != nil {
			return 0, false, fmt.Errorf("date math %q: %w", s, err)
		}
		return t.UnixMilli(), false, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, false, nil
	}
	ms, err = segment.ParseDate(s)
	if err != nil {
		return 0, false, fmt.Errorf("%v, epoch milliseconds or now-7d style date math", err)
	}
	return ms, len(s) == len(time.DateOnly), nil
}

// dateMath applies a sequence of +N<unit> / -N<unit> steps to t.
func dateMath(t time.Time, steps string) (time.Time, error) {
	for steps != "" {
		sign := steps[0]
		if sign != '+' && sign != '-' {
			return t, fmt.Errorf("want +N<unit> or -N<unit> after now, got %q", steps)
		}
		i := 1
		for i < len(steps) && steps[i] >= '0' && steps[i] <= '9' {
			i++
		}
		if i == 1 || i == len(steps) {
			return t, fmt.Errorf("want a number and a unit (y, M, w, d, h, m, s) in %q", steps)
		}
		n, err := strconv.Atoi(steps[1:i])
		if err != nil {
			return t, fmt.Errorf("number %q too large", steps[1:i])
		}
		if sign == '-' {
			n = -n
		}
		switch steps[i] {
		case 'y':
			t = t.AddDate(n, 0, 0)
		case 'M':
			t = t.AddDate(0, n, 0)
		case 'w':
			t = t.AddDate(0, 0, 7*n)
		case 'd':
			t = t.AddDate(0, 0, n)
		case 'h':
			t = t.Add(time.Duration(n) * time.Hour)
		case 'm':
			t = t.Add(time.Duration(n) * time.Minute)
		case 's':
			t = t.Add(time.Duration(n) * time.Second)
		default:
			return t, fmt.Errorf("unknown unit %q (want y, M, w, d, h, m or s)", steps[i])
		}
		steps = steps[i+1:]
	}
	return t, nil
}

// dayMillis is the length of a UTC day in milliseconds.
const dayMillis = 24 * 60 * 60 * 1000

// ParseDate reads a date as queries take it (RFC 3339, a bare day, epoch
// milliseconds, or now-7d style date math) and returns epoch milliseconds.
// Aggregations use it for their date bounds.
func ParseDate(s string) (int64, error) {
	ms, _, err := parseDateValue(s)
	return ms, err
}
