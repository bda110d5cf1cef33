package segment

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeJSON(t *testing.T) {
	s := testSchema(t)
	doc, err := s.DecodeJSON([]byte(` {"id":"d1","title":"Hello","tag":["a",null,"b"],"count":1e3,"delta":-9223372036854775808,` +
		`"score":-2.5e-3,"blob":"AAH/","body":null} `))
	if err != nil {
		t.Fatal(err)
	}
	want := new(Document).AddString("id", "d1").AddString("title", "Hello").AddString("tag", "a").AddString("tag", "b").
		AddU64("count", 1000).AddI64("delta", math.MinInt64).AddF64("score", -2.5e-3).AddBytes("blob", []byte{0, 1, 0xff})
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("got  %+v\nwant %+v", doc, want)
	}
	if err := s.Validate(doc, 0); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeJSONNumbers(t *testing.T) {
	s := testSchema(t)
	u := func(in string) (uint64, error) {
		d, err := s.DecodeJSON([]byte(`{"count":` + in + `}`))
		if err != nil {
			return 0, err
		}
		return d.Values[0].U64, nil
	}
	for in, want := range map[string]uint64{
		"0": 0, "18446744073709551615": math.MaxUint64, "2.0": 2, "1.5e1": 15, "1E+2": 100, "-0": 0,
		"0.0e-5": 0, "0e999999999999": 0, "1844674407370955161.5e1": 18446744073709551615, "100e-2": 1,
	} {
		got, err := u(in)
		if err != nil || got != want {
			t.Errorf("u64 %s = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, problem := range map[string]string{
		"18446744073709551616": "out of range for u64", "-1": "out of range for u64", "1.5": "not an integer",
		"1e-1": "not an integer", "1e999999999999": "out of range", "1e-999999999999": "not an integer", "1e20": "out of range",
	} {
		_, err := u(in)
		var de *DocumentError
		if !errors.As(err, &de) || de.Field != "count" || !strings.Contains(de.Problem, problem) {
			t.Errorf("u64 %s: got %v, want field count and %q", in, err, problem)
		}
	}
	i := func(in string) (int64, error) {
		d, err := s.DecodeJSON([]byte(`{"delta":` + in + `}`))
		if err != nil {
			return 0, err
		}
		return d.Values[0].I64, nil
	}
	for in, want := range map[string]int64{"-9223372036854775808": math.MinInt64, "9223372036854775807": math.MaxInt64, "-3e2": -300} {
		got, err := i(in)
		if err != nil || got != want {
			t.Errorf("i64 %s = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"9223372036854775808", "-9223372036854775809"} {
		if _, err := i(in); err == nil || !strings.Contains(err.Error(), "out of range for i64") {
			t.Errorf("i64 %s: got %v", in, err)
		}
	}
	if _, err := s.DecodeJSON([]byte(`{"score":1e400}`)); err == nil || !strings.Contains(err.Error(), "out of range for f64") {
		t.Errorf("f64 1e400: %v", err)
	}
	if d, err := s.DecodeJSON([]byte(`{"score":1e-400}`)); err != nil || d.Values[0].F64 != 0 {
		t.Errorf("f64 1e-400 (underflow to 0): %v %v", d, err)
	}
}

// Dates come as RFC 3339 strings, bare days or epoch milliseconds and are
// held as i64 milliseconds; bools as true/false (or 0/1) held as u64 1/0.
func TestDecodeJSONDatesAndBools(t *testing.T) {
	s := testSchema(t)
	doc, err := s.DecodeJSON([]byte(`{"id":"d","created":["2024-05-01T12:30:00.250+02:00","2024-05-01",-1,1e3],"draft":[true,false,1,0]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := new(Document).AddString("id", "d").
		AddDate("created", time.Date(2024, 5, 1, 10, 30, 0, 250e6, time.UTC)).
		AddDate("created", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)).
		AddI64("created", -1).AddI64("created", 1000).
		AddBool("draft", true).AddBool("draft", false).AddBool("draft", true).AddBool("draft", false)
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("got  %+v\nwant %+v", doc, want)
	}
	if err := s.Validate(doc, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(new(Document).AddString("id", "d").AddU64("draft", 2), 0); err == nil || !strings.Contains(err.Error(), "bool value must be 0") {
		t.Errorf("Validate of bool 2: %v", err)
	}
	for in, problem := range map[string]string{
		`{"created":"2024-13-01"}`:       `not a date: "2024-13-01"`,
		`{"created":"2024-05-01 10:00"}`: "want RFC 3339",
		`{"created":1.5}`:                "not an integer for a date in epoch milliseconds",
		`{"created":true}`:               "got bool, schema says date",
		`{"draft":"true"}`:               "got string, schema says bool",
		`{"draft":2}`:                    "got number 2, schema says bool",
		`{"draft":-1}`:                   "got number -1, schema says bool",
	} {
		_, err := s.DecodeJSON([]byte(in))
		var de *DocumentError
		if !errors.As(err, &de) || !strings.Contains(de.Problem, problem) {
			t.Errorf("DecodeJSON(%s) = %v, want a problem containing %q", in, err, problem)
		}
	}
}

// Nested objects are flattened to dotted paths; each object of an array
// adds its values; a dotted key names the same field.
func TestDecodeJSONNestedObjects(t *testing.T) {
	s := testSchema(t)
	doc, err := s.DecodeJSON([]byte(`{"id":"d","author":{"name":"Ann","id":3},"title":"t",` +
		`"author":[{"name":"Bob"},{"id":[4,5],"name":null},{}],"author.name":"Cy"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := new(Document).AddString("id", "d").AddString("author.name", "Ann").AddU64("author.id", 3).AddString("title", "t").
		AddString("author.name", "Bob").AddU64("author.id", 4).AddU64("author.id", 5).AddString("author.name", "Cy")
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("got  %+v\nwant %+v", doc, want)
	}
	// Marshaled back, the document uses dotted keys, which decode the same.
	data, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.DecodeJSON(data)
	if err != nil || len(back.Values) != len(doc.Values) {
		t.Fatalf("%s: %v %+v", data, err, back)
	}
	for in, want := range map[string][2]string{
		`{"author":{"nope":1}}`:           {"author.nope", "unknown field"},
		`{"author":{"name":{"x":"y"}}}`:   {"author.name", "got object, schema says text"},
		`{"author":{"name":["a",["b"]]}}`: {"author.name", "got nested array"},
		`{"author":["Ann"]}`:              {"author", "unknown field"},
		`{"author":[[{"name":"a"}]]}`:     {"author", "unknown field"},
		`{"author":"Ann"}`:                {"author", "unknown field"},
		`{"author":{"id":-1}}`:            {"author.id", "out of range for u64"},
		`{"title":{"a":1}}`:               {"title", "got object"},
	} {
		_, err := s.DecodeJSON([]byte(in))
		var de *DocumentError
		if !errors.As(err, &de) || de.Field != want[0] || !strings.Contains(de.Problem, want[1]) {
			t.Errorf("DecodeJSON(%s) = %v, want field %q and %q", in, err, want[0], want[1])
		}
	}
}

// With IgnoreUnknown, members naming no field are dropped whatever they
// hold, and the known fields of nested objects are still taken.
func TestDecodeJSONIgnoresUnknownFields(t *testing.T) {
	s, err := ParseSchema([]byte(`{"fields":[{"name":"id","type":"keyword","indexed":true,"primary":true},` +
		`{"name":"title","type":"text","indexed":true},{"name":"author.name","type":"keyword","indexed":true}],"unknown_fields":"ignore"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.UnknownFields() != IgnoreUnknown {
		t.Fatalf("UnknownFields = %v", s.UnknownFields())
	}
	in := `{"id":"d","nope":1,"x":{"y":[1,[2,{"z":3}]],"w":"v"},"author":{"name":"A","zz":{"q":true}},` +
		`"arr":[1,"a",null,[{}],{"k":false}],"title":"t","author":[{"name":"B"},7]}`
	doc, err := s.DecodeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := new(Document).AddString("id", "d").AddString("author.name", "A").AddString("title", "t").AddString("author.name", "B")
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("got  %+v\nwant %+v", doc, want)
	}
	for _, bad := range []string{`{"nope":[1,}`, `{"nope":{"a":}}`, `{"title":5,"nope":1}`} {
		if _, err := s.DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("DecodeJSON(%s) accepted", bad)
		}
	}
	// The mode survives the schema's JSON; the default is reject.
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSchema(data)
	if err != nil || back.UnknownFields() != IgnoreUnknown || !back.Equal(s) {
		t.Fatalf("round trip of %s: %v, %v", data, back, err)
	}
	if _, err := back.WithUnknownFields(RejectUnknown).DecodeJSON([]byte(in)); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("reject mode: %v", err)
	}
	if _, err := ParseSchema([]byte(`{"fields":[{"name":"a","type":"text","indexed":true}],"unknown_fields":"guess"}`)); err == nil ||
		!strings.Contains(err.Error(), "want reject, ignore or dynamic") {
		t.Fatalf("unknown_fields guess: %v", err)
	}
	// Dynamic survives the schema's JSON; DecodeJSON rejects unknown
	// fields under it (hermes index adds them before creating an index).
	dyn, err := ParseSchema([]byte(`{"fields":[{"name":"a","type":"text","indexed":true}],"unknown_fields":"dynamic"}`))
	if err != nil || dyn.UnknownFields() != DynamicUnknown {
		t.Fatalf("unknown_fields dynamic: %v, %v", dyn, err)
	}
	if data, _ := json.Marshal(dyn); !strings.Contains(string(data), `"unknown_fields":"dynamic"`) {
		t.Fatalf("dynamic schema marshals as %s", data)
	}
	if _, err := dyn.DecodeJSON([]byte(`{"a":"x","b":1}`)); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("dynamic mode, unknown field: %v", err)
	}
	// The fast path skips unknown fields too, and agrees with encoding/json.
	for _, in := range []string{in, `{"nope":1}`, `{"x":{"y":"z"},"title":"t"}`, `{"nope":[[1],{"a":[]}]}`,
		`{"n":"a\"b\u00e9","m":-1.5e3,"k":[true,false,null,{}],"o":{"p":{"q":[[]]}}}`} {
		if !decodeBoth(t, s, []byte(in)) {
			t.Errorf("fast path refused %s", in)
		}
	}
	for _, in := range []string{`{"nope":tru}`, `{"nope":[1,]}`, `{"nope":{"a" 1}}`, `{"nope":"\x"}`, `{"nope":01}`, `{"nope":[[[]]}`} {
		if decodeBoth(t, s, []byte(in)) {
			t.Errorf("fast path accepted %s", in)
		}
	}
	// The fast path checks UTF-8 as it scans strings eight bytes at a
	// time: a bad sequence (or a quote, backslash or control byte) at
	// every offset of a word, in values and keys, and outside strings.
	for off := range 18 {
		pad := strings.Repeat("a", off)
		for _, seq := range []string{"\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\x01"} {
			for _, in := range []string{`{"title":"` + pad + seq + `bcdefghij"}`, `{"title":"` + pad + seq + `"}`, `{"` + pad + seq + `":1}`, `{"title":"` + pad + `"` + seq + `}`} {
				if decodeBoth(t, s, []byte(in)) {
					t.Errorf("fast path accepted %q", in)
				}
			}
		}
		for _, seq := range []string{"é", "中", "😀", `\"`, `\\`, `\n`, `\u00e9`, "\x7f"} {
			in := `{"title":"` + pad + seq + `bcdefghij` + seq + `"}`
			if !decodeBoth(t, s, []byte(in)) {
				t.Errorf("fast path refused %q", in)
			}
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	s := testSchema(t)
	cases := []struct {
		in      string
		field   string
		problem string
	}{
		{`{"nope":1}`, "nope", "unknown field"},
		{`{"title":5}`, "title", "wrong type: got number, schema says text"},
		{`{"count":"5"}`, "count", "wrong type: got string, schema says u64"},
		{`{"title":{"a":1}}`, "title", "got object"},
		{`{"tag":[["a"]]}`, "tag", "nested array"},
		{`{"tag":[{}]}`, "tag", "nested object"},
		{`{"title":true}`, "title", "got bool"},
		{`{"blob":"***"}`, "blob", "invalid base64"},
		{"{\"title\":\"ok\",\"body\":\"a\xffb\"}", "body", "invalid UTF-8 at byte 23"},
		{"{\"ti\xfftle\":\"x\"}", "ti\uFFFDtle", "invalid UTF-8 in the field name"},
		{`[1,2]`, "", "not a JSON object (starts with array)"},
		{`"x"`, "", "not a JSON object"},
		{``, "", "unexpected end of input at byte 0"},
		{`{"title":"x"`, "", "unexpected end of input at byte 12"},
		{`{"title" "x"}`, "", "invalid JSON at byte 9"},
		{`{"title":"x"}{}`, "", "unexpected object after the object"},
		{`{"title":"x"} 5`, "", "unexpected number after the object"},
		{`{"title":"x",}`, "", "invalid JSON at byte"},
		{`{"title":tru}`, "", "invalid JSON at byte"},
	}
	for _, c := range cases {
		_, err := s.DecodeJSON([]byte(c.in))
		var de *DocumentError
		if !errors.As(err, &de) {
			t.Errorf("DecodeJSON(%q) = %v (%T), want *DocumentError", c.in, err, err)
			continue
		}
		if de.Field != c.field || !strings.Contains(de.Problem, c.problem) {
			t.Errorf("DecodeJSON(%q): field %q problem %q; want field %q problem containing %q", c.in, de.Field, de.Problem, c.field, c.problem)
		}
	}
}

func TestDocumentJSONRoundTrip(t *testing.T) {
	s := testSchema(t)
	d := new(Document).AddString("id", "x\"y").AddString("tag", "a").AddU64("count", math.MaxUint64).AddString("tag", "b").
		AddI64("delta", math.MinInt64).AddF64("score", 0.1).AddBytes("blob", []byte("\x00\xff"))
	data, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.DecodeJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	// Repeated fields come back grouped at the first occurrence.
	want := new(Document).AddString("id", "x\"y").AddString("tag", "a").AddString("tag", "b").AddU64("count", math.MaxUint64).
		AddI64("delta", math.MinInt64).AddF64("score", 0.1).AddBytes("blob", []byte("\x00\xff"))
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("got  %+v\nwant %+v", back, want)
	}
	if _, err := new(Document).AddF64("score", math.Inf(1)).MarshalJSON(); err == nil {
		t.Fatal("marshaled +Inf")
	}
}

// FuzzDecodeJSON checks that DecodeJSON never panics, fails only with a
// *DocumentError, and that whatever it accepts survives a marshal/decode
// round trip and type-checks against the schema.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"id":"d1","title":"Hello world","tag":["a","b"],"count":12,"delta":-3,"score":1.5,"blob":"AAE="}`,
		`{"count":1e3}`, `{"tag":[null]}`, `{}`, `[]`, `{"title":"\ud800"}`, "{\"body\":\"\xff\"}", `{"delta":-0.0e5}`,
		`{"created":"2024-05-01T12:30:00Z","draft":[true,false]}`, `{"created":-1}`,
	} {
		f.Add([]byte(seed))
	}
	s := testSchema(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := s.DecodeJSON(data)
		if err != nil {
			var de *DocumentError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is %T, want *DocumentError", err, err)
			}
			return
		}
		for _, v := range doc.Values {
			f, ok := s.Field(v.Field)
			if !ok || kindFor(f.Type) != v.Kind {
				t.Fatalf("decoded value %+v does not fit the schema", v)
			}
		}
		out, err := doc.MarshalJSON()
		if err != nil {
			t.Fatalf("cannot marshal decoded document %+v: %v", doc, err)
		}
		again, err := s.DecodeJSON(out)
		if err != nil {
			t.Fatalf("cannot decode %s: %v", out, err)
		}
		out2, err := again.MarshalJSON()
		if err != nil || string(out2) != string(out) {
			t.Fatalf("round trip unstable:\n%s\n%s (%v)", out, out2, err)
		}
	})
}

// decodeBoth runs DecodeJSON's fast path and the encoding/json decoder on
// data and fails if the fast path accepts something the decoder does not,
// or decodes it differently. It reports whether the fast path accepted.
func decodeBoth(t *testing.T, s *Schema, data []byte) bool {
	t.Helper()
	fast, ok := s.decodeJSONFast(data, &docSlab{})
	slow, err := s.decodeJSONSlow(data)
	switch {
	case ok && err != nil:
		t.Fatalf("fast path accepts %q, encoding/json says %v", data, err)
	case ok && !reflect.DeepEqual(fast, slow):
		t.Fatalf("%q:\nfast %+v\nslow %+v", data, fast, slow)
	}
	// From tiny chunks, twice in a row, as a JSONDecoder carves them: the
	// second document comes from what is left of the first one's chunks.
	sl := docSlab{docChunk: 2, valChunk: 3, strChunk: 7}
	first, ok1 := s.decodeJSONFast(data, &sl)
	second, ok2 := s.decodeJSONFast(data, &sl)
	if ok1 != ok || ok2 != ok || ok && (!reflect.DeepEqual(first, slow) || !reflect.DeepEqual(second, slow)) {
		t.Fatalf("%q from chunks: %v %+v, %v %+v; want %v %+v", data, ok1, first, ok2, second, ok, slow)
	}
	return ok
}

// A JSONDecoder decodes as DecodeJSON does, errors included, and a
// document it returned never changes as it decodes more, nor when the
// caller appends to another's values.
func TestJSONDecoderKeepsEarlierDocuments(t *testing.T) {
	s := testSchema(t)
	var lines []string
	for i := range 3000 {
		switch i % 7 {
		case 0:
			lines = append(lines, fmt.Sprintf(`{"id":"d%d","title":"t\u00e9\n%d","tag":["a","b\"%d"],"count":%d}`, i, i, i, i))
		case 1:
			lines = append(lines, fmt.Sprintf(`{"id":"d%d","body":"%s","draft":true,"created":"2024-05-01"}`, i, strings.Repeat("ü x ", i%300)))
		case 2:
			lines = append(lines, "{\"id\":\"bad\xff\"}") // invalid UTF-8: the slow path's error
		case 3:
			lines = append(lines, fmt.Sprintf(`{"id":"d%d","tag":[%s"x"]}`, i, strings.Repeat(`"many",`, i%1100))) // past a chunk of values
		case 4:
			lines = append(lines, `{"nope":1}`)
		case 5:
			lines = append(lines, fmt.Sprintf(`{"id":"d%d","author":{"name":"A","id":%d},"blob":"AAE=","score":1.5}`, i, i))
		default:
			lines = append(lines, `{}`)
		}
	}
	dec := s.NewJSONDecoder()
	var docs []*Document
	for _, line := range lines {
		got, err := dec.Decode([]byte(line))
		want, wantErr := s.DecodeJSON([]byte(line))
		if !reflect.DeepEqual(got, want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("%s: decoder gives %+v, %v; DecodeJSON %+v, %v", line, got, err, want, wantErr)
		}
		if got != nil && len(got.Values) > 0 {
			got.AddString("tag", "appended") // must not reach the next document
			got.Values = got.Values[:len(got.Values)-1]
		}
		docs = append(docs, got)
	}
	for i, line := range lines {
		want, _ := s.DecodeJSON([]byte(line))
		if !reflect.DeepEqual(docs[i], want) {
			t.Fatalf("line %d changed after later decodes: %+v, want %+v", i, docs[i], want)
		}
	}
}

// specialBytes's lowest mark is the first byte that ends a plain run of a
// string (a quote, a backslash, a control or non-ASCII byte), in words of
// every mix of such bytes, and there is none without one.
func TestSpecialBytesLowestMark(t *testing.T) {
	rng := rand.New(rand.NewSource(14))
	pick := []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xff, 'a', 'n', 0x01, 0xa2, 0xdc}
	var word [8]byte
	for range 200_000 {
		for k := range word {
			if rng.Intn(3) == 0 {
				word[k] = byte(rng.Intn(256))
			} else {
				word[k] = pick[rng.Intn(len(pick))]
			}
		}
		want := 8
		for k, c := range word {
			if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
				want = k
				break
			}
		}
		m := specialBytes(binary.LittleEndian.Uint64(word[:]))
		if got := bits.TrailingZeros64(m) / 8; got != want {
			t.Fatalf("% x: lowest mark at byte %d, want %d", word, got, want)
		}
	}
}

// A reused JSONDecoder decodes each batch as DecodeJSON does, into the
// memory of the batches before it: once warm, a batch of the same lines
// allocates nothing but what the slow path and appends need.
func TestJSONDecoderReuse(t *testing.T) {
	s := testSchema(t)
	var lines []string
	for i := range 600 {
		switch i % 5 {
		case 0:
			lines = append(lines, fmt.Sprintf(`{"id":"d%d","title":"t\u00e9\n%d","tag":["a","b\"%d"],"count":%d}`, i, i, i, i))
		case 1:
			lines = append(lines, fmt.Sprintf(`{"id":"d%d","body":"%s","draft":true}`, i, strings.Repeat("ü x ", i%700))) // past a chunk of strings
		case 2:
			lines = append(lines, fmt.Sprintf(`{"id":"d%d","tag":[%s"x"]}`, i, strings.Repeat(`"many",`, i%1100))) // past a chunk of values
		case 3:
			lines = append(lines, `{"nope":1}`) // the slow path's error
		default:
			lines = append(lines, fmt.Sprintf(`{"id":"d%d","body":"%s"}`, i, strings.Repeat("y", 300<<10))) // longer than a chunk
		}
	}
	dec := s.NewJSONDecoder()
	dec.Reuse()
	decodeBatch := func(batch []string) {
		docs := make([]*Document, len(batch))
		errs := make([]error, len(batch))
		for i, line := range batch {
			docs[i], errs[i] = dec.Decode([]byte(line))
		}
		for i, line := range batch { // after the whole batch: nothing overwrote another's
			want, wantErr := s.DecodeJSON([]byte(line))
			if !reflect.DeepEqual(docs[i], want) || fmt.Sprint(errs[i]) != fmt.Sprint(wantErr) {
				t.Fatalf("%.80s: decoder gives %+v, %v; DecodeJSON %+v, %v", line, docs[i], errs[i], want, wantErr)
			}
		}
		dec.Reuse()
	}
	for round := range 3 {
		for start := 0; start < len(lines); start += 100 + round*50 {
			decodeBatch(lines[start:min(len(lines), start+100+round*50)])
		}
	}
	warm := lines[:len(lines)/2]
	var plain []string // lines of the fast path, within a chunk
	for i, line := range warm {
		if i%5 == 0 || i%5 == 1 {
			plain = append(plain, line)
		}
	}
	decodeBatch(plain)
	lineBytes := make([][]byte, len(plain))
	for i, line := range plain {
		lineBytes[i] = []byte(line)
	}
	allocs := testing.AllocsPerRun(10, func() {
		for _, line := range lineBytes {
			if _, err := dec.Decode(line); err != nil {
				t.Fatal(err)
			}
		}
		dec.Reuse()
	})
	if allocs > 0 {
		t.Errorf("a warm reused decoder allocates %.1f times a batch of %d documents, want 0", allocs, len(plain))
	}
}

// The fast path accepts what a document may hold, escapes and all, and
// decodes it as encoding/json does.
func TestDecodeJSONFastAgreesWithEncodingJSON(t *testing.T) {
	s := testSchema(t)
	for _, in := range []string{
		`{"id":"d1","title":"Hello","tag":["a",null,"b"],"count":1e3,"delta":-9223372036854775808,"score":-2.5e-3,"blob":"AAH/","body":null}`,
		` {} `, "\t{\r\n}\n", `{"tag":[]}`, `{"tag":[ "x" , "y" ]}`, `{"title":""}`, `{"title":"\""}`,
		`{"title":"a\"b\\c\/d\be\ff\ng\rh\ti"}`, `{"title":"\u00e9\u4e2d\uD83D\uDE00"}`,
		`{"title":"\ud800"}`, `{"title":"\udc00\ud800x"}`, `{"title":"\ud800\u0041"}`, `{"title":"\ud800\ud800\udc00"}`,
		`{"ti\u0074le":"escaped key"}`, `{"title":"a","title":"b"}`, `{"count":0}`, `{"score":-0.0e+0}`, `{"blob":"\u0041AE="}`,
		`{"title":"é 中 😀"}`, `{"author":{"name":"Ann","id":3},"title":"t","author":[{"name":"Bob"},{"id":[4,5],"name":null},{}],"author.name":"Cy"}`,
		`{"author":{}}`, `{"author":[]}`, `{"author":[ { "name" : "x" } , {} ]}`, `{"author":{"name":"a"}}`, `{"created":"2024-05-01T12:30:00.250+02:00","draft":true}`, `{"created":[1714566600250,"2024-05-01"],"draft":[false,0,1]}`,
	} {
		if !decodeBoth(t, s, []byte(in)) {
			t.Errorf("fast path refused %s", in)
		}
	}
	// Everything the decoder rejects, the fast path leaves to it.
	for _, in := range []string{
		`{"title":"x",}`, `{"title":tru}`, `{"title":true}`, `{"count":01}`, `{"count":1.}`, `{"count":-}`, `{"count":1e}`,
		`{"title":"\x"}`, `{"title":"\u12"}`, "{\"title\":\"a\tb\"}", `{"nope":1}`, `{"title":{"a":1}}`, `{"tag":[["a"]]}`,
		`{"title":"x"}{}`, `{"count":"5"}`, `{"blob":"***"}`, "{\"body\":\"a\xffb\"}", `{"count":1.5}`, `[1]`, ``, `{"title":"x"`,
		`{"author":{"nope":1}}`, `{"author":"x"}`, `{"author":["x"]}`, `{"author":[[]]}`, `{"author":{"name":{}}}`, `{"author":{"name":"x",}}`,
		`{"author":{"name":"x"}`, `{"author":[{"name":"x"}}`, `{"draft":tru}`, `{"draft":"true"}`, `{"draft":2}`, `{"created":"yesterday"}`, `{"created":1.5}`, `{"created":true}`, `{"count":true}`,
	} {
		if decodeBoth(t, s, []byte(in)) {
			t.Errorf("fast path accepted %s", in)
		}
	}
}

// FuzzDecodeJSONFast checks that the fast path accepts only what
// encoding/json accepts, with the same document.
func FuzzDecodeJSONFast(f *testing.F) {
	for _, seed := range []string{
		`{"id":"d1","title":"Hello world","tag":["a","b"],"count":12,"delta":-3,"score":1.5,"blob":"AAE="}`,
		`{"title":"a\"b\\c\ud83d\ude00\ud800"}`, `{"count":1e3}`, `{"tag":[null]}`, `{}`, `{"delta":-0.0e5}`,
		`{"created":"2024-05-01T12:30:00Z","draft":[true,false]}`, `{"created":-1}`,
		`{"author":{"name":"Ann","id":3},"x":{"y":{"z":[{"w":1}]}},"author":[{"name":"Bob"},{}]}`,
		`{"nope":[[1,"x",{"a":[true,null]}],{"b":-0.5}],"zz":{"q":"é"},"title":"t"}`,
	} {
		f.Add([]byte(seed))
	}
	s := testSchema(f)
	ignoring := s.WithUnknownFields(IgnoreUnknown)
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeBoth(t, s, data)
		decodeBoth(t, ignoring, data)
	})
}

// BenchmarkDecodeJSON decodes realmix lines into documents, against
// encoding/json decoding them into a struct; the metric is MB/s of JSON.
func BenchmarkDecodeJSON(b *testing.B) {
	s := benchSchema(b)
	var lines [][]byte
	var size int64
	for _, r := range benchRecords(b) {
		line, err := json.Marshal(map[string]string{"id": r[0], "title": r[1], "text": r[2]})
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, line)
		size += int64(len(line))
	}
	b.Run("DecodeJSON", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, l := range lines {
				if _, err := s.DecodeJSON(l); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("JSONDecoder", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		dec := s.NewJSONDecoder()
		for b.Loop() {
			for _, l := range lines {
				if _, err := dec.Decode(l); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("encoding-json-struct", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, l := range lines {
				var d struct{ ID, Title, Text string }
				if err := json.Unmarshal(l, &d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("slow-path", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, l := range lines {
				if _, err := s.decodeJSONSlow(l); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// Schema.MarshalDocument writes dates and bools as a user writes them, and
// DecodeJSON reads them back to the same document.
func TestMarshalDocumentDatesAndBools(t *testing.T) {
	s := testSchema(t)
	d := new(Document).AddString("id", "x").AddDate("created", time.Date(2024, 5, 1, 10, 30, 0, 250e6, time.UTC)).
		AddI64("created", 0).AddI64("created", math.MaxInt64).AddBool("draft", true).AddBool("draft", false)
	data, err := s.MarshalDocument(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"x","created":["2024-05-01T10:30:00.25Z","1970-01-01T00:00:00Z",9223372036854775807],"draft":[true,false]}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	back, err := s.DecodeJSON(data)
	if err != nil || !reflect.DeepEqual(back, d) {
		t.Fatalf("decoded back %+v, %v; want %+v", back, err, d)
	}
}

// The string scanner steps 8 bytes at a time: put each kind of byte that
// ends a plain run (quote, escapes, control bytes, non-ASCII, invalid
// UTF-8 whole or cut short) at every offset of a load and across its end,
// and check the fast path against encoding/json there, then decode all the
// lines with one JSONDecoder and check that no document changed after.
func TestDecodeJSONFastStringsAtEveryOffset(t *testing.T) {
	s := testSchema(t)
	specials := []string{`\"`, `\\`, `\/`, `\n`, `\u00e9`, `\u0000`, `\ud83d\ude00`, `\ud800`, `\udc00\ud83d`, `\uD83D\uDE00`,
		"é", "中", "😀", "\x7f", "\u2028", "\xff", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\x80", "\x1f", "\t", "\x00"}
	var lines []string
	for pre := range 18 {
		for _, post := range []int{0, 1, 7, 9} {
			for _, sp := range specials {
				str := strings.Repeat("a", pre) + sp + strings.Repeat("B", post)
				lines = append(lines, `{"title":"`+str+`","tag":["`+str+`","`+sp+sp+`"],"id":"x"}`)
			}
		}
	}
	accepted := 0
	for _, line := range lines {
		if decodeBoth(t, s, []byte(line)) {
			accepted++
		}
	}
	if accepted < len(lines)/2 {
		t.Fatalf("the fast path took %d of %d lines", accepted, len(lines))
	}
	dec := s.NewJSONDecoder()
	docs := make([]*Document, len(lines))
	for i, line := range lines {
		docs[i], _ = dec.Decode([]byte(line))
	}
	for i, line := range lines {
		if want, _ := s.decodeJSONSlow([]byte(line)); !reflect.DeepEqual(docs[i], want) {
			t.Fatalf("%q: decoded %+v, want %+v", line, docs[i], want)
		}
	}
}

// Numbers at the edges of each numeric type, as encoding/json's path takes
// them.
func TestDecodeJSONFastNumbersAgree(t *testing.T) {
	s := testSchema(t)
	for _, num := range []string{"0", "-0", "-0.0", "0e0", "0E-5", "1e400", "-1e400", "1e-400", "0e400", "0.0e99999999999999999999",
		"18446744073709551615", "18446744073709551616", "1.8446744073709551615e19", "184467440737095516150e-1",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "-1",
		"1.5", "1.0", "10e-1", "100e-2", "1E+2", "1e+0", "123456789012345678901234567890e-10", "5e-324", "1.7976931348623157e308", "1.8e308", "00", "-", "+1", ".5", "1.", "1e", "1e+"} {
		for _, field := range []string{"count", "delta", "score", "created"} {
			decodeBoth(t, s, []byte(`{"`+field+`":`+num+`}`))
			decodeBoth(t, s, []byte(`{"`+field+`":[`+num+`,`+num+`]}`))
		}
	}
	for _, line := range []string{`{"count":1e400}`, `{"count":18446744073709551616}`, `{"count":-1}`, `{"delta":-9223372036854775809}`,
		`{"delta":9223372036854775808}`, `{"score":1e400}`, `{"score":-1.8e308}`, `{"created":1e400}`, `{"count":1.5}`} {
		if d, err := s.DecodeJSON([]byte(line)); err == nil {
			t.Errorf("%s: decoded %+v, want an error", line, d)
		}
	}
	d, err := s.DecodeJSON([]byte(`{"count":[1.8446744073709551615e19,-0],"delta":[-9223372036854775808,-0.0],"score":[-0,5e-324,1e-400]}`))
	want := new(Document).AddU64("count", math.MaxUint64).AddU64("count", 0).AddI64("delta", math.MinInt64).AddI64("delta", 0).
		AddF64("score", math.Copysign(0, -1)).AddF64("score", 5e-324).AddF64("score", 0)
	if err != nil || !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v, %v; want %+v", d, err, want)
	}
}
