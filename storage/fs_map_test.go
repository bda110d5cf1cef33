package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestMapRefusesShrunkFile checks that a file truncated after it was
// opened is reported as corrupt, naming it, instead of being mapped (its
// lost pages would raise SIGBUS when touched).
func TestMapRefusesShrunkFile(t *testing.T) {
	path := t.TempDir()
	d, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, d, "seg.dat", randomBytes(3, 50_000))
	r, err := d.Open("seg.dat")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.Truncate(filepath.Join(path, "seg.dat"), 10_000); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if _, err := Contents(r); !errors.As(err, &ce) || ce.File != "seg.dat" {
		t.Fatalf("Contents of a shrunk file: %v, want a CorruptError naming seg.dat", err)
	}
}
