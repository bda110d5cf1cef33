package segment

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := NewSchema(
		Field{Name: "id", Type: TypeKeyword, Indexed: true, Stored: true, Primary: true},
		Field{Name: "title", Type: TypeText, Indexed: true, Stored: true, Positions: true},
		Field{Name: "body", Type: TypeText, Indexed: true, Stored: true},
		Field{Name: "tag", Type: TypeKeyword, Indexed: true, Stored: true},
		Field{Name: "count", Type: TypeU64, Indexed: true, Stored: true, Fast: true},
		Field{Name: "delta", Type: TypeI64, Stored: true, Fast: true},
		Field{Name: "score", Type: TypeF64, Indexed: true, Fast: true},
		Field{Name: "blob", Type: TypeBytes, Stored: true},
		Field{Name: "created", Type: TypeDate, Indexed: true, Stored: true, Fast: true},
		Field{Name: "draft", Type: TypeBool, Indexed: true, Stored: true},
		Field{Name: "author.name", Type: TypeText, Indexed: true, Stored: true},
		Field{Name: "author.id", Type: TypeU64, Stored: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSchemaErrors(t *testing.T) {
	kw := Field{Name: "k", Type: TypeKeyword, Indexed: true}
	cases := []struct {
		name   string
		fields []Field
		want   []string // substrings of the error
	}{
		{"none", nil, []string{"no fields"}},
		{"empty name", []Field{{Type: TypeText, Indexed: true}}, []string{"field #0", "empty name"}},
		{"bad name", []Field{kw, {Name: "a b", Type: TypeText, Indexed: true}}, []string{"field #1", `"a b"`, "invalid name"}},
		{"digit first", []Field{{Name: "1a", Type: TypeText, Indexed: true}}, []string{"invalid name"}},
		{"long name", []Field{{Name: strings.Repeat("a", 256), Type: TypeText, Indexed: true}}, []string{"invalid name"}},
		{"dup", []Field{kw, kw}, []string{`field "k"`, "defined twice"}},
		{"no type", []Field{{Name: "x", Indexed: true}}, []string{`field "x"`, "missing type"}},
		{"bad type", []Field{{Name: "x", Type: 42, Indexed: true}}, []string{`field "x"`, "invalid type"}},
		{"useless", []Field{{Name: "x", Type: TypeText}}, []string{`field "x"`, "neither indexed, stored nor fast"}},
		{"positions keyword", []Field{{Name: "x", Type: TypeKeyword, Indexed: true, Positions: true}}, []string{`field "x"`, "positions", "keyword"}},
		{"positions unindexed", []Field{{Name: "x", Type: TypeText, Stored: true, Positions: true}}, []string{`field "x"`, "positions require an indexed"}},
		{"fast text", []Field{{Name: "x", Type: TypeText, Fast: true}}, []string{`field "x"`, "fast", "text"}},
		{"tokenizer keyword", []Field{{Name: "x", Type: TypeKeyword, Indexed: true, Tokenizer: "simple"}}, []string{`field "x"`, "tokenizer"}},
		{"indexed bytes", []Field{{Name: "x", Type: TypeBytes, Indexed: true}}, []string{`field "x"`, "bytes fields cannot be indexed"}},
		{"primary text", []Field{{Name: "x", Type: TypeText, Indexed: true, Primary: true}}, []string{`field "x"`, "primary key must be keyword"}},
		{"primary f64", []Field{{Name: "x", Type: TypeF64, Indexed: true, Primary: true}}, []string{`field "x"`, "primary key must be keyword"}},
		{"primary unindexed", []Field{{Name: "x", Type: TypeU64, Stored: true, Primary: true}}, []string{`field "x"`, "must be indexed"}},
		{"two primaries", []Field{
			{Name: "a", Type: TypeKeyword, Indexed: true, Primary: true},
			{Name: "b", Type: TypeU64, Indexed: true, Primary: true},
		}, []string{`field "b"`, "second primary key", `"a"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewSchema(c.fields...)
			if err == nil {
				t.Fatalf("NewSchema accepted %+v: %v", c.fields, s.Fields())
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestSchemaAccessors(t *testing.T) {
	s := testSchema(t)
	if p, ok := s.Primary(); !ok || p.Name != "id" {
		t.Fatalf("Primary() = %v, %v", p, ok)
	}
	if f, ok := s.Field("title"); !ok || f.Type != TypeText || !f.Positions {
		t.Fatalf("Field(title) = %+v, %v", f, ok)
	}
	if _, ok := s.Field("nope"); ok {
		t.Fatal("Field(nope) found")
	}
	if s.FieldIndex("body") != 2 || s.FieldIndex("nope") != -1 {
		t.Fatal("FieldIndex wrong")
	}
	fs := s.Fields()
	fs[0].Name = "mutated"
	if f, _ := s.Field("id"); f.Name != "id" || s.Fields()[0].Name != "id" {
		t.Fatal("Fields() exposes the schema's internals")
	}
	noPK, err := NewSchema(Field{Name: "t", Type: TypeText, Indexed: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := noPK.Primary(); ok {
		t.Fatal("schema without primary reports one")
	}
}

func TestSchemaJSONRoundTrip(t *testing.T) {
	s := testSchema(t)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"type":"keyword"`) || !strings.Contains(string(data), `"type":"date"`) || !strings.Contains(string(data), `"type":"bool"`) || !strings.Contains(string(data), `"primary":true`) {
		t.Fatalf("unexpected JSON %s", data)
	}
	s2, err := ParseSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Equal(s2) || !reflect.DeepEqual(s.Fields(), s2.Fields()) {
		t.Fatalf("round trip changed the schema:\n%+v\n%+v", s.Fields(), s2.Fields())
	}
}

func TestParseSchemaErrors(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`{"fields":[{"name":"a","type":"text","indexed":true,"colour":1}]}`, []string{`field "a"`, "colour"}},
		{`{"fields":[],"extra":1}`, []string{"extra"}},
		{`{"fields":[{"name":"a","type":"string","indexed":true}]}`, []string{`field "a"`, `unknown field type "string"`}},
		{`{"fields":[{"name":"a","type":7,"indexed":true}]}`, []string{`field "a"`, "type must be a string"}},
		{`{"fields":[{"type":"bogus"}]}`, []string{"field #0", "bogus"}},
		{`{"fields":[{"name":"a","type":"text","indexed":true}]} x`, []string{"unexpected data"}},
		{`{"fields":[{"name":"a","type":"text","indexed":true}]}}`, []string{"unexpected data"}},
		{`{"fields":[{"name":"a","type":"text"}]}`, []string{`field "a"`, "neither indexed"}},
		{`{"fields":`, []string{"parse schema"}},
		{`{}`, []string{"no fields"}},
	}
	for _, c := range cases {
		_, err := ParseSchema([]byte(c.in))
		if err == nil {
			t.Errorf("ParseSchema(%s) accepted", c.in)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseSchema(%s): error %q does not mention %q", c.in, err, w)
			}
		}
	}
}

func TestFieldTypeStrings(t *testing.T) {
	for ft, name := range map[FieldType]string{TypeText: "text", TypeKeyword: "keyword", TypeU64: "u64", TypeI64: "i64", TypeF64: "f64", TypeBytes: "bytes", TypeDate: "date", TypeBool: "bool"} {
		if ft.String() != name {
			t.Errorf("%d.String() = %q, want %q", ft, ft.String(), name)
		}
		back, err := ParseFieldType(name)
		if err != nil || back != ft {
			t.Errorf("ParseFieldType(%q) = %v, %v", name, back, err)
		}
	}
	if _, err := json.Marshal(FieldType(0)); err == nil {
		t.Error("marshaling the invalid zero type succeeded")
	}
}

func TestValidate(t *testing.T) {
	s := testSchema(t)
	ok := func() *Document { return new(Document).AddString("id", "doc1") }
	cases := []struct {
		name    string
		doc     *Document
		max     int
		field   string
		problem string // substring; "" means valid
	}{
		{"valid", ok().AddString("title", "hello").AddU64("count", 3).AddI64("delta", -2).AddF64("score", 1.5).AddBytes("blob", []byte{0, 1}), 0, "", ""},
		{"multi-valued", ok().AddString("tag", "a").AddString("tag", "b"), 0, "", ""},
		{"nil", nil, 0, "", "nil document"},
		{"unknown", ok().AddString("nope", "x"), 0, "nope", "unknown field"},
		{"wrong type text", ok().AddU64("title", 1), 0, "title", "wrong type: got u64, schema says text"},
		{"wrong type u64", ok().AddString("count", "1"), 0, "count", "wrong type: got string, schema says u64"},
		{"wrong type i64", ok().AddU64("delta", 1), 0, "delta", "schema says i64"},
		{"wrong type bytes", ok().AddString("blob", "x"), 0, "blob", "schema says bytes"},
		{"bad utf8", ok().AddString("body", "ok\xffno"), 0, "body", "invalid UTF-8 at byte 2"},
		{"nan", ok().AddF64("score", math.NaN()), 0, "score", "NaN"},
		{"missing pk", new(Document).AddString("title", "x"), 0, "id", "missing primary key"},
		{"repeated pk", ok().AddString("id", "doc2"), 0, "id", "given 2 times"},
		{"empty pk", new(Document).AddString("id", ""), 0, "id", "empty primary key"},
		{"long keyword", ok().AddString("tag", strings.Repeat("k", MaxTermBytes+1)), 0, "tag", "term limit"},
		{"too large", ok().AddString("body", strings.Repeat("x", 100)), 50, "", "too large"},
		{"too large first", ok().AddString("nope", strings.Repeat("x", 100)), 50, "", "too large"},
		{"at limit", ok(), len("id") + len("doc1"), "", ""},
		{"fields out of order", new(Document).AddU64("count", 1).AddString("title", "t").AddString("tag", "a").AddString("id", "d").AddString("tag", "b").AddString("title", "u"), 0, "", ""},
		{"bad utf8 before unknown", ok().AddString("body", "\xff").AddString("nope", "x"), 0, "body", "invalid UTF-8 at byte 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Validate(c.doc, c.max)
			// ValidateFields makes every check but UTF-8's; on success
			// it names the primary key's value.
			primary, ferr := s.ValidateFields(c.doc, c.max)
			switch {
			case strings.Contains(c.name, "utf8"):
				if ferr == nil && c.name == "bad utf8 before unknown" {
					t.Fatal("ValidateFields accepted an unknown field")
				}
				if ferr != nil && c.name == "bad utf8" {
					t.Fatalf("ValidateFields checked UTF-8: %v", ferr)
				}
			case (err == nil) != (ferr == nil) || err != nil && err.Error() != ferr.Error():
				t.Fatalf("ValidateFields = %v, Validate = %v", ferr, err)
			case err == nil:
				if v := c.doc.Values[primary]; v.Field != "id" {
					t.Fatalf("ValidateFields named value %d (%+v) as the primary key", primary, v)
				}
			}
			if c.problem == "" {
				if err != nil {
					t.Fatalf("valid document rejected: %v", err)
				}
				return
			}
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("got %v (%T), want *DocumentError", err, err)
			}
			if de.Field != c.field || !strings.Contains(de.Problem, c.problem) {
				t.Fatalf("got field %q problem %q, want field %q problem containing %q", de.Field, de.Problem, c.field, c.problem)
			}
			if c.field != "" && !strings.Contains(err.Error(), `field "`+c.field+`"`) {
				t.Fatalf("error text %q does not name the field", err)
			}
		})
	}
}

