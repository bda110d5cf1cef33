package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/segment/analysis"
)

// stopTokenizer is the simple tokenizer minus a few English stop words,
// leaving position gaps as the analysis package's stop filter does.
var stopTokenizer = analysis.TokenizerFunc(func(text string, emit func(analysis.Token)) {
	analysis.SimpleTokenizer{}.Tokenize(text, func(t analysis.Token) {
		switch string(t.Term) {
		case "the", "a", "of", "and", "or":
			return
		}
		emit(t)
	})
})

func parserSchema(t testing.TB) *segment.Schema {
	t.Helper()
	s, err := segment.NewSchema(
		segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "title", Type: segment.TypeText, Indexed: true, Stored: true, Positions: true},
		segment.Field{Name: "body", Type: segment.TypeText, Indexed: true},
		segment.Field{Name: "tag", Type: segment.TypeKeyword, Indexed: true},
		segment.Field{Name: "year", Type: segment.TypeU64, Fast: true, Stored: true},
		segment.Field{Name: "price", Type: segment.TypeF64, Fast: true},
		segment.Field{Name: "code", Type: segment.TypeI64, Indexed: true},
		segment.Field{Name: "blob", Type: segment.TypeBytes, Stored: true},
		segment.Field{Name: "note", Type: segment.TypeText, Stored: true},
		segment.Field{Name: "created", Type: segment.TypeDate, Fast: true, Stored: true},
		segment.Field{Name: "draft", Type: segment.TypeBool, Indexed: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var parserTokenizers = map[string]analysis.Tokenizer{
	"title": stopTokenizer,
	"body":  stopTokenizer,
}

func TestParse(t *testing.T) {
	s := parserSchema(t)
	tests := []struct {
		in       string
		defaults []string
		want     string
	}{
		// Words, default operator OR, flattened over default fields.
		{"foo", []string{"title"}, "title:foo"},
		{"Foo BAR", []string{"title"}, "title:foo title:bar"},
		{"foo bar", []string{"title", "body"}, "title:foo body:foo title:bar body:bar"},
		{"", []string{"title"}, ""},
		{"   ", []string{"title"}, ""},
		// Only upper-case operators are operators.
		{"cats and dogs or mice", []string{"title"}, "title:cats title:dogs title:mice"},
		{"cat AND dog", []string{"title"}, "+title:cat +title:dog"},
		{"cat && dog", []string{"title"}, "+title:cat +title:dog"},
		{"cat OR dog", []string{"title"}, "title:cat title:dog"},
		{"cat AND dog OR fish", []string{"title"}, "+title:cat +title:dog title:fish"},
		{"cat NOT dog", []string{"title"}, "title:cat -title:dog"},
		{"NOT dog", []string{"title"}, "-title:dog"},
		{"cat AND NOT dog", []string{"title"}, "+title:cat -title:dog"},
		{"(a1 OR b1) NOT c1", []string{"title"}, "title:a1 title:b1 -title:c1"},
		{"+(a1 b1) c1", []string{"title"}, "+(title:a1 title:b1) title:c1"},
		{"-(a1 b1) c1", []string{"title"}, "title:c1 -title:a1 -title:b1"},
		{"foo -bar +baz", []string{"title"}, "+title:baz title:foo -title:bar"},
		{"+foo", []string{"title", "body"}, "title:foo body:foo"},
		{"+foo +bar", []string{"title", "body"}, "+(title:foo body:foo) +(title:bar body:bar)"},
		// The brief's example.
		{`title:foo AND "exact phrase" -bar +baz`, []string{"title"},
			`+title:foo +title:"exact phrase" +title:baz -title:bar`},
		// Fields, phrases, prefixes.
		{"body:foo", []string{"title"}, "body:foo"},
		{`title:"Hello World"`, []string{"body"}, `title:"hello world"`},
		{`title:"hello"`, []string{"body"}, `title:hello`},
		{`title:"the cat of the house"`, []string{"body"}, `title:"cat ? ? house"`},
		{`title:(foo bar)`, []string{"body"}, "title:foo title:bar"},
		{`title:(foo body:bar)`, []string{"title"}, "title:foo body:bar"},
		{"prefix*", []string{"title"}, "title:prefix*"},
		{"Pre*", []string{"title", "tag"}, "title:pre* tag:Pre*"},
		{`tag:New\ York`, []string{"title"}, `tag:"New York"`},
		{`tag:"New York"`, []string{"title"}, `tag:"New York"`},
		{"*:*", []string{"title"}, "*:*"},
		{"*", []string{"title"}, "*:*"},
		// A word analysing into several tokens: a phrase with positions,
		// an OR without.
		{"wi-fi", []string{"title"}, `title:"wi fi"`},
		{"wi-fi", []string{"body"}, "body:wi body:fi"},
		// Stop words vanish.
		{"the", []string{"title"}, ""},
		{"the cat", []string{"title"}, "title:cat"},
		{"+the cat", []string{"title"}, "title:cat"},
		// Ranges and numbers.
		{"year:[1990 TO 2000]", []string{"title"}, "year:[1990 TO 2000]"},
		// Dates become epoch milliseconds; a bare day as a term is its whole day.
		{"created:[2024-01-01 TO 2025-01-01}", []string{"title"}, "created:[1704067200000 TO 1735689600000}"},
		{"created:>=2024-01-01T01:00:00+01:00", []string{"title"}, "created:[1704067200000 TO *}"},
		{`created:"2024-01-01T00:00:00.001Z"`, []string{"title"}, "created:[1704067200001 TO 1704067200001]"},
		{"created:2024-01-01", []string{"title"}, "created:[1704067200000 TO 1704153600000}"},
		{"created:1704067200000", []string{"title"}, "created:[1704067200000 TO 1704067200000]"},
		{`created:<"2024-01-01T00:00:00Z" year:>="1990"`, []string{"title"}, "created:{* TO 1704067200000} year:[1990 TO *}"},
		{"draft:true -draft:False", []string{"title"}, "draft:[1 TO 1] -draft:[0 TO 0]"},
		{"foo", []string{"title", "created", "draft"}, "title:foo"},
		{"year:{1990 TO 2000]", []string{"title"}, "year:{1990 TO 2000]"},
		{"year:[1990 TO *}", []string{"title"}, "year:[1990 TO *}"},
		{"year:[1990 to 2000}", []string{"title"}, "year:[1990 TO 2000}"},
		{"year:>=1990", []string{"title"}, "year:[1990 TO *}"},
		{"year:>1990", []string{"title"}, "year:{1990 TO *}"},
		{"year:<2000", []string{"title"}, "year:{* TO 2000}"},
		{"year:<=2000", []string{"title"}, "year:{* TO 2000]"},
		{"year:1999", []string{"title"}, "year:[1999 TO 1999]"},
		{"price:[0.5 TO 9.99]", []string{"title"}, "price:[0.5 TO 9.99]"},
		{"code:-7", []string{"title"}, "code:[-7 TO -7]"},
		{"code:[-7 TO 7}", []string{"title"}, "code:[-7 TO 7}"},
		{"price:1.0", []string{"title"}, "price:[1.0 TO 1.0]"},
		// Fuzzy terms: analysed, then expanded at search time.
		{"Word~1", []string{"title"}, "title:word~1"},
		{"word~", []string{"title"}, "title:word~2"},
		{"word~0", []string{"title", "tag"}, "title:word~0 tag:word~0"},
		{"wi-fi~1", []string{"title"}, "title:wi~1 title:fi~1"},
		{`tag:New\ York~2`, []string{"title"}, `tag:New\ York~2`},
		{"word~1^2", []string{"title"}, "title:word~1^2"},
		{"word^2~1", []string{"title"}, "title:word~1^2"},
		{"x~y", []string{"title"}, `title:"x y"`},
		{"~5 minutes", []string{"title"}, "title:5 title:minutes"},
		// Wildcards anywhere; a trailing '?' alone is a question mark.
		{"w*d", []string{"title"}, "title:w*d"},
		{"Wo?d", []string{"title", "tag"}, "title:wo?d tag:Wo?d"},
		{"*ing", []string{"title"}, "title:*ing"},
		{"te?t?", []string{"title"}, "title:te?t?"},
		{"why??", []string{"title"}, "title:why"},
		{`a\*b*`, []string{"tag"}, `tag:a\*b*`},
		{`a\*b?c`, []string{"tag"}, `tag:a\*b?c`},
		{"title:*", []string{"body"}, "_exists_:title"},
		{"w*d^3", []string{"title"}, "title:w*d^3"},
		// Regular expressions.
		{"/wo.d/", []string{"title"}, "title:/wo.d/"},
		{"tag:/a\\/b[0-9]+/", []string{"title"}, "tag:/a\\/b[0-9]+/"},
		{"/wo.d/^2", []string{"title"}, "title:/wo.d/^2"},
		{"/usr/bin", []string{"title"}, `title:"usr bin"`},
		// Boosts on terms, phrases, groups and ranges.
		{"title:go^2", []string{"body"}, "title:go^2"},
		{"go^2 rust", []string{"title", "body"}, "(title:go body:go)^2 title:rust body:rust"},
		{`"exact phrase"^0.5`, []string{"title"}, `title:"exact phrase"^0.5`},
		{"(a1 b1)^3 c1", []string{"title"}, "(title:a1 title:b1)^3 title:c1"},
		{"year:[1 TO 2]^2", []string{"title"}, "year:[1 TO 2]^2"},
		{"foo^", []string{"title"}, "title:foo"},
		{"x^y", []string{"title"}, `title:"x y"`},
		// Phrase slop.
		{`title:"statically typed"~2`, []string{"body"}, `title:"statically typed"~2`},
		{`"a1 b1"~1^2`, []string{"title"}, `title:"a1 b1"~1^2`},
		{`"a1 b1"~x`, []string{"title"}, `title:"a1 b1" title:x`},
		{`"one"~3`, []string{"title"}, "title:one"},
		{`"a1 b1 a1"~2`, []string{"title"}, `title:"a1 b1 a1"~2`}, // a sloppy phrase may repeat a term
		{`title:"cat ? house"`, []string{"body"}, `title:"cat ? house"`},
		// Exists and '!'.
		{"_exists_:year", []string{"title"}, "_exists_:year"},
		{"_exists_:tag^2", []string{"title"}, "_exists_:tag^2"},
		{"cat !dog", []string{"title"}, "title:cat -title:dog"},
		{"wow!", []string{"title"}, "title:wow"},
		// Pasted punctuation degrades to words.
		{"C++", []string{"title"}, "title:c"},
		{"what?", []string{"title"}, "title:what"},
		{"foo:", []string{"title"}, "title:foo"},
		{"Note: buy milk", []string{"title"}, "title:note title:buy title:milk"},
		{`"unbalanced quote`, []string{"title"}, "title:unbalanced title:quote"},
		{`"`, []string{"title"}, ""},
		{":", []string{"title"}, ""},
		{"-", []string{"title"}, ""},
		{"[", []string{"title"}, ""},
		{"foo AND", []string{"title"}, "title:foo"},
		{"AND foo", []string{"title"}, "title:foo"},
		{"(foo bar", []string{"title"}, "title:foo title:bar"},
		{"foo) bar", []string{"title"}, "title:foo title:bar"},
		{"()", []string{"title"}, ""},
		{"see http://example.com/x", []string{"title"}, `title:see title:"http example.com x"`},
		{`a\:b`, []string{"tag"}, `tag:"a:b"`},
		{"year:1990 cats", []string{"title", "year"}, "year:[1990 TO 1990] title:cats"},
		// A range without a field runs on the numeric default fields.
		{"[1990 TO 2000} cats", []string{"title", "year"}, "year:[1990 TO 2000} title:cats"},
		{"{1 TO *]^2", []string{"title", "year", "code"}, "(year:{1 TO *] code:{1 TO *])^2"},
		// Brackets that are no range are punctuation.
		{"see [1] and [citation needed]", []string{"title"}, "title:see title:1 title:citation title:needed"},
	}
	for _, tc := range tests {
		q, err := Parse(tc.in, s, tc.defaults, parserTokenizers)
		if err != nil {
			t.Errorf("Parse(%q, %v): %v", tc.in, tc.defaults, err)
			continue
		}
		if got := q.String(); got != tc.want {
			t.Errorf("Parse(%q, %v) = %s, want %s", tc.in, tc.defaults, got, tc.want)
		}
	}
}

func TestParseStructure(t *testing.T) {
	// String hides Go types: check a few structures exactly.
	s := parserSchema(t)
	q, err := Parse("year:[1990 TO 2000}", s, []string{"title"}, parserTokenizers)
	if err != nil {
		t.Fatal(err)
	}
	want := Range{Field: "year", Min: 1990, Max: 2000, MinInclusive: true}
	if q != want {
		t.Errorf("got %#v, want %#v", q, want)
	}
	q, err = Parse(`title:"the cat of the house"`, s, nil, parserTokenizers)
	if err != nil {
		t.Fatal(err)
	}
	ph, ok := q.(Phrase)
	if !ok || strings.Join(ph.Terms, ",") != "cat,house" || len(ph.Positions) != 2 || ph.Positions[1] != 3 {
		t.Errorf("got %#v, want the phrase cat(0) house(3)", q)
	}
}

func TestParseErrors(t *testing.T) {
	s := parserSchema(t)
	tests := []struct {
		in, field string
	}{
		{"nosuch:foo", `"nosuch"`},
		{"year:[a TO b]", `"year"`},
		{"title:[1 TO 2]", `"title"`},
		{"title:>5", `"title"`},
		{`body:"two words"`, `"body"`},
		{"year:abc", `"year"`},
		{"note:foo", `"note"`},
		{"blob:foo", `"blob"`},
		{"year:19*", `"year"`},
		{"year:[1 2 3]", `"year"`},
		{"year:foo~1", `"year"`},
		{"year:f*o", `"year"`},
		{"year:/1.*/", `"year"`},
		{"note:fo*o", `"note"`},
		{"_exists_:nosuch", `"nosuch"`},
		{"_exists_:note", `"note"`},
	}
	for _, tc := range tests {
		q, err := Parse(tc.in, s, []string{"title"}, parserTokenizers)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error", tc.in, q)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Parse(%q) error %q does not name field %s", tc.in, err, tc.field)
		}
	}
	if _, err := Parse("foo", s, []string{"nosuch"}, nil); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("unknown default field: got %v", err)
	}
	if _, err := Parse(`"two words"`, s, []string{"body"}, parserTokenizers); err == nil || !strings.Contains(err.Error(), `"body"`) {
		t.Errorf("phrase on default field without positions: got %v", err)
	}
}

