package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// The segment-id journal is the record that makes a segment's files this
// index's own before any commit names them. A writer records every segment
// id it will use in it (through WriteSegmentIDs, durable) before it creates
// a file of that segment; orphan cleanup deletes only files of segments that
// the journal or a kept generation names, never files that merely look
// like segment files. So files copied or restored into the directory, or
// left by another index, are never deleted by a cleanup.
//
// The writer drops an id from the journal once its files are known to be
// gone. Payload: the ids, one a line, sorted, then the standard footer
// (kind HSID, version 1).

// SegmentIDsFile is the name of the segment-id journal.
const SegmentIDsFile = "segment_ids.journal"

var segmentIDsKind = [4]byte{'H', 'S', 'I', 'D'}

const segmentIDsVersion = 1

// WriteSegmentIDs replaces the journal with ids through WriteAtomic: if it
// returns nil, the record is durable.
func WriteSegmentIDs(dir Directory, ids []string) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	var payload bytes.Buffer
	for _, id := range ids {
		if id == "" || strings.ContainsAny(id, "\n") {
			return fmt.Errorf("storage: %s: invalid segment id %q", SegmentIDsFile, id)
		}
		payload.WriteString(id)
		payload.WriteByte('\n')
	}
	return dir.WriteAtomic(SegmentIDsFile, appendFooter(payload.Bytes(), segmentIDsKind, segmentIDsVersion))
}

// ReadSegmentIDs reads and verifies the journal. Without one it returns an
// error wrapping fs.ErrNotExist; a damaged one gives a *CorruptError.
func ReadSegmentIDs(dir Directory) ([]string, error) {
	f, err := dir.Open(SegmentIDsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	payload, version, err := ReadVerified(f, segmentIDsKind)
	if err != nil {
		return nil, err
	}
	if version != segmentIDsVersion {
		return nil, corruptf(SegmentIDsFile, "unsupported version %d (this build reads %d)", version, segmentIDsVersion)
	}
	var ids []string
	for line := range strings.SplitSeq(string(payload), "\n") {
		if line != "" {
			ids = append(ids, line)
		}
	}
	return ids, nil
}

// appendFooter returns payload followed by its footer, as ChecksumWriter
// writes it, for small files written whole.
func appendFooter(payload []byte, kind [4]byte, version uint32) []byte {
	var footer [FooterSize]byte
	copy(footer[0:4], kind[:])
	binary.LittleEndian.PutUint32(footer[4:8], version)
	binary.LittleEndian.PutUint64(footer[8:16], uint64(len(payload)))
	h := xxhash.New()
	h.Write(payload)
	h.Write(footer[:16])
	binary.LittleEndian.PutUint64(footer[16:24], h.Sum64())
	copy(footer[24:28], footerMagic[:])
	return append(slices.Clip(payload), footer[:]...)
}
