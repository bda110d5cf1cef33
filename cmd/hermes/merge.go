package main

import (
	"context"
	"errors"
)

const mergeAbout = `Merges the index's segments: by the merge policy (tiered, as a writer does
in the background), or with --force into one segment, which makes searches
fastest for an index that no longer changes.`

func runMerge(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("merge", "hermes merge --index DIR [--force]", mergeAbout, io)
	dirPath := fl.String("index", "", "the index `directory`")
	fl.Bool("force", false, "merge every segment into one")
	pos, err := fl.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if err := requireString("index", *dirPath, "./myindex"); err != nil {
		return err
	}
	if _, _, err := readIndexMeta(*dirPath); err != nil {
		return err
	}
	return errors.New("merging is not supported yet by this version of the library; the index stays fully searchable without it")
}
