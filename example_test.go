package hermes_test

import (
	"context"
	"fmt"
	"log"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// The library in five steps: a schema, a writer, documents, a commit, a
// search.
func Example() {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
		hermes.Field{Name: "year", Type: segment.TypeU64, Stored: true, Fast: true},
	)
	if err != nil {
		log.Fatal(err)
	}
	dir := storage.NewMem() // or storage.NewFS("/var/lib/myindex")
	w, err := hermes.Create(ctx, dir, schema, hermes.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	for i, title := range []string{"The Go Programming Language", "Go in Action", "Programming Pearls"} {
		doc := new(hermes.Document).
			AddString("id", fmt.Sprint("book-", i)).
			AddString("title", title).
			AddU64("year", uint64(1986+13*i))
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			log.Fatal(err)
		}
	}
	res, err := w.Commit(ctx) // durable and visible once this returns
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("committed", res.Docs, "documents")

	r, err := w.Reader()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	hits, err := r.Search(ctx, `"go programming" OR pearls`, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		doc, err := h.Document(ctx, "title") // only the fields asked for are read
		if err != nil {
			log.Fatal(err)
		}
		title, _ := doc.Get("title")
		fmt.Println(title.Str)
	}
	// BM25: "pearls" is in one title of three, rarer than "go" and
	// "programming", so its match ranks first.
	// Output:
	// committed 3 documents
	// Programming Pearls
	// The Go Programming Language
}

// PrepareCommit and Commit split a commit in two phases, so a service can
// make the index's commit part of its own.
func ExampleWriter_PrepareCommit() {
	ctx := context.Background()
	schema, _ := segment.NewSchema(hermes.Field{Name: "body", Type: segment.TypeText, Indexed: true, Stored: true})
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	_ = w.AddDocument(new(hermes.Document).AddString("body", "first"))

	prepared, err := w.PrepareCommit(ctx) // durable on disk, not yet visible
	if err != nil {
		log.Fatal(err)
	}
	if serviceCommitSucceeded := true; serviceCommitSucceeded {
		res, err := prepared.Commit(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("generation", res.Generation, "documents", res.Docs)
	} else {
		_ = prepared.Abort()
	}
	// Output:
	// generation 2 documents 1
}
