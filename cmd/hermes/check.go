package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

const checkAbout = `Verifies the index: the checksum and content of metadata.json; that every
file a segment lists exists, with the recorded total size; the footer and
checksum of every file, deletes (.del) files included; that every segment
opens and holds the recorded number of documents; and the kept commit
generations (metadata_<gen>.json), which a lost or damaged metadata.json can
fall back to. It exits non-zero if anything is wrong, naming the file and the
problem. It never deletes a file. Files no kept commit names are listed, not
errors.

When metadata.json is missing or damaged, check lists the kept generations
and what falling back to the newest intact one loses; --fall-back does it.`

func runCheck(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("check", "hermes check --index DIR [--fall-back]", checkAbout, io)
	dirPath := fl.String("index", "", "the index `directory`")
	fallBack := fl.Bool("fall-back", false, "if metadata.json is missing or damaged, restore the newest intact kept commit generation (the commits after it are lost)")
	if err := fl.parseIndexCommand(args, dirPath); err != nil {
		return err
	}
	if _, err := os.Stat(*dirPath); err != nil {
		return fmt.Errorf("no index at %s: %w", *dirPath, unwrapPath(err))
	}
	dir, err := storage.NewFS(*dirPath)
	if err != nil {
		return err
	}
	meta, err := storage.ReadMetadata(dir)
	if err != nil {
		if meta, err = recoverMetadata(dir, *dirPath, err, *fallBack, io.out); err != nil {
			return err
		}
	} else if *fallBack {
		fmt.Fprintf(io.out, "%s is intact: nothing to fall back from\n", storage.MetadataFile)
	}
	if _, err := segment.ParseSchema(meta.Schema); err != nil {
		return fmt.Errorf("the index at %s has an unreadable schema: %w", *dirPath, err)
	}
	fmt.Fprintf(io.out, "%s: ok (generation %d, %s, %s)\n", storage.MetadataFile, meta.Generation,
		plural(len(meta.Segments), "segment", "segments"), plural(int(liveDocs(meta)), "document", "documents"))

	var problems []string
	problem := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		problems = append(problems, msg)
		fmt.Fprintf(io.out, "  CORRUPT %s\n", msg)
	}
	named := map[string]bool{storage.MetadataFile: true, storage.SegmentIDsFile: true}
	files, bytes, bad := checkSegments(dir, meta, named, problem)
	fmt.Fprintf(io.out, "%s of %s checked, %s read\n", plural(files, "file", "files"),
		plural(len(meta.Segments), "segment", "segments"), formatBytes(bytes))
	if !bad {
		// Every checksum holds; open the segments as a search does, which
		// checks their structure and that they match the schema.
		r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
		if err != nil {
			problem("opening the index for search: %v", err)
		} else {
			r.Close()
			fmt.Fprintf(io.out, "segments open for search: ok\n")
		}
	}
	checkKeptGenerations(dir, meta, named, problem, io.out)

	// The segment-id journal: the record orphan cleanup goes by.
	if _, err := storage.ReadSegmentIDs(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		problem("%v (a writer rewrites it; until then it leaves orphan files alone)", err)
	}

	// The primary-key filter: derived data, rebuilt by a writer when it is
	// missing, but a damaged one is still damage.
	named[pkindex.FileName] = true
	if _, err := pkindex.Load(dir); err == nil {
		fmt.Fprintf(io.out, "%s: ok\n", pkindex.FileName)
	} else if !errors.Is(err, fs.ErrNotExist) {
		problem("%v (delete %s, a cache of the primary keys; the next writer rebuilds it)", err, pkindex.FileName)
	}

	all, err := dir.List()
	if err != nil {
		return err
	}
	var orphans []string
	for _, name := range all {
		if !named[name] {
			orphans = append(orphans, name)
		}
	}
	sort.Strings(orphans)
	if len(orphans) > 0 {
		fmt.Fprintf(io.out, "%s no kept commit names (left by an interrupted run or an aborted commit; "+
			"a writer removes those of this index when it opens it, and leaves the others): %v\n",
			plural(len(orphans), "file", "files"), orphans)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the index at %s is corrupt: %s; restore it from a backup or re-index the data", *dirPath, plural(len(problems), "problem", "problems"))
	}
	fmt.Fprintf(io.out, "the index at %s is intact\n", *dirPath)
	return nil
}

