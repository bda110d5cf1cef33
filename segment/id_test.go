package segment

import (
	"testing"
	"time"
)

func TestIDsCarryTheirTimeAndParseBack(t *testing.T) {
	at := time.Date(2026, 11, 24, 7, 0, 0, 123_456_789, time.UTC)
	a, b := NewIDAt(at), NewIDAt(at)
	if a == b {
		t.Fatal("two ids for the same millisecond are equal: the random part is missing")
	}
	if got, want := a.Time(), at.Truncate(time.Millisecond); !got.Equal(want) {
		t.Fatalf("id time %v, want %v", got, want)
	}
	if later := NewIDAt(at.Add(time.Millisecond)); later.String() <= a.String() {
		t.Fatalf("ids do not sort by time: %s after %s", later, a)
	}
	back, err := ParseID(a.String())
	if err != nil || back != a {
		t.Fatalf("ParseID(%s) = %s, %v", a, back, err)
	}
	for _, bad := range []string{"", "xyz", a.String()[:31], a.String() + "0", "zz" + a.String()[2:]} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted a malformed id", bad)
		}
	}
}
