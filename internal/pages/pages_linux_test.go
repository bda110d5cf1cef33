//go:build linux

package pages

import (
	"fmt"
	"syscall"
	"testing"
	"unsafe"
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
	return ru.Minflt
}
