package segment

import (
	"encoding/binary"
	"fmt"

	"github.com/hermes-search/hermes-go/storage"
)

// FormatVersion is the version written in every segment file's footer
// but the store's (storeVersion, which reads this one too). Open rejects
// files of other versions. See FORMAT.md.
const FormatVersion = 2

// A segment's files: name suffix and footer kind.
type fileKind struct {
	ext  string
	kind [4]byte
}

var (
	kindMeta  = fileKind{"meta", [4]byte{'H', 'S', 'M', 'T'}}
	kindDict  = fileKind{"tdict", [4]byte{'H', 'S', 'T', 'D'}}
	kindPost  = fileKind{"post", [4]byte{'H', 'S', 'P', 'O'}}
	kindPos   = fileKind{"pos", [4]byte{'H', 'S', 'P', 'S'}}
	kindNorm  = fileKind{"norm", [4]byte{'H', 'S', 'N', 'M'}}
	kindStore = fileKind{"store", [4]byte{'H', 'S', 'S', 'T'}}
	kindFast  = fileKind{"fast", [4]byte{'H', 'S', 'F', 'S'}}
)

// allKinds lists the files in the order Build writes them; meta is last,
// so a segment whose meta file is complete has all its other files.
var allKinds = []fileKind{kindDict, kindPost, kindPos, kindNorm, kindStore, kindFast, kindMeta}

// version is the format version written in the footer of k's files.
func (k fileKind) version() uint32 {
	if k == kindStore {
		return storeVersion
	}
	return FormatVersion
}

func fileName(id ID, k fileKind) string { return id.String() + "." + k.ext }

// SegmentFiles returns the names of the seven files of segment id, for
// orphan cleanup and for copying a segment between directories. Its
// deletes files, one per generation, are named by DeletesFileName;
// ParseFileName recognises both kinds of name.
func SegmentFiles(id ID) []string {
	out := make([]string, len(allKinds))
	for i, k := range allKinds {
		out[i] = fileName(id, k)
	}
	return out
}

// versionError reports a segment file of another format version.
func versionError(name string, ver uint32) error {
	return fmt.Errorf("%s: unsupported format version %d (this build reads %d; rebuild the index with this build, e.g. hermes index)", name, ver, FormatVersion)
}

// corrupt returns a *storage.CorruptError for a segment file.
func corrupt(file, format string, args ...any) error {
	return &storage.CorruptError{File: file, Reason: fmt.Sprintf(format, args...)}
}

// decoder reads little-endian and varint values from a byte slice with
// bounds checks. The first failure sticks: later reads return zero, and
// err reports it once, naming the file.
type decoder struct {
	b    []byte
	p    int
	file string
	what string // what is being decoded, for the error
	bad  bool
}

func (d *decoder) fail() {
	if !d.bad {
		d.bad = true
	}
	d.p = len(d.b)
}

func (d *decoder) err() error {
	if !d.bad {
		return nil
	}
	return corrupt(d.file, "malformed %s", d.what)
}

func (d *decoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.p:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.p += n
	return v
}

// uvarint32 reads a uvarint that must fit in 32 bits.
func (d *decoder) uvarint32() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail()
		return 0
	}
	return uint32(v)
}

// length reads a uvarint that must be a byte count within the rest of the
// buffer.
func (d *decoder) length() int {
	v := d.uvarint()
	if v > uint64(len(d.b)-d.p) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) byte() byte {
	if d.bad || d.p >= len(d.b) {
		d.fail()
		return 0
	}
	c := d.b[d.p]
	d.p++
	return c
}

func (d *decoder) bytes(n int) []byte {
	if d.bad || n < 0 || n > len(d.b)-d.p {
		d.fail()
		return nil
	}
	s := d.b[d.p : d.p+n : d.p+n]
	d.p += n
	return s
}

func (d *decoder) u64() uint64 {
	b := d.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// skipUvarints returns the byte length of the first n uvarints of b, or -1
// if b holds fewer.
func skipUvarints(b []byte, n uint64) int {
	if n == 0 {
		return 0
	}
	for i, c := range b {
		if c < 0x80 {
			if n--; n == 0 {
				return i + 1
			}
		}
	}
	return -1
}
