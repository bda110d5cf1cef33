package storage

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// Writes to /dev/full fail with ENOSPC, which the file system directory
// reports as ErrDiskFull too.
func TestFSDiskFull(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := &fsWriteFile{f: f, name: "full"}
	defer w.Close()
	_, err = w.Write(make([]byte, 10))
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write to a full device = %v, want ErrDiskFull and ENOSPC", err)
	}
	wantErr(t, "write to a full device", err, ErrDiskFull, "/dev/full")
}
