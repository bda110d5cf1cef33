package segment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/hermes-search/hermes-go/storage"
)

// DeletesKind is the kind ParseFileName reports for a deletes file.
const DeletesKind = "del"

var kindDeletes = fileKind{DeletesKind, [4]byte{'H', 'S', 'D', 'L'}}

// deletesHeader is the payload's fixed part: segment id and generation.
const deletesHeader = 16 + 8

// DeletesFileName returns the name of generation gen of segment id's
// deletes file: "<id>_<gen>.del", gen in decimal.
func DeletesFileName(id ID, gen uint64) string {
	return id.String() + "_" + strconv.FormatUint(gen, 10) + "." + DeletesKind
}

// WriteDeletes writes deleted, the deleted doc ids of segment id, as a new
// deletes file of generation gen (see FORMAT.md), and returns its name.
// Deletes never rewrite a segment or an older deletes file: each change
// is a new generation, and metadata.json says which one is current. The
// file is checksummed and fsynced, then the directory, so a nil error
// means it is durable. A file of that generation must not exist already.
// On error nothing is left behind. deleted is only read; nil means none.
func WriteDeletes(dir storage.Directory, id ID, gen uint64, deleted *roaring.Bitmap) (name string, err error) {
	file := DeletesFileName(id, gen)
	if deleted == nil {
		deleted = roaring.New()
	}
	f, err := dir.Create(file)
	if err != nil {
		return "", fmt.Errorf("segment: write deletes: %w", err)
	}
	w := storage.NewChecksumWriter(f)
	defer func() {
		if err != nil {
			_ = w.Abort()
			_ = dir.Remove(file)
			err = fmt.Errorf("segment: write deletes %s: %w", file, err)
		}
	}()
	var hdr [deletesHeader]byte
	copy(hdr[:16], id[:])
	binary.LittleEndian.PutUint64(hdr[16:], gen)
	if _, err := w.Write(hdr[:]); err != nil {
		return "", err
	}
	if _, err := deleted.WriteTo(w); err != nil {
		return "", err
	}
	if err := w.Finish(kindDeletes.kind, FormatVersion); err != nil {
		return "", err
	}
	if err := dir.SyncDir(); err != nil {
		return "", err
	}
	return file, nil
}

// ReadDeletes reads generation gen of segment id's deletes file, checking
// its checksum, that it belongs to that segment and generation, and that
// every doc id is below maxDoc (the segment's NumDocs). Damage gives an
// error wrapping storage.ErrCorrupt that names the file; a missing file an
// error wrapping fs.ErrNotExist.
func ReadDeletes(dir storage.Directory, id ID, gen uint64, maxDoc uint32) (bm *roaring.Bitmap, err error) {
	name := DeletesFileName(id, gen)
	f, err := dir.Open(name)
	if err != nil {
		return nil, fmt.Errorf("segment: read deletes: %w", err)
	}
	defer f.Close()
	payload, ver, err := storage.ReadVerified(f, kindDeletes.kind)
	if err != nil {
		return nil, fmt.Errorf("segment: read deletes: %w", err)
	}
	defer func() {
		if err != nil {
			bm, err = nil, fmt.Errorf("segment: read deletes: %w", err)
		}
	}()
	if ver != FormatVersion {
		return nil, versionError(name, ver)
	}
	if len(payload) < deletesHeader {
		return nil, corrupt(name, "%d-byte payload is too short for its header", len(payload))
	}
	if got := ID(payload[:16]); got != id {
		return nil, corrupt(name, "holds the deletes of segment %s", got)
	}
	if got := binary.LittleEndian.Uint64(payload[16:24]); got != gen {
		return nil, corrupt(name, "holds generation %d", got)
	}
	bm, err = decodeBitmap(name, payload[deletesHeader:])
	if err != nil {
		return nil, err
	}
	if !bm.IsEmpty() && bm.Maximum() >= maxDoc {
		return nil, corrupt(name, "deletes doc %d, but the segment has %d documents", bm.Maximum(), maxDoc)
	}
	return bm, nil
}

// decodeBitmap parses a roaring bitmap that must fill data exactly. The
// library checks much but not all of its input, so a panic on crafted
// data is reported as corruption too.
func decodeBitmap(name string, data []byte) (bm *roaring.Bitmap, err error) {
	defer func() {
		if p := recover(); p != nil {
			bm, err = nil, corrupt(name, "unreadable bitmap: %v", p)
		}
	}()
	bm = roaring.New()
	n, err := bm.ReadFrom(bytes.NewReader(data))
	if err != nil {
		return nil, corrupt(name, "bad bitmap: %v", err)
	}
	if n != int64(len(data)) {
		return nil, corrupt(name, "%d bytes after the bitmap", int64(len(data))-n)
	}
	if err := bm.Validate(); err != nil {
		return nil, corrupt(name, "bad bitmap: %v", err)
	}
	return bm, nil
}

// ParseFileName tells which segment a file belongs to, for orphan cleanup:
// for "<id>.<ext>", a segment file (see SegmentFiles), kind is the
// extension ("tdict", "post", "pos", "norm", "store", "fast" or "meta")
// and gen 0; for "<id>_<gen>.del", kind is DeletesKind and gen the
// generation. Only the exact names this package writes are recognised
// (lowercase id, gen without leading zeros); ok is false for any other
// name, such as metadata.json.
func ParseFileName(name string) (id ID, kind string, gen uint64, ok bool) {
	base, ext, found := strings.Cut(name, ".")
	if !found {
		return ID{}, "", 0, false
	}
	if ext == DeletesKind {
		idPart, genPart, found := strings.Cut(base, "_")
		if !found {
			return ID{}, "", 0, false
		}
		g, err := strconv.ParseUint(genPart, 10, 64)
		if err != nil || strconv.FormatUint(g, 10) != genPart {
			return ID{}, "", 0, false
		}
		id, ok := parseCanonicalID(idPart)
		if !ok {
			return ID{}, "", 0, false
		}
		return id, DeletesKind, g, true
	}
	for _, k := range allKinds {
		if k.ext == ext {
			id, ok := parseCanonicalID(base)
			if !ok {
				return ID{}, "", 0, false
			}
			return id, ext, 0, true
		}
	}
	return ID{}, "", 0, false
}

// parseCanonicalID parses an id exactly as ID.String writes it.
func parseCanonicalID(s string) (ID, bool) {
	id, err := ParseID(s)
	if err != nil || id.String() != s {
		return ID{}, false
	}
	return id, true
}
