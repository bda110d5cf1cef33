package storage

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFSLockExcludesSecondNewFS(t *testing.T) {
	path := t.TempDir()
	d1, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := d1.Lock()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d2.Lock()
	wantErr(t, "Lock through a second NewFS", err, ErrLocked, path)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := d2.Lock()
	if err != nil {
		t.Fatalf("Lock after the first holder released = %v", err)
	}
	l2.Close()
}

// lockChildEnv makes the test binary act as a second process that tries to
// take the lock of the directory it names, prints the outcome and exits.
const lockChildEnv = "HERMES_STORAGE_LOCK_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(lockChildEnv); path != "" {
		lockChild(path)
		return
	}
	os.Exit(m.Run())
}

func lockChild(path string) {
	d, err := NewFS(path)
	if err != nil {
		os.Stdout.WriteString("RESULT error " + err.Error() + "\n")
		return
	}
	l, err := d.Lock()
	switch {
	case errors.Is(err, ErrLocked):
		os.Stdout.WriteString("RESULT locked\n")
	case err != nil:
		os.Stdout.WriteString("RESULT error " + err.Error() + "\n")
	default:
		l.Close()
		os.Stdout.WriteString("RESULT acquired\n")
	}
}

func TestFSLockAcrossProcesses(t *testing.T) {
	path := t.TempDir()
	child := func() string {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		for line := range strings.Lines(string(out)) {
			if r, ok := strings.CutPrefix(line, "RESULT "); ok {
				return strings.TrimSpace(r)
			}
		}
		t.Fatalf("child process printed no result:\n%s", out)
		return ""
	}
	d, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if got := child(); got != "locked" {
		t.Fatalf("another process while we hold the lock: %s, want locked", got)
	}
	l.Close()
	if got := child(); got != "acquired" {
		t.Fatalf("another process after we released the lock: %s, want acquired", got)
	}
}

func TestFSNewCreatesFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "index")
	d, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		t.Fatalf("folder not created: %v", err)
	}
	if d.Path() != path {
		t.Fatalf("Path = %q, want %q", d.Path(), path)
	}
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFS(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("NewFS on a regular file = %v, want an error naming it", err)
	}
}

func TestFSDataVisibleToNewInstance(t *testing.T) {
	path := t.TempDir()
	d1, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(7, 5000)
	writeFile(t, d1, "seg", data)
	if err := d1.WriteAtomic(MetadataFile, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	d2, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadAll(d2, "seg"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("second instance reads %d bytes, %v", len(got), err)
	}
	if got := mustList(t, d2); !slices.Equal(got, []string{MetadataFile, "seg"}) {
		t.Fatalf("second instance lists %q", got)
	}
}

// A crash during WriteAtomic leaves a temporary file behind: List hides it
// and the next Lock removes it; other dot files and folders are not listed.
func TestFSStaleTemporaryFiles(t *testing.T) {
	path := t.TempDir()
	d, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(path, tempPrefix+MetadataFile+".abc")
	if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(path, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, d, "keep", []byte("k"))
	if got := mustList(t, d); !slices.Equal(got, []string{"keep"}) {
		t.Fatalf("List = %q, want [keep]", got)
	}
	l, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temporary file after Lock: %v, want it removed", err)
	}
	if _, err := os.Stat(filepath.Join(path, "keep")); err != nil {
		t.Fatalf("Lock removed a real file: %v", err)
	}
}

func TestFSErrorsNamePath(t *testing.T) {
	path := t.TempDir()
	d, err := NewFS(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Open("nope")
	wantErr(t, "Open", err, os.ErrNotExist, filepath.Join(path, "nope"))
}

// BenchmarkFSWriteMetadata measures one commit's metadata write on the real
// file system: two directory fsyncs, one file fsync, one rename.
func BenchmarkFSWriteMetadata(b *testing.B) {
	d, err := NewFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	m := sampleMetadata()
	m.Segments = nil
	for b.Loop() {
		m.Generation++
		if err := WriteMetadata(d, m); err != nil {
			b.Fatal(err)
		}
	}
}
