package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Kept generations. Every commit writes its metadata twice: as the kept
// generation metadata_<gen>.json (a new, immutable file) and as
// metadata.json (replaced atomically), which stays the one truth of what is
// committed. The writer keeps the newest KeepGenerations of them, as Lucene
// keeps segments_N files, and never deletes a file a kept generation names.
// So when metadata.json is lost or damaged, the newest intact kept
// generation is a commit that can still be opened: 'hermes check
// --fall-back' restores it with FallBack.
//
// A generation file newer than metadata.json's generation was left by a
// commit that did not complete: it is no commit, and the writer removes it
// (PruneGenerations) or replaces it when it writes that generation.

// DefaultKeepGenerations is how many commit generations a writer keeps by
// default: the current one and the one before.
const DefaultKeepGenerations = 2

const (
	generationPrefix = "metadata_"
	generationSuffix = ".json"
)

// GenerationFile is the name of generation gen's kept metadata.
func GenerationFile(gen uint64) string {
	return generationPrefix + strconv.FormatUint(gen, 10) + generationSuffix
}

// ParseGenerationFile recognises exactly the names GenerationFile makes.
func ParseGenerationFile(name string) (gen uint64, ok bool) {
	digits, ok := strings.CutPrefix(name, generationPrefix)
	if !ok {
		return 0, false
	}
	if digits, ok = strings.CutSuffix(digits, generationSuffix); !ok || digits == "" || digits[0] == '0' {
		return 0, false
	}
	gen, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return gen, true
}

// writeGeneration writes data as generation gen's kept metadata and fsyncs
// it; its name is durable after the caller's SyncDir. A file of that name
// can only be left by an earlier attempt at the same generation that did
// not commit (generations only increase), so it is replaced.
func writeGeneration(dir Directory, gen uint64, data []byte) error {
	name := GenerationFile(gen)
	if _, err := dir.FileSize(name); err == nil {
		if err := dir.Remove(name); err != nil {
			return err
		}
	}
	f, err := dir.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = dir.Remove(name) // best effort: it is no commit, and the next attempt replaces it
	}
	return err
}

// ReadGeneration reads and verifies generation gen's kept metadata. Errors
// name the file, as ReadMetadata's do.
func ReadGeneration(dir Directory, gen uint64) (*Metadata, error) {
	name := GenerationFile(gen)
	data, err := ReadAll(dir, name)
	if err != nil {
		return nil, err
	}
	m, err := decodeMetadata(name, data)
	if err != nil {
		return nil, err
	}
	if m.Generation != gen {
		return nil, corruptf(name, "holds generation %d", m.Generation)
	}
	return m, nil
}

// Generations lists the generations whose kept metadata is in dir,
// ascending.
func Generations(dir Directory) ([]uint64, error) {
	names, err := dir.List()
	if err != nil {
		return nil, err
	}
	var gens []uint64
	for _, name := range names {
		if g, ok := ParseGenerationFile(name); ok {
			gens = append(gens, g)
		}
	}
	slices.Sort(gens)
	return gens, nil
}

// KeptGenerations reads the intact kept generations of the newest keep up
// to current (current included), oldest first. A kept generation that is
// missing or damaged is left out: it can protect nothing.
func KeptGenerations(dir Directory, current uint64, keep int) ([]*Metadata, error) {
	gens, err := Generations(dir)
	if err != nil {
		return nil, err
	}
	var out []*Metadata
	for _, g := range gens {
		if g > current || current-g >= uint64(max(keep, 1)) {
			continue
		}
		if m, err := ReadGeneration(dir, g); err == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// PruneGenerations removes the kept metadata of generations that are no
// longer kept (older than the newest keep up to current) and of those newer
// than current (commits that did not complete), and returns how many files
// it removed. current must be metadata.json's generation.
func PruneGenerations(dir Directory, current uint64, keep int) (int, error) {
	gens, err := Generations(dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, g := range gens {
		if g <= current && current-g < uint64(max(keep, 1)) {
			continue
		}
		if err := dir.Remove(GenerationFile(g)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// FallBack makes kept generation gen the committed state again: it
// verifies metadata_<gen>.json and writes its bytes as metadata.json
// through WriteAtomic. The caller must hold the directory's writer lock. It
// is for recovery when metadata.json is lost or damaged; the commits after
// gen are lost.
func FallBack(dir Directory, gen uint64) error {
	name := GenerationFile(gen)
	data, err := ReadAll(dir, name)
	if err == nil {
		var m *Metadata
		if m, err = decodeMetadata(name, data); err == nil && m.Generation != gen {
			err = corruptf(name, "holds generation %d", m.Generation)
		}
	}
	if err != nil {
		return fmt.Errorf("storage: fall back to generation %d: %w", gen, err)
	}
	return dir.WriteAtomic(MetadataFile, data)
}
