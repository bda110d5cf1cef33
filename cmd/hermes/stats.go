package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/infer"
	"github.com/hermes-search/hermes-go/storage"
)

const statsAbout = `Shows what the last commit of the index holds: documents, segments, sizes
and the schema. It reads metadata.json only, so it is instant and safe while
a writer runs; 'hermes check' verifies the files themselves.`

func runStats(ctx context.Context, args []string, io stdio) error {
	fl := newFlags("stats", "hermes stats --index DIR [--json]", statsAbout, io)
	dirPath := fl.String("index", "", "the index `directory`")
	asJSON := fl.Bool("json", false, "print the statistics as one JSON object")
	if err := fl.parseIndexCommand(args, dirPath); err != nil {
		return err
	}
	meta, schema, err := readIndexMeta(*dirPath)
	if err != nil {
		return err
	}
	st := indexStats{
		Index:      *dirPath,
		Generation: meta.Generation,
		Schema:     json.RawMessage(meta.Schema),
	}
	for _, s := range meta.Segments {
		st.Docs += int64(s.NumDocs - s.NumDeleted)
		st.Deleted += int64(s.NumDeleted)
		st.Bytes += s.Bytes
		st.Segments = append(st.Segments, segmentStats{ID: s.ID, Docs: s.NumDocs - s.NumDeleted, Deleted: s.NumDeleted, Bytes: s.Bytes, Merged: len(s.Ancestors)})
	}
	if *asJSON {
		enc := json.NewEncoder(io.out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	st.print(io.out, schema)
	return nil
}

// indexStats is the output of hermes stats --json.
type indexStats struct {
	Index      string          `json:"index"`
	Generation uint64          `json:"generation"`
	Docs       int64           `json:"docs"`    // live documents
	Deleted    int64           `json:"deleted"` // deleted, not yet merged away
	Bytes      int64           `json:"bytes"`
	Segments   []segmentStats  `json:"segments"`
	Schema     json.RawMessage `json:"schema"`
}

type segmentStats struct {
	ID      string `json:"id"`
	Docs    uint32 `json:"docs"` // live
	Deleted uint32 `json:"deleted"`
	Bytes   int64  `json:"bytes"`
	Merged  int    `json:"merged_from,omitempty"` // how many segments were merged into it
}

func (st *indexStats) print(w io.Writer, schema *segment.Schema) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "index\t%s\n", st.Index)
	fmt.Fprintf(tw, "generation\t%d\n", st.Generation)
	deleted := ""
	if st.Deleted > 0 {
		deleted = fmt.Sprintf(" (and %s deleted, not yet merged away)", formatCount(st.Deleted))
	}
	fmt.Fprintf(tw, "documents\t%s%s\n", formatCount(st.Docs), deleted)
	fmt.Fprintf(tw, "segments\t%d, %s\n", len(st.Segments), formatBytes(st.Bytes))
	fmt.Fprintf(tw, "schema\t%s\n", infer.Describe(schema))
	tw.Flush()
	if len(st.Segments) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "segment\tdocs\tdeleted\tsize\tmerged from\t")
	for _, s := range st.Segments {
		merged := "-"
		if s.Merged > 0 {
			merged = plural(s.Merged, "segment", "segments")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", s.ID, formatCount(int64(s.Docs)), formatCount(int64(s.Deleted)), formatBytes(s.Bytes), merged)
	}
	tw.Flush()
}

// readIndexMeta reads and checks the metadata of the index at path, with
// errors that say what to do.
func readIndexMeta(path string) (*storage.Metadata, *segment.Schema, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("no index at %s: %w", path, unwrapPath(err))
	}
	dir, err := storage.NewFS(path)
	if err != nil {
		return nil, nil, err
	}
	meta, err := storage.ReadMetadata(dir)
	if gens, _ := storage.Generations(dir); err != nil && len(gens) > 0 {
		return nil, nil, fmt.Errorf("the index at %s has no readable %s (%w); 'hermes check --index %s' shows the kept commits it can fall back to",
			path, storage.MetadataFile, err, path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no index at %s (no %s); create one with 'hermes index --index %s --input FILE'", path, storage.MetadataFile, path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the index at %s is unreadable: %w", path, err)
	}
	schema, err := segment.ParseSchema(meta.Schema)
	if err != nil {
		return nil, nil, fmt.Errorf("the index at %s has an unreadable schema: %w", path, err)
	}
	return meta, schema, nil
}

// unwrapPath drops the *fs.PathError wrapper when the path is already in
// the message.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
