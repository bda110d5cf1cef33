package segment

import (
	"testing"
	"unsafe"
)

// prefetch is only a hint: any address, even one that is not mapped, and
// no address at all, leave memory as it was.
func TestPrefetchIsOnlyAHint(t *testing.T) {
	buf := []byte("unchanged")
	prefetch(nil)
	prefetch([]uintptr{0, 1 << 47, ^uintptr(0), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&buf[8]))})
	if string(buf) != "unchanged" {
		t.Fatalf("buf = %q", buf)
	}
}
