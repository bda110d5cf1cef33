package infer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/segment"
)

func sample(t *testing.T, lines ...string) *Sampler {
	t.Helper()
	var s Sampler
	for i, l := range lines {
		if err := s.Add([]byte(l), i+1); err != nil {
			t.Fatalf("Add(line %d): %v", i+1, err)
		}
	}
	return &s
}

func TestSchemaFollowsTheRules(t *testing.T) {
	s := sample(t,
		`{"title":"A","id":"doc-1","year":1861,"tags":["x","y"],"note":null,"ok":true,"at":"2024-05-01T10:00:00Z",`+
			`"author":{"name":"Ann","born":"1990-01-02","ids":[1,2]},"big":1,"neg":5,"when":"2024-05-01"}`,
		`{"id":"doc-2","title":"B","year":1862.5,"score":3,"note":"later","ok":[false,null],"at":null,`+
			`"author":[{"name":"Bob"}],"big":18446744073709551615,"neg":-5,"when":"soon"}`,
	)
	schema, err := s.Schema()
	if err != nil {
		t.Fatal(err)
	}
	text := func(name string) segment.Field {
		return segment.Field{Name: name, Type: segment.TypeText, Indexed: true, Stored: true, Positions: true, Tokenizer: "simple"}
	}
	f64 := func(name string) segment.Field {
		return segment.Field{Name: name, Type: segment.TypeF64, Indexed: true, Stored: true, Fast: true}
	}
	fast := func(name string, typ segment.FieldType) segment.Field {
		return segment.Field{Name: name, Type: typ, Indexed: true, Stored: true, Fast: true}
	}
	want := []segment.Field{
		{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		text("title"), f64("year"), text("tags"), text("note"),
		{Name: "ok", Type: segment.TypeBool, Indexed: true, Stored: true, Fast: true},
		fast("at", segment.TypeDate), text("author.name"), fast("author.born", segment.TypeDate),
		fast("author.ids", segment.TypeI64), fast("big", segment.TypeU64), fast("neg", segment.TypeI64),
		text("when"), fast("score", segment.TypeI64),
	}
	got := schema.Fields()
	if len(got) != len(want) {
		t.Fatalf("got %d fields %v, want %d", len(got), Describe(schema), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// The inferred schema must accept the very lines it was inferred from.
func TestSchemaDecodesTheSample(t *testing.T) {
	lines := []string{
		`{"id":"a","title":"Hello","n":1,"tags":["p","q"],"ok":true,"at":"2024-05-01T10:00:00.5+02:00","meta":{"k":1,"v":["x"]}}`,
		`{"id":"b","title":null,"n":2.5,"ok":false,"at":"2024-05-02","meta":[{"k":-2},{"v":"y"}],"u":18446744073709551615}`,
		`{"id":"c","n":-7,"i":-3,"u":0}`,
	}
	schema, err := sample(t, lines...).Schema()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		d, err := schema.DecodeJSON([]byte(l))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if err := schema.Validate(d, 0); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
}

func TestIntegerIDBecomesI64(t *testing.T) {
	schema, err := sample(t, `{"id":1,"text":"x"}`, `{"id":2,"text":"y"}`).Schema()
	if err != nil {
		t.Fatal(err)
	}
	pk, ok := schema.Primary()
	if !ok || pk.Name != "id" || pk.Type != segment.TypeI64 {
		t.Fatalf("primary = %+v, %v; want id i64", pk, ok)
	}
}

func TestNoIDMeansNoPrimaryKey(t *testing.T) {
	schema, err := sample(t, `{"text":"x"}`).Schema()
	if err != nil {
		t.Fatal(err)
	}
	if pk, ok := schema.Primary(); ok {
		t.Fatalf("primary = %+v, want none", pk)
	}
}

func TestErrorsNameLineAndField(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		want  []string // substrings of the error of the last line
	}{
		{"boolean and number", []string{`{"id":"a","ok":true}`, `{"id":"b","ok":1}`}, []string{"line 2", `"ok"`, "boolean", "--schema"}},
		{"nested object and string", []string{`{"id":"a","m":{"k":1}}`, `{"id":"b","m.k":"x"}`}, []string{"line 2", `"m.k"`, "one type"}},
		{"nested array", []string{`{"id":"a","m":[[1]]}`}, []string{"line 1", `"m"`, "nested array"}},
		{"nested array in an object", []string{`{"id":"a","m":{"n":[[1]]}}`}, []string{"line 1", `"m.n"`, "nested array"}},
		{"negative and past i64", []string{`{"id":"a","v":[-1,18446744073709551615,true]}`}, []string{"line 1", `"v"`}},
		{"mixed", []string{`{"id":"a","v":"x"}`, `{"id":"b","v":2}`}, []string{"line 2", `"v"`, "line 1", "one type"}},
		{"mixed within a line", []string{`{"id":"a","v":["x",2]}`}, []string{"line 1", `"v"`}},
		{"malformed", []string{`{"id":"a",`}, []string{"line 1", "invalid JSON"}},
		{"not an object", []string{`["a"]`}, []string{"line 1", "not a JSON object"}},
		{"two values", []string{`{"id":"a"} {"id":"b"}`}, []string{"line 1", "more than one"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Sampler
			var err error
			for i, l := range c.lines {
				if err = s.Add([]byte(l), i+1); err != nil && i < len(c.lines)-1 {
					t.Fatalf("line %d: unexpected error %v", i+1, err)
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// A rejected line leaves no trace, so `--on-error skip` can carry on.
func TestRejectedLineChangesNothing(t *testing.T) {
	var s Sampler
	if err := s.Add([]byte(`{"id":"a","v":"x"}`), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Add([]byte(`{"id":"b","w":1,"v":2}`), 2); err == nil {
		t.Fatal("mixed types accepted")
	}
	if s.Lines() != 1 {
		t.Fatalf("Lines = %d, want 1", s.Lines())
	}
	schema, err := s.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := schema.Field("w"); ok {
		t.Fatal(`field "w" of the rejected line made it into the schema`)
	}
}

func TestBigIntegerIDBecomesU64(t *testing.T) {
	schema, err := sample(t, `{"id":1}`, `{"id":18446744073709551615}`).Schema()
	if err != nil {
		t.Fatal(err)
	}
	if pk, _ := schema.Primary(); pk.Type != segment.TypeU64 {
		t.Fatalf("primary = %+v; want id u64", pk)
	}
}

// Negative integers and integers past the i64 range fit no integer type.
func TestNegativeAndHugeIntegersAreF64(t *testing.T) {
	schema, err := sample(t, `{"v":-1}`, `{"v":18446744073709551615}`).Schema()
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := schema.Field("v"); f.Type != segment.TypeF64 {
		t.Fatalf("v = %+v; want f64", f)
	}
}

func TestFractionalIDIsAnError(t *testing.T) {
	_, err := sample(t, `{"id":1.5}`).Schema()
	if err == nil || !strings.Contains(err.Error(), "primary key") {
		t.Fatalf("err = %v, want a primary key error", err)
	}
}

func TestInvalidFieldNameIsReported(t *testing.T) {
	_, err := sample(t, `{"id":"a","bad name":"x"}`).Schema()
	if err == nil || !strings.Contains(err.Error(), "bad name") || !strings.Contains(err.Error(), "--schema") {
		t.Fatalf("err = %v, want the field named and --schema suggested", err)
	}
}

func TestEmptySample(t *testing.T) {
	var s Sampler
	if _, err := s.Schema(); err == nil {
		t.Fatal("empty sample gave a schema")
	}
}

func TestDescribe(t *testing.T) {
	schema, err := sample(t, `{"id":"a","title":"t","year":1}`).Schema()
	if err != nil {
		t.Fatal(err)
	}
	got := Describe(schema)
	want := "id (keyword, primary), title (text, positions), year (i64, fast)"
	if got != want {
		t.Fatalf("Describe = %q, want %q", got, want)
	}
}

// For dynamic mapping, Known fields are not sampled, and Fields types the
// others as Schema does, none primary ("id" included); a line whose unknown
// field holds another kind than before is refused and the first kind stays.
func TestSamplerDynamicFields(t *testing.T) {
	s := Sampler{Known: func(name string) bool { return name == "title" || name == "a.b" }}
	for i, line := range []string{
		`{"title":5,"id":7,"a":{"b":true,"c":1}}`,
		`{"title":"x","a":{"c":2.5},"d":"2024-01-01"}`,
		`{"a":{"c":"text"},"e":true}`,
	} {
		err := s.Add([]byte(line), i+1)
		if (err != nil) != (i == 2) {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	got := s.Fields()
	want := []segment.Field{
		{Name: "id", Type: segment.TypeI64, Indexed: true, Stored: true, Fast: true},
		{Name: "a.c", Type: segment.TypeF64, Indexed: true, Stored: true, Fast: true},
		{Name: "d", Type: segment.TypeDate, Indexed: true, Stored: true, Fast: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fields\n got %+v\nwant %+v", got, want)
	}
}

func TestValueFieldTypesByKind(t *testing.T) {
	d := new(segment.Document).AddString("s", "x").AddU64("u", 1).AddI64("i", -1).AddF64("f", 1.5).AddBytes("b", []byte{1})
	want := map[string]segment.FieldType{"s": segment.TypeText, "u": segment.TypeU64, "i": segment.TypeI64, "f": segment.TypeF64, "b": segment.TypeBytes}
	for _, v := range d.Values {
		f := ValueField(v)
		if f.Name != v.Field || f.Type != want[v.Field] {
			t.Errorf("ValueField(%s) = %+v, want type %v", v.Field, f, want[v.Field])
		}
		if _, err := segment.NewSchema(f); err != nil {
			t.Errorf("ValueField(%s) = %+v is not a valid field: %v", v.Field, f, err)
		}
	}
}

func TestTypedFieldsLeaveOutNullOnlyFields(t *testing.T) {
	s := sample(t, `{"a":null,"b":1,"c":{"d":null,"e":true}}`)
	var names []string
	for _, f := range s.TypedFields() {
		names = append(names, f.Name)
	}
	if want := []string{"b", "c.e"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("TypedFields = %v, want %v", names, want)
	}
}
