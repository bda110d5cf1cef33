package segment

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// ID names a segment: 48 bits of Unix milliseconds (big-endian, so ids
// sort roughly by creation time) followed by 80 random bits.
type ID [16]byte

// NewID returns a fresh id for the current time.
func NewID() ID { return NewIDAt(time.Now()) }

// NewIDAt returns a fresh id for time t (to the millisecond). A writer uses
// it to keep the ids it makes at or after its start, whatever the wall clock
// does, so that its orphan cleanup can tell its own segments from leftovers.
func NewIDAt(t time.Time) ID {
	var id ID
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(id[:6], ms[2:])
	_, _ = rand.Read(id[6:]) // crypto/rand.Read never fails (Go 1.24+)
	return id
}

// ParseID parses the 32-hex-digit form written by String.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 32 {
		return id, fmt.Errorf("segment: invalid id %q: want 32 hex digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("segment: invalid id %q: %v", s, err)
	}
	return id, nil
}

// String returns the id as 32 lowercase hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Time returns the creation time encoded in the id.
func (id ID) Time() time.Time {
	var t [8]byte
	copy(t[2:], id[:6])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(t[:])))
}

// IsZero reports whether id is the zero id (never returned by NewID).
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText writes the hex form, so ids are strings in JSON.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads the hex form.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
