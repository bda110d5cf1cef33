package shipping

import (
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// Describe returns what a node tells the writer about a segment it built in
// dir: each file's name, size and xxhash64 (of all its bytes), the meta
// file last. It reads every file once.
func Describe(dir storage.Directory, meta *segment.Meta) (*messages.ShippedSegment, error) {
	seg := &messages.ShippedSegment{Id: meta.ID.String(), NumDocs: meta.NumDocs}
	metaName := meta.ID.String() + ".meta"
	var last *messages.FileDigest
	for _, name := range meta.Files {
		d, err := digest(dir, name)
		if err != nil {
			return nil, fmt.Errorf("shipping: describe segment %s: %w", meta.ID, err)
		}
		seg.Bytes += d.Size
		if name == metaName {
			last = d
			continue
		}
		seg.Files = append(seg.Files, d)
	}
	if last == nil {
		return nil, fmt.Errorf("shipping: describe segment %s: its files do not include %s", meta.ID, metaName)
	}
	seg.Files = append(seg.Files, last)
	return seg, nil
}

func digest(dir storage.Directory, name string) (*messages.FileDigest, error) {
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := xxhash.New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		return nil, err
	}
	if n != f.Size() {
		return nil, &storage.CorruptError{File: name, Reason: fmt.Sprintf("read %d of %d bytes", n, f.Size())}
	}
	return &messages.FileDigest{Name: name, Size: n, Xxhash64: h.Sum64()}, nil
}
