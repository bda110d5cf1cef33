package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

func sampleMetadata() *Metadata {
	return &Metadata{
		FormatVersion: 1,
		Generation:    42,
		Schema:        json.RawMessage(`{"fields":[{"name":"title","type":"text"}],"key":"id"}`),
		Segments: []SegmentInfo{
			{ID: "seg_a", NumDocs: 1000, NumDeleted: 3, DelGen: 2, Files: []string{"seg_a.terms", "seg_a.docs"}, Bytes: 123456},
			{ID: "seg_b", NumDocs: 5, Ancestors: []string{"seg_x", "seg_y"}, Files: []string{"seg_b.terms"}, Bytes: 99},
		},
	}
}

// withFiles creates the files m's segments name (if missing), as a commit
// would have, and returns m.
func withFiles(t *testing.T, d Directory, m *Metadata) *Metadata {
	t.Helper()
	for _, seg := range m.Segments {
		for _, f := range seg.Files {
			if _, err := d.FileSize(f); errors.Is(err, fs.ErrNotExist) {
				writeFile(t, d, f, []byte(f))
			}
		}
	}
	return m
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestMetadataRoundTrip(t *testing.T) {
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			d := impl.open(t)
			if _, err := ReadMetadata(d); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("ReadMetadata with no index = %v, want fs.ErrNotExist", err)
			}
			want := withFiles(t, d, sampleMetadata())
			if err := WriteMetadata(d, want); err != nil {
				t.Fatal(err)
			}
			got, err := ReadMetadata(d)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got.Schema, want.Schema) {
				t.Fatalf("Schema = %s, want %s", got.Schema, want.Schema)
			}
			got.Schema, want.Schema = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ReadMetadata = %+v\nwant %+v", got, want)
			}
			// The next commit replaces it.
			next := &Metadata{Generation: 43}
			if err := WriteMetadata(d, next); err != nil {
				t.Fatal(err)
			}
			got, err = ReadMetadata(d)
			if err != nil || got.Generation != 43 || got.FormatVersion != MetadataFormatVersion || len(got.Segments) != 0 {
				t.Fatalf("after second commit: %+v, %v", got, err)
			}
		})
	}
}

// The file is plain JSON, readable without this package.
func TestMetadataIsPlainJSON(t *testing.T) {
	d := NewMem()
	if err := WriteMetadata(d, withFiles(t, d, sampleMetadata())); err != nil {
		t.Fatal(err)
	}
	data, _ := ReadAll(d, MetadataFile)
	var v struct {
		Checksum   string
		Generation uint64
		Segments   []struct{ ID string }
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.Checksum, "xxh64:") || v.Generation != 42 || len(v.Segments) != 2 || v.Segments[1].ID != "seg_b" {
		t.Fatalf("decoded %+v from\n%s", v, data)
	}
}

func TestMetadataCorruption(t *testing.T) {
	d := NewMem()
	if err := WriteMetadata(d, withFiles(t, d, sampleMetadata())); err != nil {
		t.Fatal(err)
	}
	good, _ := ReadAll(d, MetadataFile)
	check := func(what string, data []byte) {
		t.Helper()
		if err := d.WriteAtomic(MetadataFile, data); err != nil {
			t.Fatal(err)
		}
		_, err := ReadMetadata(d)
		wantCorrupt(t, what, err, MetadataFile)
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x01
		check(fmt.Sprintf("flip at %d (%q)", i, good[i]), bad)
	}
	for n := range len(good) {
		check(fmt.Sprintf("truncated to %d", n), good[:n])
	}
	check("empty", nil)
	check("other JSON", []byte(`{"FormatVersion":1}`))
}

// resum rewrites the embedded checksum of a hand-edited metadata.json, as
// the format documents: xxhash64 of the bytes after the 16 hex digits.
func resum(data []byte) []byte {
	off := len(checksumPrefix)
	sum := fmt.Sprintf("%016x", xxhash.Sum64(data[off+16:]))
	return append(append(append([]byte{}, data[:off]...), sum...), data[off+16:]...)
}

func TestMetadataNewerVersionRefused(t *testing.T) {
	d := NewMem()
	if err := WriteMetadata(d, withFiles(t, d, sampleMetadata())); err != nil {
		t.Fatal(err)
	}
	good, _ := ReadAll(d, MetadataFile)
	for what, edit := range map[string]func([]byte) []byte{
		"FormatVersion 2": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"FormatVersion": 1`), []byte(`"FormatVersion": 2`), 1)
		},
		"unknown field": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"Generation"`), []byte(`"Future": true, "Generation"`), 1)
		},
	} {
		edited := resum(edit(good))
		if bytes.Equal(edited, good) {
			t.Fatalf("%s: edit changed nothing", what)
		}
		if err := d.WriteAtomic(MetadataFile, edited); err != nil {
			t.Fatal(err)
		}
		_, err := ReadMetadata(d)
		if err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), MetadataFile) {
			t.Fatalf("%s: ReadMetadata = %v, want a non-corruption error naming %s", what, err, MetadataFile)
		}
	}
	// The resum helper itself agrees with the writer.
	if err := d.WriteAtomic(MetadataFile, resum(good)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMetadata(d); err != nil {
		t.Fatalf("re-summed unedited file: %v", err)
	}
}

func TestMetadataValidation(t *testing.T) {
	tests := []struct {
		edit func(m *Metadata)
		want string // in the error message
	}{
		{func(m *Metadata) { m.Segments[1].ID = "" }, "Segments[1].ID is empty"},
		{func(m *Metadata) { m.Segments[1].ID = "seg_a" }, `Segments[1].ID "seg_a" duplicates Segments[0]`},
		{func(m *Metadata) { m.Segments[0].NumDeleted = 1001 }, "NumDeleted 1001 exceeds NumDocs 1000"},
		{func(m *Metadata) { m.Segments[1].Files = []string{"../etc"} }, `file name "../etc"`},
		{func(m *Metadata) { m.Segments[1].Files = []string{"seg_a.docs"} }, `file "seg_a.docs" also belongs to segment seg_a`},
		{func(m *Metadata) { m.Segments[0].Bytes = -1 }, "negative Bytes"},
		{func(m *Metadata) { m.FormatVersion = 99 }, "FormatVersion 99"},
		{func(m *Metadata) { m.Schema = json.RawMessage(`{"x":`) }, "Schema is not valid JSON"},
	}
	for _, tc := range tests {
		d := NewMem()
		m := sampleMetadata()
		tc.edit(m)
		err := WriteMetadata(d, m)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), MetadataFile) {
			t.Errorf("WriteMetadata = %v, want an error naming %s and saying %q", err, MetadataFile, tc.want)
		}
		if names := mustList(t, d); len(names) != 0 {
			t.Errorf("invalid metadata was written: %q", names)
		}
	}
}

// Committing a segment whose file is missing fails, naming the file.
func TestMetadataMissingFile(t *testing.T) {
	d := NewMem()
	m := withFiles(t, d, sampleMetadata())
	if err := d.Remove("seg_a.docs"); err != nil {
		t.Fatal(err)
	}
	err := WriteMetadata(d, m)
	wantErr(t, "WriteMetadata", err, fs.ErrNotExist, "seg_a.docs")
	if _, err := ReadMetadata(d); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("metadata written despite a missing file: %v", err)
	}
}
