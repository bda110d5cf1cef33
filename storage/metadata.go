package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// MetadataFile is the name of the file recording what is committed.
const MetadataFile = "metadata.json"

// MetadataFormatVersion is the version of metadata.json this package writes
// and the newest it reads.
const MetadataFormatVersion = 1

// Metadata is the content of metadata.json, the one truth of what is
// committed: a file not named by it is an orphan, left by an aborted commit,
// a merge or a crash, and may be deleted once no reader uses it.
//
// It is replaced whole by WriteMetadata (temporary file, fsync, rename,
// directory fsync), so after a crash it is either the previous commit or the
// new one.
type Metadata struct {
	// FormatVersion is the version of this file's layout; WriteMetadata
	// writes MetadataFormatVersion when it is 0.
	FormatVersion int
	// Generation numbers commits; each commit writes a larger one than the
	// last. The writer, which owns the file, assigns it.
	Generation uint64
	// Schema is the index schema as JSON, owned by the segment package. It
	// is stored re-indented, so compare it as JSON, not as bytes.
	Schema json.RawMessage `json:",omitempty"`
	// Segments lists the committed segments, in the order they were added.
	Segments []SegmentInfo
	// Later additions go here, each optional (omitempty) so older files
	// still read: e.g. per-segment delete generations, commit user data.
}

// SegmentInfo describes one committed segment.
type SegmentInfo struct {
	// ID names the segment, unique within the index.
	ID string
	// NumDocs counts the documents stored in the segment, deleted or not.
	NumDocs uint32
	// NumDeleted counts its deleted documents (at most NumDocs).
	NumDeleted uint32
	// DelGen is the generation of its deletions file; 0 means none.
	DelGen uint64
	// Ancestors are the IDs of the segments merged into this one, if any.
	Ancestors []string `json:",omitempty"`
	// Files are the names of the segment's files in the directory.
	Files []string
	// Bytes is the total size of Files.
	Bytes int64
}

// The file starts with its checksum, so it stays plain JSON that tools and
// people can read:
//
//	{
//	  "Checksum": "xxh64:0123456789abcdef",
//	  "FormatVersion": 1,
//	  ...
//
// The checksum is xxhash64 of every byte after its 16 hex digits; the bytes
// before them are a fixed prefix. So every byte of the file is checked.
const (
	checksumPrefix  = "{\n  \"Checksum\": \"xxh64:"
	checksumHexLen  = 16
	checksumBodyOff = len(checksumPrefix) + checksumHexLen
)

// metadataOnDisk is Metadata with the checksum field first.
type metadataOnDisk struct {
	Checksum string
	Metadata
}

// WriteMetadata commits m: it validates m, checks that every file it names
// exists, fsyncs the directory so those files' names are durable before
// anything refers to them, writes the same bytes as the kept generation
// metadata_<Generation>.json (fsynced), and writes metadata.json with an
// embedded checksum through WriteAtomic. The files' contents must already be synced
// (ChecksumWriter.Finish does it). If WriteMetadata returns nil, the commit
// is durable; if it fails, a crash leaves the previous commit or this one.
func WriteMetadata(dir Directory, m *Metadata) error {
	if err := m.validate(); err != nil {
		return &fs.PathError{Op: "write", Path: MetadataFile, Err: fmt.Errorf("invalid metadata: %w", err)}
	}
	names, err := dir.List()
	if err != nil {
		return err
	}
	for _, s := range m.Segments {
		for _, f := range s.Files {
			if _, ok := slices.BinarySearch(names, f); !ok {
				return &fs.PathError{Op: "write", Path: MetadataFile,
					Err: fmt.Errorf("segment %s names file %s: %w", s.ID, f, fs.ErrNotExist)}
			}
		}
	}
	data, err := encodeMetadata(m)
	if err != nil {
		return err
	}
	// The same bytes as a kept generation, so that a lost or damaged
	// metadata.json can fall back to it (see KeepGenerations).
	if err := writeGeneration(dir, m.Generation, data); err != nil {
		return err
	}
	// Without this, a crash could keep the new metadata.json but lose the
	// names of the files it refers to (the file system may persist the
	// rename before the creations).
	if err := dir.SyncDir(); err != nil {
		return err
	}
	return dir.WriteAtomic(MetadataFile, data)
}

