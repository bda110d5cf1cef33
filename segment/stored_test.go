package segment

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hermes-search/hermes-go/storage"
)

// The segment in testdata/store-v2 was written by the build before the
// stored-field codecs (main at 3b98d1a), from storeV2Docs with
// corpusSchema: its store file is format version 2, zstd frames and no
// header. segment.json holds the Meta its Build returned.
const storeV2Path = "testdata/store-v2"

func storeV2Docs(t testing.TB) []*Document {
	return append(corpusDocs(readRealmix(t, "testdata/realmix-head.jsonl.gz", 12), 5), generatedDocs(12, 6)...)
}

// openStoreV2 copies the version 2 segment into a memory directory (so
// that tests may write next to it) and returns the directory and its Meta.
func openStoreV2(t *testing.T) (storage.Directory, *Meta) {
	t.Helper()
	var meta Meta
	data, err := os.ReadFile(filepath.Join(storeV2Path, "segment.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	dir := storage.NewMem()
	for _, name := range SegmentFiles(meta.ID) {
		data, err := os.ReadFile(filepath.Join(storeV2Path, name))
		if err != nil {
			t.Fatal(err)
		}
		copyFile(t, dir, name, data)
	}
	return dir, &meta
}

// TestReadStoreVersion2 opens the segment an earlier build wrote: every
// document, term and column reads back as written, and the checksums hold.
func TestReadStoreVersion2(t *testing.T) {
	s := corpusSchema(t)
	dir, meta := openStoreV2(t)
	r, err := Open(dir, meta.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.CheckIntegrity(); err != nil {
		t.Fatal(err)
	}
	if n := len(r.core.store.first); n < 2 {
		t.Fatalf("the golden store has %d blocks, want several", n)
	}
	checkSegment(t, s, dir, r, meta, storeV2Docs(t))
}
