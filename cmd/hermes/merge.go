package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

const mergeAbout = `Merges the index's segments. By default it runs the merge policy (tiered,
as a writer does in the background after each commit) until it has nothing
more to do; with --force it merges every segment into one, which makes
searches fastest for an index that no longer changes. Each merge is
committed on its own: Ctrl-C keeps the merges that finished, and the index
stays searchable throughout.`

func runMerge(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("merge", "hermes merge --index DIR [--force]", mergeAbout, io)
	dirPath := fl.String("index", "", "the index `directory`")
	force := fl.Bool("force", false, "merge every segment into one")
	if err := fl.parseIndexCommand(args, dirPath); err != nil {
		return err
	}
	before, _, err := readIndexMeta(*dirPath)
	if err != nil {
		return err
	}
	dir, err := storage.NewFS(*dirPath)
	if err != nil {
		return err
	}
	start := time.Now()
	w, err := hermes.Open(ctx, dir, hermes.Config{})
	if err != nil {
		if errors.Is(err, storage.ErrLocked) {
			return fmt.Errorf("the index in %s is locked by another writer; wait for it to finish", *dirPath)
		}
		return fmt.Errorf("open the index in %s: %w", *dirPath, err)
	}
	if *force {
		fmt.Fprintf(io.err, "hermes merge: merging %s into one ...\n", plural(len(before.Segments), "segment", "segments"))
		err = w.ForceMerge(ctx)
	} else {
		err = w.WaitForMerges(ctx)
	}
	var st hermes.Stats
	if err == nil {
		st, err = w.Stats(ctx)
	}
	closeErr := w.Close()
	if ctx.Err() != nil {
		fmt.Fprintf(io.err, "hermes merge: interrupted; the merges that finished are committed, the index is intact\n")
		return errInterrupted
	}
	if err != nil {
		return fmt.Errorf("%w; the index is as the last finished merge left it", err)
	}
	if closeErr != nil {
		return fmt.Errorf("close the index: %w", closeErr)
	}
	if !*force && st.Generation == before.Generation {
		fmt.Fprintf(io.out, "the merge policy found nothing to merge among %s (%s, %s); --force merges them into one\n",
			plural(len(st.Segments), "segment", "segments"), plural(st.LiveDocs, "document", "documents"), formatBytes(st.Bytes))
		return nil
	}
	fmt.Fprintf(io.out, "%s -> %s in %.1f s: %s, %s, generation %d\n",
		plural(len(before.Segments), "segment", "segments"), plural(len(st.Segments), "segment", "segments"),
		time.Since(start).Seconds(), plural(st.LiveDocs, "document", "documents"), formatBytes(st.Bytes), st.Generation)
	return nil
}