func liveDocs(m *storage.Metadata) int64 {
	var n int64
	for _, s := range m.Segments {
		n += int64(s.NumDocs) - int64(s.NumDeleted)
	}
	return n
}

// checkSegments verifies the files meta names (segment files and deletes
// files): present, of the recorded total size, footer and checksum intact.
// It adds them to named and reports each problem; bad says whether there
// was one.
func checkSegments(dir storage.Directory, meta *storage.Metadata, named map[string]bool, problem func(string, ...any)) (files int, bytes int64, bad bool) {
	report := func(format string, args ...any) {
		bad = true
		problem(format, args...)
	}
	for _, s := range meta.Segments {
		var size int64
		for _, name := range s.Files {
			named[name] = true
			files++
			n, err := dir.FileSize(name)
			if err != nil {
				report("segment %s: %s: %v", s.ID, name, unwrapPath(err))
			}
			size += n
		}
		bytes += size
		if size != s.Bytes {
			report("segment %s: its files hold %d bytes, %s records %d", s.ID, size, storage.MetadataFile, s.Bytes)
		}
		for _, name := range s.Files {
			if _, err := verifyFile(dir, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				report("segment %s: %v", s.ID, err)
			}
		}
		if name := deletesFile(s); name != "" {
			named[name] = true
			files++
			n, err := verifyFile(dir, name)
			bytes += n
			if err != nil {
				report("segment %s: deletes of generation %d: %v", s.ID, s.DelGen, err)
			}
		}
	}
	return files, bytes, bad
}

// deletesFile names the deletes file of s's current generation, if any.
func deletesFile(s storage.SegmentInfo) string {
	if s.DelGen == 0 {
		return ""
	}
	id, err := segment.ParseID(s.ID)
	if err != nil {
		return ""
	}
	return segment.DeletesFileName(id, s.DelGen)
}

// checkKeptGenerations reports the kept commit generations before meta's:
// each must be intact, with every file it names, so that it can be fallen
// back to. Generation files newer than meta are commits that did not
// complete: listed, not errors.
func checkKeptGenerations(dir storage.Directory, meta *storage.Metadata, named map[string]bool, problem func(string, ...any), out io.Writer) {
	gens, err := storage.Generations(dir)
	if err != nil {
		problem("listing kept generations: %v", err)
		return
	}
	var kept []string
	for _, g := range gens {
		name := storage.GenerationFile(g)
		if g > meta.Generation {
			continue // an interrupted commit's: listed with the orphans
		}
		named[name] = true
		m, err := storage.ReadGeneration(dir, g)
		if err != nil {
			problem("kept generation %d: %v", g, err)
			continue
		}
		if g == meta.Generation {
			kept = append(kept, fmt.Sprintf("%d (current)", g))
			continue
		}
		if _, _, bad := checkSegments(dir, m, named, func(format string, args ...any) {
			problem("kept generation %d: "+format, append([]any{g}, args...)...)
		}); !bad {
			kept = append(kept, fmt.Sprintf("%d (%s)", g, plural(int(liveDocs(m)), "document", "documents")))
		}
	}
	if len(kept) > 0 {
		fmt.Fprintf(out, "kept generations: %v\n", kept)
	}
}