func TestParseErrorPositions(t *testing.T) {
	s := parserSchema(t)
	tests := []struct {
		in        string
		pos       int
		construct string
	}{
		{"foo nosuch:bar", 4, "field"},
		{"word~3", 4, "fuzzy term"},
		{"a word~0.5", 6, "fuzzy term"},
		{"wo*d~1", 0, "fuzzy term"},
		{"a /[a-z/", 2, "regular expression"},
		{"/^abc/", 0, "regular expression"},
		{"/ab$/", 0, "regular expression"},
		{`/\bab/`, 0, "regular expression"},
		{"/a+?/", 0, "regular expression"},
		{"go^1.2.3", 2, "boost"},
		{`"a b"^1.2.3`, 5, "boost"},
		{`x "a b"~1.5`, 7, "phrase slop"},
		{`"a b"~99999999999`, 5, "phrase slop"},
		{"x year:[a TO 2]", 7, "range"},
		{"x title:[1 TO 2]", 8, "range"},
		{"x year:f*", 7, "prefix"},
		{"x year:f?o", 7, "wildcard"},
		{"x year:foo~", 7, "fuzzy term"},
		{"x year:/a/", 7, "regular expression"},
		{"x created:[2024-13-01 TO *]", 10, "range"},
		{"x created:yesterday", 10, "term"},
		{"x created:now-7x", 10, "term"},
		{"x created:2024*", 10, "prefix"},
		{"x draft:maybe", 8, "term"},
		{`x created:>"2024`, 10, "range"},
		{`x year:>""`, 7, "range"},
		{`x body:"two words"`, 7, "phrase"},
		{"_exists_:nosuch", 9, "field"},
		// _exists_ takes one field name, not a group or a phrase.
		{"x _exists_:(year tag)", 11, "field"},
		{`_exists_:"year"`, 9, "field"},
		// Slop belongs to phrases: on a group or a range it is refused, not
		// read as a word.
		{"x (a1 b1)~2", 9, "phrase slop"},
		{"(a1 b1)^2~2", 9, "phrase slop"},
		{"x year:[1 TO 2]~1", 15, "phrase slop"},
		// A boost, slop or fuzzy suffix is given once.
		{"x go^2^3", 6, "boost"},
		{"x go~1~2", 6, "fuzzy term"},
		{"go~1^2~1", 6, "fuzzy term"},
		{`x "a1 b1"^2^3`, 11, "boost"},
		{`"a1 b1"~1~2`, 9, "phrase slop"},
		{"(a1 b1)^2^3", 9, "boost"},
		{"x year:[1 TO 2]^2^3", 17, "boost"},
		// A range without a field needs a numeric default field.
		{"x [1 TO 2]", 2, "range"},
		// A range names both bounds with TO, and is closed.
		{"x year:[1 TO]", 7, "range"},
		{"x year:[1 5]", 7, "range"},
		{"x year:[TO 5]", 7, "range"},
		{"x year:[]", 7, "range"},
		{"x year:[1 TO 5", 7, "range"},
		{"year:{1 TO 5 cats", 5, "range"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.in, s, []string{"title"}, parserTokenizers)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", tc.in, err)
			continue
		}
		if pe.Pos != tc.pos || pe.Construct != tc.construct {
			t.Errorf("Parse(%q) error at %d naming %q (%v), want at %d naming %q", tc.in, pe.Pos, pe.Construct, err, tc.pos, tc.construct)
		}
	}
}

