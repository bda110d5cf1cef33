package query

import (
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
		{"year:{1990 TO 2000]", []string{"title"}, "year:{1990 TO 2000]"},
		{"year:[1990 TO *}", []string{"title"}, "year:[1990 TO *}"},
		{"year:[1990 to 2000}", []string{"title"}, "year:[1990 TO 2000}"},
		{"year:>=1990", []string{"title"}, "year:[1990 TO *}"},
		{"year:>1990", []string{"title"}, "year:{1990 TO *}"},
		{"year:<2000", []string{"title"}, "year:{* TO 2000}"},
		{"year:<=2000", []string{"title"}, "year:{* TO 2000]"},
		{"year:1999", []string{"title"}, "year:[1999 TO 1999]"},
		{"price:[0.5 TO 9.99]", []string{"title"}, "price:[0.5 TO 9.99]"},
		{"year:[1990 TO 2000", []string{"title"}, "year:[1990 TO 2000]"},
		{"code:-7", []string{"title"}, `code:"\x7f\xff\xff\xff\xff\xff\xff\xf9"`},
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
	f.Fuzz(func(t *testing.T, in string) {
		q, err := Parse(in, s, []string{"title", "body", "tag"}, parserTokenizers)
		if (q == nil) == (err == nil) {
			t.Fatalf("Parse(%q) = %v, %v: want exactly one of a query and an error", in, q, err)
		}
		if q != nil {
			_ = q.String()
		}
	})
}
