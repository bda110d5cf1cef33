package storage

import (
	"bytes"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
)

var kindTest = [4]byte{'T', 'E', 'S', 'T'}

// writeChecksummed writes payload as a checksummed file and returns the
// whole file's bytes.
func writeChecksummed(t *testing.T, d Directory, name string, payload []byte, version uint32) []byte {
	t.Helper()
	f, err := d.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w := NewChecksumWriter(f)
	for i := 0; i < len(payload); i += 7 {
		chunk := payload[i:min(i+7, len(payload))]
		if n, err := w.Write(chunk); err != nil || n != len(chunk) {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if w.Offset() != int64(i+len(chunk)) {
			t.Fatalf("Offset = %d after %d bytes", w.Offset(), i+len(chunk))
		}
	}
	if err := w.Finish(kindTest, version); err != nil {
		t.Fatal(err)
	}
	data, err := ReadAll(d, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != len(payload)+FooterSize {
		t.Fatalf("file is %d bytes, want payload %d + footer %d", len(data), len(payload), FooterSize)
	}
	return data
}

func readVerified(t *testing.T, d Directory, name string, kind [4]byte) ([]byte, uint32, error) {
	t.Helper()
	f, err := d.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ReadVerified(f, kind)
}

func verify(t *testing.T, d Directory, name string, kind [4]byte) (Footer, error) {
	t.Helper()
	f, err := d.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Verify(f, kind)
}

func TestChecksumRoundTrip(t *testing.T) {
	d := NewMem()
	for _, size := range []int{0, 1, 100, 200_000} {
		payload := randomBytes(uint64(size), size)
		writeChecksummed(t, d, "f", payload, 3)
		got, version, err := readVerified(t, d, "f", kindTest)
		if err != nil || version != 3 || !bytes.Equal(got, payload) {
			t.Fatalf("size %d: ReadVerified = %d bytes, version %d, %v", size, len(got), version, err)
		}
		ft, err := verify(t, d, "f", kindTest)
		if err != nil || ft.Version != 3 || ft.PayloadLen != int64(size) || ft.Kind != kindTest {
			t.Fatalf("size %d: Verify = %v, %v", size, ft, err)
		}
		if err := d.Remove("f"); err != nil {
			t.Fatal(err)
		}
	}
}

// wantCorrupt checks that err is a *CorruptError naming file.
func wantCorrupt(t *testing.T, what string, err error, file string) {
	t.Helper()
	var ce *CorruptError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.File != file || ce.Reason == "" {
		t.Fatalf("%s: error %v, want a *CorruptError naming %s", what, err, file)
	}
	if !strings.Contains(err.Error(), file) {
		t.Fatalf("%s: message %q does not name %s", what, err, file)
	}
}

// Every single damaged byte and every truncation of a small file is
// detected, by both ReadVerified and Verify.
func TestChecksumDetectsEveryFlipAndTruncation(t *testing.T) {
	d := NewMem()
	good := writeChecksummed(t, d, "orig", randomBytes(9, 40), 1)
	check := func(what string, data []byte) {
		t.Helper()
		if err := d.WriteAtomic("bad", data); err != nil {
			t.Fatal(err)
		}
		_, _, err := readVerified(t, d, "bad", kindTest)
		wantCorrupt(t, what+" (ReadVerified)", err, "bad")
		_, err = verify(t, d, "bad", kindTest)
		wantCorrupt(t, what+" (Verify)", err, "bad")
	}
	for i := range good {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(good)
			bad[i] ^= mask
			check("flip at "+strconv.Itoa(i), bad)
		}
	}
	for n := range len(good) {
		check("truncated to "+strconv.Itoa(n), good[:n])
	}
	// Bytes appended after the footer are caught too.
	check("appended byte", append(bytes.Clone(good), 0))
}

func TestChecksumWrongKind(t *testing.T) {
	d := NewMem()
	writeChecksummed(t, d, "terms", []byte("payload"), 1)
	_, _, err := readVerified(t, d, "terms", [4]byte{'P', 'O', 'S', 'T'})
	wantCorrupt(t, "wrong kind", err, "terms")
	if !strings.Contains(err.Error(), `"TEST"`) || !strings.Contains(err.Error(), `"POST"`) {
		t.Fatalf("wrong-kind error %q does not say both kinds", err)
	}
}

// Finish makes the file durable: after SyncDir and a crash it verifies.
func TestChecksumFinishSyncs(t *testing.T) {
	d := NewFaulty(5)
	payload := randomBytes(5, 1000)
	writeChecksummed(t, d, "seg", payload, 2)
	if got := d.Unsynced(); len(got) != 1 || got[0] != "seg" {
		t.Fatalf("Unsynced after Finish = %q, want only the name of seg", got)
	}
	if err := d.SyncDir(); err != nil {
		t.Fatal(err)
	}
	after := d.Crash()
	got, version, err := readVerified(t, after, "seg", kindTest)
	if err != nil || version != 2 || !bytes.Equal(got, payload) {
		t.Fatalf("after crash: %d bytes, version %d, %v", len(got), version, err)
	}
}

// A failed write is sticky: later calls return it, and Finish closes the
// file and fails.
func TestChecksumWriterErrors(t *testing.T) {
	d := NewFaulty(1)
	f, err := d.Create("seg")
	if err != nil {
		t.Fatal(err)
	}
	d.FailAfter(0)
	w := NewChecksumWriter(f)
	_, err = w.Write(make([]byte, 100<<10)) // more than the buffer: reaches the file
	wantErr(t, "Write", err, ErrInjected, "seg")
	if _, err2 := w.Write([]byte("x")); err2 != err {
		t.Fatalf("second Write = %v, want the first error %v", err2, err)
	}
	if err2 := w.Finish(kindTest, 1); err2 != err {
		t.Fatalf("Finish = %v, want the first error %v", err2, err)
	}
	d.FailAfter(-1)

	// Finish twice is an error, not a second footer.
	f, err = d.Create("seg2")
	if err != nil {
		t.Fatal(err)
	}
	w = NewChecksumWriter(f)
	if err := w.Finish(kindTest, 1); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "second Finish", w.Finish(kindTest, 1), fs.ErrClosed, "seg2")
	if size, _ := d.FileSize("seg2"); size != FooterSize {
		t.Fatalf("empty checksummed file is %d bytes, want %d", size, FooterSize)
	}

	// Abort closes without a footer.
	f, err = d.Create("seg3")
	if err != nil {
		t.Fatal(err)
	}
	w = NewChecksumWriter(f)
	w.Write([]byte("abc"))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(kindTest, 1); err == nil {
		t.Fatal("Finish after Abort succeeded")
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("file after Abort is not closed: %v", err)
	}
}

func BenchmarkChecksumWriter(b *testing.B) {
	chunk := randomBytes(1, 4096)
	b.SetBytes(int64(len(chunk)) * 256)
	for b.Loop() {
		d := NewMem()
		f, _ := d.Create("f")
		w := NewChecksumWriter(f)
		for range 256 {
			w.Write(chunk)
		}
		if err := w.Finish(kindTest, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadVerified(b *testing.B) {
	d := NewMem()
	f, _ := d.Create("f")
	w := NewChecksumWriter(f)
	w.Write(randomBytes(1, 1<<20))
	if err := w.Finish(kindTest, 1); err != nil {
		b.Fatal(err)
	}
	r, _ := d.Open("f")
	b.SetBytes(r.Size())
	for b.Loop() {
		if _, _, err := ReadVerified(r, kindTest); err != nil {
			b.Fatal(err)
		}
	}
}