// TestParseRoundTrip checks that each accepted query reads back from its
// printed form as the same query.
func TestParseRoundTrip(t *testing.T) {
	s := parserSchema(t)
	for _, in := range roundTripSeeds {
		checkRoundTrip(t, s, in)
	}
}

var roundTripSeeds = []string{
	`title:foo AND "exact phrase" -bar +baz`, `(a OR b) NOT c`, `year:[1990 TO 2000]`, `year:{1990 TO 2000]`,
	`year:>=1990`, `prefix*`, `C++`, `what?`, `foo:`, `"`, `:`, `-`, `[`, `AND`, `a\`, `*:*`, `((`, `))`,
	`tag:"x\"y"`, `price:<-1e308`, `code:9223372036854775808`, "\xff\xfe", `title:(a title:(b`,
	`word~1`, `w*d`, `wo?d`, `/wo.d/`, `title:go^2`, `go^2 rust`, `"statically typed"~2`, `_exists_:year`,
	`tag:a\*b*`, `tag:"a ? b"`, `title:"the cat ? house"~3^2`, `(a (b c)^2)^3`, `*^2`, `*:*^0.5`, `tag:\"`,
	`tag:/a\/b/`, `tag:[x`, `tag:"[x"`, `code:-7`, `price:1.0`, `tag:"what?"`, `-(+a)`, "tag:\x00\x01",
	`tag:"a\\"`, `tag:a\ b~1`, "//", "0!0", `tag:\/x`, `title:"? a"`, `tag:x* tag:*`, `tag:é~1`,
}

func checkRoundTrip(t *testing.T, s *segment.Schema, in string) {
	t.Helper()
	defaults := []string{"title", "body", "tag"}
	q, err := Parse(in, s, defaults, parserTokenizers)
	if err != nil {
		return
	}
	printed := q.String()
	q2, err := Parse(printed, s, defaults, parserTokenizers)
	if err != nil {
		t.Fatalf("Parse(%q) = %s, which does not parse: %v", in, printed, err)
	}
	if !reflect.DeepEqual(q, q2) {
		t.Fatalf("Parse(%q) = %#v, printed %s, which parses as %#v", in, q, printed, q2)
	}
}

func TestParseDeepNesting(t *testing.T) {
	s := parserSchema(t)
	in := strings.Repeat("(", 10000) + "foo" + strings.Repeat(")", 10000)
	q, err := Parse(in, s, []string{"title"}, parserTokenizers)
	if err != nil {
		t.Fatal(err)
	}
	if q.String() != "title:foo" {
		t.Errorf("got %s", q)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`title:foo AND "exact phrase" -bar +baz`, `(a OR b) NOT c`, `year:[1990 TO 2000]`, `year:{1990 TO 2000]`,
		`year:>=1990`, `prefix*`, `C++`, `what?`, `foo:`, `"`, `:`, `-`, `[`, `AND`, `a\`, `*:*`, `((`, `))`,
		`tag:"x\"y"`, `price:<-1e308`, `code:9223372036854775808`, "\xff\xfe", `title:(a title:(b`,
	} {
		f.Add(seed)
	}
	s := parserSchema(f)
	for _, seed := range roundTripSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q, err := Parse(in, s, []string{"title", "body", "tag"}, parserTokenizers)
		if (q == nil) == (err == nil) {
			t.Fatalf("Parse(%q) = %v, %v: want exactly one of a query and an error", in, q, err)
		}
		var pe *ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse(%q) error %v is not a *ParseError", in, err)
		}
		if pe != nil && (pe.Pos < 0 || pe.Pos > len(in)) {
			t.Fatalf("Parse(%q) error %v: position outside the input", in, err)
		}
		checkRoundTrip(t, s, in)
	})
}