// encodeMetadata returns m as metadata.json's bytes, checksum included.
func encodeMetadata(m *Metadata) ([]byte, error) {
	disk := metadataOnDisk{Checksum: "xxh64:" + string(bytes.Repeat([]byte{'0'}, checksumHexLen)), Metadata: *m}
	if disk.FormatVersion == 0 {
		disk.FormatVersion = MetadataFormatVersion
	}
	data, err := json.MarshalIndent(&disk, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("storage: encoding %s: %w", MetadataFile, err)
	}
	data = append(data, '\n')
	if !bytes.HasPrefix(data, []byte(checksumPrefix)) {
		// Only a change to metadataOnDisk could cause this.
		return nil, fmt.Errorf("storage: encoding %s: checksum field not first", MetadataFile)
	}
	sum := xxhash.Sum64(data[checksumBodyOff:])
	hex.Encode(data[len(checksumPrefix):checksumBodyOff], binary.BigEndian.AppendUint64(nil, sum))
	return data, nil
}

// ReadMetadata reads and verifies metadata.json. With no index in dir it
// returns an error wrapping fs.ErrNotExist; a bad checksum or bad JSON gives
// a *CorruptError naming metadata.json.
func ReadMetadata(dir Directory) (*Metadata, error) {
	data, err := ReadAll(dir, MetadataFile)
	if err != nil {
		return nil, err
	}
	return decodeMetadata(MetadataFile, data)
}

// decodeMetadata decodes and verifies the content of name, metadata.json or
// a kept generation.
func decodeMetadata(name string, data []byte) (*Metadata, error) {
	if len(data) < checksumBodyOff || !bytes.HasPrefix(data, []byte(checksumPrefix)) {
		return nil, corruptf(name, "does not start with %q: truncated or not a metadata file", checksumPrefix)
	}
	stored, err := strconv.ParseUint(string(data[len(checksumPrefix):checksumBodyOff]), 16, 64)
	if err != nil {
		return nil, corruptf(name, "checksum %q is not 16 hex digits", data[len(checksumPrefix):checksumBodyOff])
	}
	// Upper-case hex would parse, but the writer never produces it.
	if string(data[len(checksumPrefix):checksumBodyOff]) != fmt.Sprintf("%016x", stored) {
		return nil, corruptf(name, "checksum %q is not lower-case hex", data[len(checksumPrefix):checksumBodyOff])
	}
	if sum := xxhash.Sum64(data[checksumBodyOff:]); sum != stored {
		return nil, checksumMismatch(name, stored, sum)
	}
	var disk metadataOnDisk
	if err := json.Unmarshal(data, &disk); err != nil {
		return nil, corruptf(name, "bad JSON: %v", err)
	}
	m := disk.Metadata
	if m.FormatVersion < 1 || m.FormatVersion > MetadataFormatVersion {
		return nil, &fs.PathError{Op: "read", Path: name,
			Err: fmt.Errorf("unsupported FormatVersion %d (this build reads 1 to %d)", m.FormatVersion, MetadataFormatVersion)}
	}
	// A field this build does not know was written by a newer one: refuse
	// rather than drop it on the next commit.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(new(metadataOnDisk)); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name,
			Err: fmt.Errorf("written by a newer version (%v)", err)}
	}
	if err := m.validate(); err != nil {
		return nil, corruptf(name, "invalid content: %v", err)
	}
	return &m, nil
}

// validate checks what every reader relies on: unique, plain segment IDs
// and file names, and counts that add up.
func (m *Metadata) validate() error {
	// Messages start with the field's name, as in "field Segments[2].ID ...".
	bad := func(format string, args ...any) error {
		return fmt.Errorf("field "+format, args...)
	}
	if m.FormatVersion < 0 || m.FormatVersion > MetadataFormatVersion {
		return bad("FormatVersion %d is not supported (1 to %d)", m.FormatVersion, MetadataFormatVersion)
	}
	if len(m.Schema) > 0 && !json.Valid(m.Schema) {
		return bad("Schema is not valid JSON")
	}
	ids := make(map[string]int, len(m.Segments))
	files := make(map[string]string)
	for i, s := range m.Segments {
		if s.ID == "" {
			return bad("Segments[%d].ID is empty", i)
		}
		if j, dup := ids[s.ID]; dup {
			return bad("Segments[%d].ID %q duplicates Segments[%d]", i, s.ID, j)
		}
		ids[s.ID] = i
		if s.NumDeleted > s.NumDocs {
			return bad("Segments[%d] (%s): NumDeleted %d exceeds NumDocs %d", i, s.ID, s.NumDeleted, s.NumDocs)
		}
		if s.Bytes < 0 {
			return bad("Segments[%d] (%s): negative Bytes %d", i, s.ID, s.Bytes)
		}
		for _, f := range s.Files {
			if err := checkName("", f); err != nil {
				return bad("Segments[%d] (%s): file name %q is not a plain file name", i, s.ID, f)
			}
			if other, dup := files[f]; dup {
				return bad("Segments[%d] (%s): file %q also belongs to segment %s", i, s.ID, f, other)
			}
			files[f] = s.ID
		}
	}
	return nil
}
