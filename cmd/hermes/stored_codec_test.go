package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// A --schema that differs from the index's only in "stored_compression"
// changes the codec of the segments written from then on (as
// hermes.ExtendSchema does), instead of being silently ignored.
func TestIndexSchemaChangesStoredCompression(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	schema := func(extra string) string {
		path := filepath.Join(t.TempDir(), "schema.json")
		if err := os.WriteFile(path, []byte(`{"fields":[
			{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true},
			{"name":"title","type":"text","indexed":true,"stored":true}]`+extra+`}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// codecs returns the index's codec and the codec byte of each
	// segment's store.
	codecs := func() (segment.StoredCompression, []byte) {
		t.Helper()
		fsys, err := storage.NewFS(dir)
		if err != nil {
			t.Fatal(err)
		}
		meta, err := storage.ReadMetadata(fsys)
		if err != nil {
			t.Fatal(err)
		}
		s, err := segment.ParseSchema(meta.Schema)
		if err != nil {
			t.Fatal(err)
		}
		var stores []byte
		for _, seg := range meta.Segments {
			data, err := storage.ReadAll(fsys, seg.ID+".store")
			if err != nil {
				t.Fatal(err)
			}
			stores = append(stores, data[0])
		}
		return s.StoredCompression(), stores
	}
	if r := runHermes(t, "", "index", "--index", dir, "--schema", schema(""), "--input", writeFile(t, []string{`{"id":"1","title":"a"}`})); r.code != 0 {
		t.Fatalf("first run: %v", r)
	}
	r := runHermes(t, "", "index", "--index", dir, "--schema", schema(`,"stored_compression":"zstd"`), "--input", writeFile(t, []string{`{"id":"2","title":"b"}`}))
	if r.code != 0 || !strings.Contains(r.stderr, "compress their stored fields with zstd") {
		t.Fatalf("run with zstd: %v", r)
	}
	c, stores := codecs()
	if c != segment.StoredZstd || !strings.Contains(string(stores), string([]byte{byte(segment.StoredZstd)})) {
		t.Fatalf("after a run with a zstd --schema: the index's codec %v, its stores' %v; want zstd for the new segment (%v)", c, stores, r)
	}
}

// The same for a dynamic schema into the index it grew: the run's
// "stored_compression" applies to the index's grown schema, whose added
// fields stay.
func TestIndexDynamicSchemaChangesStoredCompression(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	schema := func(extra string) string {
		path := filepath.Join(t.TempDir(), "schema.json")
		if err := os.WriteFile(path, []byte(`{"fields":[
			{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true}],"unknown_fields":"dynamic"`+extra+`}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if r := runHermes(t, "", "index", "--index", dir, "--schema", schema(""), "--input", writeFile(t, []string{`{"id":"1","title":"a"}`})); r.code != 0 {
		t.Fatalf("first run: %v", r)
	}
	r := runHermes(t, "", "index", "--index", dir, "--schema", schema(`,"stored_compression":"zstd"`), "--input", writeFile(t, []string{`{"id":"2","title":"b"}`}))
	if r.code != 0 {
		t.Fatalf("run with zstd: %v", r)
	}
	_, s, err := readIndexMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Field("title"); !ok || s.StoredCompression() != segment.StoredZstd {
		t.Fatalf("after a run with a zstd --schema: fields %v, codec %v; want title kept and zstd (%v)", s.Fields(), s.StoredCompression(), r)
	}
}
