package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/query"
	"github.com/hermes-search/hermes-go/storage"
)

// The query language, one construct per line (the README's table): each
// query prints the titles it finds, best first, and an unsupported
// construct is a *query.ParseError naming its byte position.
func Example_queryLanguage() {
	ctx := context.Background()
	schema, err := segment.NewSchema(
		hermes.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		hermes.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
		hermes.Field{Name: "year", Type: segment.TypeU64, Stored: true, Fast: true},
	)
	if err != nil {
		log.Fatal(err)
	}
	// One worker writes one segment, so equal scores keep insertion order.
	w, err := hermes.Create(ctx, storage.NewMem(), schema, hermes.Config{Workers: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	books := []struct {
		title string
		year  uint64
	}{
		{"The Go Programming Language", 2015},
		{"Go in Action", 2016},
		{"Programming Pearls", 1986},
		{"Rust in Action", 2021},
		{"Language Implementation Patterns", 0}, // no year
	}
	for i, b := range books {
		doc := new(hermes.Document).AddString("id", fmt.Sprint("book-", i)).AddString("title", b.title)
		if b.year != 0 {
			doc.AddU64("year", b.year)
		}
		if err := w.AddDocumentWait(ctx, doc); err != nil {
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

	for _, q := range []string{
		`title:action`,               // a term in a field
		`"go language"`,              // a phrase: none is exact
		`"go language"~1`,            // a sloppy phrase: one word between
		`+action -rust`,              // required and excluded
		`go AND (pearls OR action)`,  // operators and groups
		`title:(rust pearls)`,        // a group on one field
		`progr*`,                     // a prefix
		`ac?i*n`,                     // wildcards anywhere
		`*ing`,                       // a leading wildcard
		`/pe.rls?/`,                  // a regular expression
		`programing~1`,               // fuzzy: within one edit
		`acton~`,                     // fuzzy: within two edits
		`language^3 go`,              // a boost
		`year:[2000 TO 2016]`,        // a range
		`year:>2016`,                 // a comparison
		`_exists_:year AND language`, // has a value
		`C++ programming?`,           // pasted punctuation is no error
		`programming~3`,              // refused: at most 2 edits
		`/^go/`,                      // refused: anchors
		`"go language"~1.5`,          // refused: slop is whole
		`year:[2000 TO]`,             // refused: a bound is missing
	} {
		hits, err := r.Search(ctx, q, 10)
		var pe *query.ParseError
		if errors.As(err, &pe) {
			fmt.Printf("%-28s error at byte %d (%s)\n", q, pe.Pos, pe.Construct)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		var titles []string
		for _, h := range hits {
			doc, err := h.Document(ctx, "title")
			if err != nil {
				log.Fatal(err)
			}
			t, _ := doc.Get("title")
			titles = append(titles, t.Str)
		}
		if len(titles) == 0 {
			titles = []string{"(nothing)"}
		}
		fmt.Printf("%-28s %s\n", q, strings.Join(titles, " | "))
	}
	// Output:
	// title:action                 Go in Action | Rust in Action
	// "go language"                (nothing)
	// "go language"~1              The Go Programming Language
	// +action -rust                Go in Action
	// go AND (pearls OR action)    Go in Action
	// title:(rust pearls)          Programming Pearls | Rust in Action
	// progr*                       The Go Programming Language | Programming Pearls
	// ac?i*n                       Go in Action | Rust in Action
	// *ing                         The Go Programming Language | Programming Pearls
	// /pe.rls?/                    Programming Pearls
	// programing~1                 Programming Pearls | The Go Programming Language
	// acton~                       Go in Action | Rust in Action
	// language^3 go                The Go Programming Language | Language Implementation Patterns | Go in Action
	// year:[2000 TO 2016]          The Go Programming Language | Go in Action
	// year:>2016                   Rust in Action
	// _exists_:year AND language   The Go Programming Language
	// C++ programming?             Programming Pearls | The Go Programming Language
	// programming~3                error at byte 11 (fuzzy term)
	// /^go/                        error at byte 0 (regular expression)
	// "go language"~1.5            error at byte 13 (phrase slop)
	// year:[2000 TO]               error at byte 5 (range)
}
