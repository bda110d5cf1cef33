package hermes_test

import (
	"context"
	"fmt"
	"log"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// Dynamic mapping: a writer whose schema says "unknown_fields":"dynamic"
// adds the fields of a document that the schema lacks, typed by their
// values, and commits them with the documents.
func ExampleWriter_DecodeJSON() {
	ctx := context.Background()
	schema, err := segment.ParseSchema([]byte(`{"fields":[
		{"name":"id","type":"keyword","indexed":true,"stored":true,"primary":true}],
		"unknown_fields":"dynamic"}`))
	if err != nil {
		log.Fatal(err)
	}
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	for _, line := range []string{
		`{"id":"1","title":"Go in Action","year":2015,"meta":{"draft":false,"at":"2024-05-01T10:00:00Z"}}`,
		`{"id":"2","title":"The Go Programming Language","year":2015,"price":34.5}`,
	} {
		doc, err := w.DecodeJSON([]byte(line)) // grows the schema as needed
		if err != nil {
			log.Fatal(err)
		}
		if err := w.AddDocumentWait(ctx, doc); err != nil {
			log.Fatal(err)
		}
	}
	// A Go document's new field is typed by its value's kind.
	if err := w.AddDocumentWait(ctx, new(hermes.Document).AddString("id", "3").AddI64("pages", 380)); err != nil {
		log.Fatal(err)
	}
	// A field keeps its type: another is refused, and nothing is added.
	err = w.AddDocument(new(hermes.Document).AddString("id", "4").AddString("year", "soon"))
	fmt.Println(err)

	if _, err := w.Commit(ctx); err != nil { // the grown schema is durable with the documents
		log.Fatal(err)
	}
	for _, f := range w.Schema().Fields() {
		fmt.Printf("%s: %v\n", f.Name, f.Type)
	}
	r, err := w.Reader()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	n, err := r.Count(ctx, "title:go AND year:2015 AND meta.draft:false")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "match")
	// Output:
	// field "year": wrong type: got string, schema says i64
	// id: keyword
	// title: text
	// year: i64
	// meta.draft: bool
	// meta.at: date
	// price: f64
	// pages: i64
	// 1 match
}
