package hermes_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// Highlighting the hits of a search on a stemmed field: the query words
// are analysed as the field was, so "runs" marks "running" and "Runners"
// is not marked, and the phrase marks only "quick fox" together.
func ExampleReader_Highlight() {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "en"},
	)
	if err != nil {
		log.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{Workers: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	for i, body := range []string{
		"The quick fox was running. Runners saw a fox that was quick.",
		"A slow dog.",
	} {
		if err := w.AddDocumentWait(ctx, new(hermes.Document).AddString("id", fmt.Sprint(i)).AddString("body", body)); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		log.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	q, err := r.ParseQuery(`runs "quick foxes"`)
	if err != nil {
		log.Fatal(err)
	}
	hits, err := r.SearchQuery(ctx, q, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		doc, err := h.Document(ctx, "body")
		if err != nil {
			log.Fatal(err)
		}
		frags, err := r.Highlight(q, "body", doc.Values[0].Str, query.HighlightOptions{})
		if err != nil {
			log.Fatal(err)
		}
		for _, f := range frags {
			var sb strings.Builder
			last := 0
			for _, m := range f.Matches {
				sb.WriteString(f.Text[last:m.Start] + "<b>" + f.Text[m.Start:m.End] + "</b>")
				last = m.End
			}
			fmt.Println(sb.String() + f.Text[last:])
		}
	}
	// Output:
	// The <b>quick</b> <b>fox</b> was <b>running</b>. Runners saw a fox that was quick.
}
