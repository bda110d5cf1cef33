package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/cespare/xxhash/v2"
)

// Every file of an index except metadata.json ends with a footer, so that
// corruption and truncation are detected before a byte of it is trusted:
//
//	offset  size  field
//	0       4     kind: what the file is (e.g. "TERM"), checked by the reader
//	4       4     format version of this kind, little-endian uint32
//	8       8     payload length in bytes, little-endian uint64
//	16      8     xxhash64 of the payload followed by footer bytes 0..16
//	24      4     magic "HRMF"
//
// The checksum covers the footer's own fields, so a flipped bit anywhere in
// the file is caught; the length must equal the file size minus FooterSize,
// so truncation is caught even when the cut lands on footer-like bytes.
const FooterSize = 28

var footerMagic = [4]byte{'H', 'R', 'M', 'F'}

// Footer is the decoded footer of a checksummed file.
type Footer struct {
	Kind       [4]byte
	Version    uint32
	PayloadLen int64
	Checksum   uint64
}

// ChecksumWriter writes a checksummed file: a payload followed by a footer.
// It buffers, hashes everything written, and on Finish writes the footer,
// fsyncs and closes the file. After any error it returns that error for
// every later call; the caller then removes the file.
type ChecksumWriter struct {
	f    WriteFile
	buf  *bufio.Writer
	h    *xxhash.Digest
	n    int64
	err  error
	done bool
}

// NewChecksumWriter returns a ChecksumWriter writing to f, which must be
// empty.
func NewChecksumWriter(f WriteFile) *ChecksumWriter {
	return &ChecksumWriter{f: f, buf: bufio.NewWriterSize(f, 64<<10), h: xxhash.New()}
}

// Write appends p to the payload.
func (w *ChecksumWriter) Write(p []byte) (int, error) {
	if err := w.check("write"); err != nil {
		return 0, err
	}
	n, err := w.buf.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Offset returns the number of payload bytes written so far, which is the
// offset in the file of the next byte written.
func (w *ChecksumWriter) Offset() int64 { return w.n }

// Finish writes the footer with the file's kind and format version, flushes,
// fsyncs and closes the file. If it returns nil, the file is durable (its
// name still needs Directory.SyncDir). The file is closed in every case.
func (w *ChecksumWriter) Finish(kind [4]byte, version uint32) error {
	if err := w.check("finish"); err != nil {
		return err
	}
	w.done = true
	var footer [FooterSize]byte
	copy(footer[0:4], kind[:])
	binary.LittleEndian.PutUint32(footer[4:8], version)
	binary.LittleEndian.PutUint64(footer[8:16], uint64(w.n))
	w.h.Write(footer[:16])
	binary.LittleEndian.PutUint64(footer[16:24], w.h.Sum64())
	copy(footer[24:28], footerMagic[:])

	_, err := w.buf.Write(footer[:])
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.err = err
	return err
}

// Abort closes the file without a footer, for error paths; the caller
// removes the file. It does nothing after Finish.
func (w *ChecksumWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.err == nil {
		w.err = &fs.PathError{Op: "write", Path: w.f.Name(), Err: errors.New("checksum writer aborted")}
	}
	return w.f.Close()
}

func (w *ChecksumWriter) check(op string) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return &fs.PathError{Op: op, Path: w.f.Name(), Err: fs.ErrClosed}
	}
	return nil
}

// parseFooter decodes and checks the footer at the end of a file of size
// bytes, for the expected kind. It does not check the checksum.
func parseFooter(name string, b []byte, size int64, kind [4]byte) (Footer, error) {
	var ft Footer
	if [4]byte(b[24:28]) != footerMagic {
		return ft, corruptf(name, "bad footer magic %q (want %q): not a checksummed file, or truncated", b[24:28], footerMagic[:])
	}
	ft.Kind = [4]byte(b[0:4])
	ft.Version = binary.LittleEndian.Uint32(b[4:8])
	plen := binary.LittleEndian.Uint64(b[8:16])
	ft.Checksum = binary.LittleEndian.Uint64(b[16:24])
	if plen != uint64(size-FooterSize) {
		return ft, corruptf(name, "footer says payload is %d bytes but file holds %d: truncated or corrupt", plen, size-FooterSize)
	}
	ft.PayloadLen = int64(plen)
	if ft.Kind != kind {
		return ft, corruptf(name, "file kind is %q, want %q", ft.Kind[:], kind[:])
	}
	return ft, nil
}