func TestDocumentErrorFormat(t *testing.T) {
	e := &DocumentError{Field: "title", Problem: "wrong type: got u64, schema says text"}
	if got := e.Error(); got != `field "title": wrong type: got u64, schema says text` {
		t.Fatalf("Error() = %q", got)
	}
	e.Line = 7
	if got := e.Error(); got != `line 7: field "title": wrong type: got u64, schema says text` {
		t.Fatalf("Error() = %q", got)
	}
}

func TestDocumentAccessors(t *testing.T) {
	d := new(Document).AddString("tag", "a").AddU64("n", 5).AddString("tag", "b")
	if v, ok := d.Get("tag"); !ok || v.Str != "a" {
		t.Fatalf("Get(tag) = %+v", v)
	}
	if all := d.GetAll("tag"); len(all) != 2 || all[1].Str != "b" {
		t.Fatalf("GetAll(tag) = %+v", all)
	}
	if _, ok := d.Get("x"); ok {
		t.Fatal("Get(x) found")
	}
	if got, want := d.SizeBytes(), (3+1)+(1+8)+(3+1); got != want {
		t.Fatalf("SizeBytes = %d, want %d", got, want)
	}
}

func TestPrimaryKeyTerms(t *testing.T) {
	s := testSchema(t)
	k, ok := s.PrimaryKey(new(Document).AddString("title", "x").AddString("id", "abc"))
	if !ok || string(k) != "abc" {
		t.Fatalf("PrimaryKey = %q, %v", k, ok)
	}
	if _, ok := s.PrimaryKey(new(Document)); ok {
		t.Fatal("PrimaryKey of a document without one")
	}
	su, err := NewSchema(Field{Name: "n", Type: TypeI64, Indexed: true, Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	k, _ = su.PrimaryKey(new(Document).AddI64("n", -1))
	if string(k) != string(I64Term(-1)) {
		t.Fatalf("i64 key %x, want %x", k, I64Term(-1))
	}
}

func TestNumericTermsSortLikeNumbers(t *testing.T) {
	less := func(a, b []byte) bool { return string(a) < string(b) }
	is := []int64{math.MinInt64, -1 << 40, -2, -1, 0, 1, 2, 1 << 40, math.MaxInt64}
	for i := 1; i < len(is); i++ {
		if !less(I64Term(is[i-1]), I64Term(is[i])) {
			t.Errorf("I64Term(%d) !< I64Term(%d)", is[i-1], is[i])
		}
	}
	us := []uint64{0, 1, 255, 256, 1 << 40, math.MaxUint64}
	for i := 1; i < len(us); i++ {
		if !less(U64Term(us[i-1]), U64Term(us[i])) {
			t.Errorf("U64Term(%d) !< U64Term(%d)", us[i-1], us[i])
		}
	}
	fs := []float64{math.Inf(-1), -1e300, -1.5, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1, 1e300, math.Inf(1)}
	for i := 1; i < len(fs); i++ {
		if !less(F64Term(fs[i-1]), F64Term(fs[i])) {
			t.Errorf("F64Term(%g) !< F64Term(%g)", fs[i-1], fs[i])
		}
	}
	if string(F64Term(math.Copysign(0, -1))) != string(F64Term(0)) {
		t.Error("-0 and +0 index differently")
	}
}

func TestID(t *testing.T) {
	before := time.Now().Add(-time.Millisecond)
	a, b := NewID(), NewID()
	if a == b || a.IsZero() {
		t.Fatal("NewID returned duplicate or zero ids")
	}
	if ts := a.Time(); ts.Before(before.Truncate(time.Millisecond)) || ts.After(time.Now()) {
		t.Fatalf("id time %v not around now", ts)
	}
	s := a.String()
	if len(s) != 32 || strings.ToLower(s) != s {
		t.Fatalf("String() = %q", s)
	}
	back, err := ParseID(s)
	if err != nil || back != a {
		t.Fatalf("ParseID(%q) = %v, %v", s, back, err)
	}
	for _, bad := range []string{"", s[:31], s + "0", "zz" + s[2:]} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	data, _ := json.Marshal(a)
	var c ID
	if err := json.Unmarshal(data, &c); err != nil || c != a {
		t.Fatalf("JSON round trip: %v %v", c, err)
	}
}
