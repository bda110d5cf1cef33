package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment/pkindex"
	"github.com/hermes-search/hermes-go/storage"
)

const checkAbout = `Verifies the index: the checksum and content of metadata.json; that every
file a segment lists exists, with the recorded total size; the footer and
checksum of every file; that every segment opens and holds the recorded
number of documents. It exits non-zero if anything is wrong, naming the file
and the problem. Files no commit names (left by an interrupted run) are
listed, not errors.`

func runCheck(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("check", "hermes check --index DIR", checkAbout, io)
	dirPath := fl.String("index", "", "the index `directory`")
	if err := fl.parseIndexCommand(args, dirPath); err != nil {
		return err
	}
	meta, _, err := readIndexMeta(*dirPath)
	if err != nil {
		return err
	}
	dir, err := storage.NewFS(*dirPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "%s: ok (generation %d, %s)\n", storage.MetadataFile, meta.Generation, plural(len(meta.Segments), "segment", "segments"))

	var problems []string
	problem := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		problems = append(problems, msg)
		fmt.Fprintf(io.out, "  CORRUPT %s\n", msg)
	}
	named := map[string]bool{storage.MetadataFile: true}
	var files int
	var bytes int64
	for _, s := range meta.Segments {
		var size int64
		for _, name := range s.Files {
			named[name] = true
			files++
			n, err := dir.FileSize(name)
			if err != nil {
				problem("segment %s: %s: %v", s.ID, name, unwrapPath(err))
			}
			size += n
		}
		bytes += size
		if size != s.Bytes {
			problem("segment %s: its files hold %d bytes, %s records %d", s.ID, size, storage.MetadataFile, s.Bytes)
		}
		for _, name := range s.Files {
			if _, err := verifyFile(dir, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				problem("segment %s: %v", s.ID, err)
			}
		}
	}
	fmt.Fprintf(io.out, "%s of %s checked, %s read\n", plural(files, "file", "files"),
		plural(len(meta.Segments), "segment", "segments"), formatBytes(bytes))
	if len(problems) == 0 {
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

	// The primary-key filter: derived data, rebuilt by a writer when it is
	// missing, but a damaged one is still damage.
	named[pkindex.FileName] = true
	if _, err := pkindex.Load(dir); err == nil {
		fmt.Fprintf(io.out, "%s: ok\n", pkindex.FileName)
	} else if !errors.Is(err, fs.ErrNotExist) {
		problem("%v (delete %s; the next writer rebuilds it)", err, pkindex.FileName)
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
		fmt.Fprintf(io.out, "%s no commit names (left by an interrupted run; a writer removes them when it opens the index): %v\n",
			plural(len(orphans), "file", "files"), orphans)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the index at %s is corrupt: %s; restore it from a backup or re-index the data", *dirPath, plural(len(problems), "problem", "problems"))
	}
	fmt.Fprintf(io.out, "the index at %s is intact\n", *dirPath)
	return nil
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