// ReadFooter reads and checks the footer of f (magic, kind, payload length)
// without reading the payload, for readers that access a large file in
// place; Verify checks the checksum too.
func ReadFooter(f ReadFile, kind [4]byte) (Footer, error) {
	size := f.Size()
	if size < FooterSize {
		return Footer{}, corruptf(f.Name(), "%d bytes is too short for a %d-byte footer: truncated", size, FooterSize)
	}
	b, err := readFooterBytes(f, size-FooterSize)
	if err != nil {
		return Footer{}, err
	}
	return parseFooter(f.Name(), b[:], size, kind)
}

// verifyBuffer is how much of a file Verify reads at a time: large enough
// that a read call costs little beside hashing its bytes.
const verifyBuffer = 256 << 10

// Verify checks f's footer and checksum, streaming the payload through the
// hash without holding it in memory.
func Verify(f ReadFile, kind [4]byte) (Footer, error) {
	ft, err := ReadFooter(f, kind)
	if err != nil {
		return ft, err
	}
	h := xxhash.New()
	buf := make([]byte, max(1, min(ft.PayloadLen, verifyBuffer)))
	if _, err := io.CopyBuffer(h, io.NewSectionReader(f, 0, ft.PayloadLen), buf); err != nil {
		return ft, err
	}
	b, err := readFooterBytes(f, ft.PayloadLen)
	if err != nil {
		return ft, err
	}
	h.Write(b[:16])
	if sum := h.Sum64(); sum != ft.Checksum {
		return ft, checksumMismatch(f.Name(), ft.Checksum, sum)
	}
	return ft, nil
}

// readFooterBytes reads the FooterSize bytes at off, the end of f.
func readFooterBytes(f ReadFile, off int64) ([FooterSize]byte, error) {
	var b [FooterSize]byte
	n, err := f.ReadAt(b[:], off)
	switch {
	case n == FooterSize:
		return b, nil // io.ReaderAt may return io.EOF with a full read at the end
	case errors.Is(err, io.EOF):
		return b, corruptf(f.Name(), "truncated while reading footer")
	default:
		return b, err
	}
}

func checksumMismatch(name string, stored, computed uint64) *CorruptError {
	return corruptf(name, "checksum mismatch: footer has %016x, content hashes to %016x", stored, computed)
}

// ReadVerified reads the whole of f and checks its footer (magic, kind,
// length) and checksum. It returns the payload and the footer's format
// version; any mismatch or truncation gives a *CorruptError naming the file
// and what is wrong.
func ReadVerified(f ReadFile, kind [4]byte) (payload []byte, version uint32, err error) {
	if f.Size() < FooterSize {
		return nil, 0, corruptf(f.Name(), "%d bytes is too short for a %d-byte footer: truncated", f.Size(), FooterSize)
	}
	data, err := readFull(f)
	if err != nil {
		return nil, 0, err
	}
	size := int64(len(data))
	ft, err := parseFooter(f.Name(), data[size-FooterSize:], size, kind)
	if err != nil {
		return nil, 0, err
	}
	if sum := xxhash.Sum64(data[:size-FooterSize+16]); sum != ft.Checksum {
		return nil, 0, checksumMismatch(f.Name(), ft.Checksum, sum)
	}
	return data[:ft.PayloadLen:ft.PayloadLen], ft.Version, nil
}

// String formats a footer for messages and tools.
func (ft Footer) String() string {
	return fmt.Sprintf("kind %q version %d payload %d bytes checksum %016x", ft.Kind[:], ft.Version, ft.PayloadLen, ft.Checksum)
}
