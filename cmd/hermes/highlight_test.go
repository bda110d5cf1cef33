package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// The text output marks what the query matched as the field was analysed:
// a stemmed word in another form, and a phrase's words only where they
// stand together.
func TestPrintTextHighlights(t *testing.T) {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "text", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "en"},
	)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	body := "Civil rights were won. The war was civil,\n and rights came later. " + strings.Repeat("Filler words here. ", 20) + "The end."
	if err := w.AddDocumentWait(ctx, new(hermes.Document).AddString("id", "a").AddString("text", body)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := w.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	parsed, err := r.ParseQuery(`"civil right" wars`)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := r.SearchQuery(ctx, parsed, 10)
	if err != nil {
		t.Fatal(err)
	}
	p := hitPrinter{schema: schema, fields: []string{"text"}, color: true, reader: r, parsed: parsed}
	docs, err := p.documents(ctx, hits)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p.printText(&buf, hits, docs)
	b := func(s string) string { return "\x1b[1m" + s + "\x1b[0m" }
	want := "    text: " + b("Civil") + " " + b("rights") + " were won. The " + b("war") + " was civil, and rights came later. Filler"
	if got := buf.String(); !strings.Contains(got, want) || !strings.HasSuffix(got, "…\n") {
		t.Errorf("got\n%q\nwant it to contain\n%q\nand to end with an ellipsis", got, want)
	}
}
