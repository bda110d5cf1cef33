//go:build linux

package pages

import (
	"fmt"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkProbeThenFill fills memory fresh from the kernel the way a
// hash table's grow does, reading each slot before writing it, with and
// without TouchForWrite first; faults/page is the page faults it took per
// page (2 untouched, 1 touched).
func BenchmarkProbeThenFill(b *testing.B) {
	const size = 16 << 20
	for _, touch := range []bool{false, true} {
		b.Run(fmt.Sprintf("touch=%v", touch), func(b *testing.B) {
			var faults int64
			for range b.N {
				mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
				if err != nil {
					b.Fatal(err)
				}
				slots := unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), size/8)
				before := minorFaults(b)
				if touch {
					TouchForWrite(slots)
				}
				for i := range slots {
					if slots[i] == 0 {
						slots[i] = uint64(i) | 1
					}
				}
				faults += minorFaults(b) - before
				if err := syscall.Munmap(mem); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(faults)/float64(b.N)/(size/4096), "faults/page")
		})
	}
}

func minorFaults(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return int64(ru.Minflt)
}

// TestTouchForWriteMapsEveryPage: every page s spans is mapped after
// TouchForWrite, whether s begins at the start of a page or inside one
// (then its last page may begin less than a page after its last touch).
func TestTouchForWriteMapsEveryPage(t *testing.T) {
	page := unix.Getpagesize()
	for _, skew := range []int{0, 16, page / 2, page - 16} {
		size := 4*minBytes + 3*page
		mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
		if err != nil {
			t.Fatal(err)
		}
		n := (2*minBytes + page) / 16 // elements of 16 bytes
		s := unsafe.Slice((*slot)(unsafe.Pointer(&mem[skew])), n)
		TouchForWrite(s)
		resident := make([]byte, size/page)
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])), uintptr(size), uintptr(unsafe.Pointer(&resident[0])))
		if errno != 0 {
			t.Fatal(errno)
		}
		first, last := skew/page, (skew+n*16-1)/page
		for p, r := range resident {
			if in := p >= first && p <= last; in != (r&1 == 1) {
				t.Errorf("skew %d: page %d of the mapping (s spans %d to %d) resident=%v", skew, p, first, last, r&1 == 1)
			}
		}
		if err := unix.Munmap(mem); err != nil {
			t.Fatal(err)
		}
	}
}