// recoverMetadata handles a missing or damaged metadata.json (readErr): it
// lists the kept generations, and with fallBack restores the newest intact
// one, whose metadata it returns. Without fallBack it says what falling
// back would do and loses, and fails.
func recoverMetadata(dir storage.Directory, path string, readErr error, fallBack bool, out io.Writer) (*storage.Metadata, error) {
	gens, err := storage.Generations(dir)
	if err != nil {
		return nil, err
	}
	if errors.Is(readErr, fs.ErrNotExist) && len(gens) == 0 {
		return nil, fmt.Errorf("no index at %s (no %s and no kept generation); create one with 'hermes index --index %s --input FILE'", path, storage.MetadataFile, path)
	}
	state := "MISSING"
	if !errors.Is(readErr, fs.ErrNotExist) {
		state = fmt.Sprintf("DAMAGED (%v)", readErr)
	}
	fmt.Fprintf(out, "%s: %s\n", storage.MetadataFile, state)

	// Newest first: the first intact one, with every file intact, is the
	// commit to fall back to.
	var best *storage.Metadata
	var newest *storage.Metadata // the newest readable, intact or not
	for i := len(gens) - 1; i >= 0; i-- {
		g := gens[i]
		m, err := storage.ReadGeneration(dir, g)
		if err != nil {
			fmt.Fprintf(out, "  generation %d: DAMAGED: %v\n", g, unwrapPath(err))
			continue
		}
		if newest == nil {
			newest = m
		}
		var damage []string
		checkSegments(dir, m, map[string]bool{}, func(format string, args ...any) {
			damage = append(damage, fmt.Sprintf(format, args...))
		})
		if len(damage) > 0 {
			fmt.Fprintf(out, "  generation %d: %s, DAMAGED: %v\n", g, plural(int(liveDocs(m)), "document", "documents"), damage)
			continue
		}
		fmt.Fprintf(out, "  generation %d: intact, %s in %s\n", g, plural(int(liveDocs(m)), "document", "documents"), plural(len(m.Segments), "segment", "segments"))
		if best == nil {
			best = m
		}
	}
	if best == nil {
		return nil, fmt.Errorf("the index at %s has no readable %s and no intact kept generation to fall back to; restore it from a backup or re-index the data", path, storage.MetadataFile)
	}
	loss := "it is the newest commit written, so no acknowledged commit is lost"
	switch {
	case gens[len(gens)-1] != best.Generation && newest != nil && newest != best:
		loss = fmt.Sprintf("the commits after it are lost: generation %d held %s, %s more",
			newest.Generation, plural(int(liveDocs(newest)), "document", "documents"),
			plural(int(liveDocs(newest)-liveDocs(best)), "document", "documents"))
	case gens[len(gens)-1] != best.Generation:
		loss = fmt.Sprintf("the commits after it (up to generation %d, unreadable) are lost; how many documents they held is unknown", gens[len(gens)-1])
	}
	if !fallBack {
		fmt.Fprintf(out, "'hermes check --index %s --fall-back' restores generation %d (%s); %s\n",
			path, best.Generation, plural(int(liveDocs(best)), "document", "documents"), loss)
		return nil, fmt.Errorf("the index at %s has no readable %s: %w", path, storage.MetadataFile, readErr)
	}
	lock, err := dir.Lock()
	if err != nil {
		if errors.Is(err, storage.ErrLocked) {
			return nil, fmt.Errorf("the index in %s is locked by another writer; stop it before falling back", path)
		}
		return nil, err
	}
	defer lock.Close()
	if err := storage.FallBack(dir, best.Generation); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "fell back to generation %d: %s is restored from %s and holds %s; %s\n",
		best.Generation, storage.MetadataFile, storage.GenerationFile(best.Generation),
		plural(int(liveDocs(best)), "document", "documents"), loss)
	return best, nil
}

// verifyFile checks one checksummed file: its footer (magic, length) and the
// checksum of its content. It returns the file's size.
func verifyFile(dir storage.Directory, name string) (int64, error) {
	f, err := dir.Open(name)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, unwrapPath(err))
	}
	defer f.Close()
	size := f.Size()
	// The footer names the file's kind; Verify checks everything else.
	var kind [4]byte
	if size >= storage.FooterSize {
		if _, err := f.ReadAt(kind[:], size-storage.FooterSize); err != nil && !errors.Is(err, io.EOF) {
			return size, fmt.Errorf("%s: %w", name, err)
		}
	}
	if _, err := storage.Verify(f, kind); err != nil {
		var ce *storage.CorruptError
		if errors.As(err, &ce) {
			return size, fmt.Errorf("%s: %s", ce.File, ce.Reason)
		}
		return size, err
	}
	return size, nil
}
