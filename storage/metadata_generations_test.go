package storage

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
)

func TestGenerationFileNames(t *testing.T) {
	for _, g := range []uint64{1, 9, 10, 18446744073709551615} {
		if got, ok := ParseGenerationFile(GenerationFile(g)); !ok || got != g {
			t.Errorf("ParseGenerationFile(%q) = %d, %v", GenerationFile(g), got, ok)
		}
	}
	for _, name := range []string{"metadata.json", "metadata_.json", "metadata_0.json", "metadata_01.json", "metadata_1.json.tmp", "metadata_x.json", "metadata_99999999999999999999.json"} {
		if g, ok := ParseGenerationFile(name); ok {
			t.Errorf("ParseGenerationFile(%q) = %d, want not a generation file", name, g)
		}
	}
}

// Each WriteMetadata keeps its generation; PruneGenerations keeps the
// newest keep up to the current one and drops newer ones (commits that did
// not complete); FallBack restores a kept one as metadata.json.
func TestKeptGenerationsAndFallBack(t *testing.T) {
	d := NewMem()
	for g := uint64(1); g <= 5; g++ {
		m := sampleMetadata()
		m.Generation = g
		if err := WriteMetadata(d, withFiles(t, d, m)); err != nil {
			t.Fatal(err)
		}
	}
	// An interrupted commit of generation 6 left its generation file.
	m6 := sampleMetadata()
	m6.Generation = 6
	data, err := encodeMetadata(m6)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeGeneration(d, 6, data); err != nil {
		t.Fatal(err)
	}
	kept, err := KeptGenerations(d, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || kept[0].Generation != 4 || kept[1].Generation != 5 {
		t.Fatalf("KeptGenerations(5, 2) = %d generations", len(kept))
	}
	if n, err := PruneGenerations(d, 5, 2); err != nil || n != 4 {
		t.Fatalf("PruneGenerations = %d, %v; want 4 removed (1, 2, 3 and 6)", n, err)
	}
	if gens, _ := Generations(d); !slices.Equal(gens, []uint64{4, 5}) {
		t.Fatalf("generations left %v, want [4 5]", gens)
	}
	if err := d.Remove(MetadataFile); err != nil {
		t.Fatal(err)
	}
	if err := FallBack(d, 3); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("FallBack to a pruned generation = %v, want fs.ErrNotExist", err)
	}
	if err := FallBack(d, 4); err != nil {
		t.Fatal(err)
	}
	if m, err := ReadMetadata(d); err != nil || m.Generation != 4 {
		t.Fatalf("after FallBack(4): %v, %v", m, err)
	}
	// A damaged generation file is named and never restored.
	raw, _ := ReadAll(d, GenerationFile(5))
	raw[len(raw)/2] ^= 1
	if err := d.Remove(GenerationFile(5)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, d, GenerationFile(5), raw)
	var ce *CorruptError
	if err := FallBack(d, 5); !errors.As(err, &ce) || ce.File != GenerationFile(5) {
		t.Fatalf("FallBack to a damaged generation = %v, want a CorruptError naming %s", err, GenerationFile(5))
	}
}

func TestSegmentIDsJournalRoundTrip(t *testing.T) {
	d := NewMem()
	if _, err := ReadSegmentIDs(d); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no journal: %v", err)
	}
	ids := []string{"b", "a", "c"}
	if err := WriteSegmentIDs(d, ids); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSegmentIDs(d)
	if err != nil || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("ReadSegmentIDs = %v, %v", got, err)
	}
	raw, _ := ReadAll(d, SegmentIDsFile)
	raw[0] ^= 1
	if err := d.WriteAtomic(SegmentIDsFile, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSegmentIDs(d); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged journal: %v, want ErrCorrupt", err)
	}
}
