package storage

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/internal/smaps"
)

// residentBytes returns the resident set of this process's mappings of
// the file at path.
func residentBytes(t *testing.T, path string) int64 {
	t.Helper()
	n, err := smaps.Resident(func(p string) bool { return p == path })
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pageSink keeps the compiler from dropping touchPages' reads.
var pageSink byte

// touchPages reads a byte of every page of b.
func touchPages(b []byte) {
	for i := 0; i < len(b); i += pageSize {
		pageSink += b[i]
	}
}

// TestReleasePagesLeavesResidentSet checks that released pages of a mapped
// file leave the process's resident set, exactly the whole pages inside
// the range, and that reading them again returns the file's bytes.
func TestReleasePagesLeavesResidentSet(t *testing.T) {
	d, err := NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const pages = 256
	data := randomBytes(11, pages*pageSize+100) // a partial last page
	writeFile(t, d, "seg.dat", data)
	r, err := d.Open("seg.dat")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Before Map there is nothing to release.
	if err := ReleasePages(r, 0, r.Size()); err != nil {
		t.Fatal(err)
	}
	m, err := Contents(r)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.Path(), "seg.dat")
	touchPages(m)
	full := int64(pages+1) * int64(pageSize)
	if got := residentBytes(t, path); got != full {
		t.Fatalf("after reading every page: %d bytes resident, want %d", got, full)
	}
	// Half a page in on each side: the 100 whole pages inside go.
	if err := ReleasePages(r, int64(pageSize/2), int64(100*pageSize+pageSize/2+1)); err != nil {
		t.Fatal(err)
	}
	if got, want := residentBytes(t, path), full-100*int64(pageSize); got != want {
		t.Fatalf("after releasing 100 pages: %d bytes resident, want %d", got, want)
	}
	// A range that stops short of the end keeps the partial last page.
	if err := ReleasePages(r, 0, r.Size()-1); err != nil {
		t.Fatal(err)
	}
	if got := residentBytes(t, path); got != int64(pageSize) {
		t.Fatalf("after releasing all but the last byte: %d bytes resident, want one page (%d)", got, pageSize)
	}
	if err := ReleasePages(r, 0, r.Size()); err != nil {
		t.Fatal(err)
	}
	if got := residentBytes(t, path); got != 0 {
		t.Fatalf("after releasing the whole file: %d bytes resident, want none", got)
	}
	if !bytes.Equal(m, data) {
		t.Fatal("the bytes read again after ReleasePages differ from the file's")
	}
	if err := ReleasePages(r, 1, r.Size()); err == nil || !strings.Contains(err.Error(), "seg.dat") {
		t.Fatalf("ReleasePages past the end = %v, want an error naming seg.dat", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ReleasePages(r, 0, r.Size()); err != nil {
		t.Fatalf("ReleasePages after Close = %v, want nothing done", err)
	}
}
