package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
)

func TestParseBytes(t *testing.T) {
	good := map[string]int64{
		"256MiB": 256 << 20, "1GiB": 1 << 30, "1.5GiB": 3 << 29, "500MB": 500e6, "64k": 64 << 10,
		"2G": 2 << 30, "4096": 4096, " 8 MiB ": 8 << 20, "100B": 100, "1kb": 1000,
	}
	for in, want := range good {
		got, err := parseBytes(in)
		if err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1MiB", "0", "12XB", "lots", "1e30GiB"} {
		if n, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, n)
		}
	}
}

func TestFlagsInterleaved(t *testing.T) {
	io := stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}}
	cases := []struct {
		args    []string
		k       int
		json    bool
		wantPos []string
	}{
		{[]string{"-k", "5", "civil", "war"}, 5, false, []string{"civil", "war"}},
		{[]string{"civil", "-k", "5", "war", "--json"}, 5, true, []string{"civil", "war"}},
		{[]string{"--json", "--", "-k", "5"}, 10, true, []string{"-k", "5"}},
		{[]string{"a", "--", "--json"}, 10, false, []string{"a", "--json"}},
	}
	for _, c := range cases {
		fl := newFlags("search", "s", "a", io)
		k := fl.Int("k", 10, "")
		j := fl.Bool("json", false, "")
		pos, err := fl.parse(c.args)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if *k != c.k || *j != c.json || strings.Join(pos, "|") != strings.Join(c.wantPos, "|") {
			t.Errorf("%v: k=%d json=%v pos=%q; want k=%d json=%v pos=%q", c.args, *k, *j, pos, c.k, c.json, c.wantPos)
		}
	}
}

func TestFlagsHelpAndErrors(t *testing.T) {
	var out, errb bytes.Buffer
	io := stdio{out: &out, err: &errb}
	fl := newFlags("stats", "hermes stats --index DIR", "Shows things.", io)
	fl.String("index", "", "the index `directory`")
	_, err := fl.parse([]string{"--help"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: err = %v", err)
	}
	if !strings.Contains(out.String(), "Usage: hermes stats --index DIR") || !strings.Contains(out.String(), "-index directory") {
		t.Errorf("--help printed %q", out.String())
	}
	if report(&errb, "hermes stats", err) != exitOK || errb.Len() != 0 {
		t.Errorf("--help is not a clean exit: %q", errb.String())
	}

	fl = newFlags("stats", "s", "a", io)
	fl.Int("k", 1, "")
	_, err = fl.parse([]string{"-k", "many"})
	errb.Reset()
	if code := report(&errb, "hermes stats", err); code != exitUsage {
		t.Errorf("bad value: exit %d, want %d", code, exitUsage)
	}
	if msg := errb.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "many") || !strings.Contains(msg, "--help") {
		t.Errorf("bad value: message %q, want one line naming the value and --help", msg)
	}
}

func TestReportExitCodes(t *testing.T) {
	var w bytes.Buffer
	cases := []struct {
		err  error
		code int
	}{
		{nil, exitOK},
		{errors.New("disk on fire"), exitFailure},
		{usagef("no"), exitUsage},
		{errInterrupted, exitInterrupted},
		{errReported, exitFailure},
	}
	for _, c := range cases {
		if got := report(&w, "hermes x", c.err); got != c.code {
			t.Errorf("report(%v) = %d, want %d", c.err, got, c.code)
		}
	}
	w.Reset()
	report(&w, "hermes x", errors.New("a\nmulti-line\n  problem"))
	if w.String() != "hermes x: a multi-line problem\n" {
		t.Errorf("multi-line error printed as %q", w.String())
	}
}

func TestRunUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, stdio{out: &out, err: &errb}); code != exitUsage {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), `unknown command "serve"`) {
		t.Fatalf("stderr %q", errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"help"}, stdio{out: &out, err: &errb}); code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), "  "+c.name+" ") {
			t.Errorf("help does not list %s", c.name)
		}
	}
}

func TestFormatCount(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 265441: "265,441", -1234567: "-1,234,567"} {
		if got := formatCount(in); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", in, got, want)
		}
	}
}

// A snippet is the text's start, white space collapsed, cut at a word
// boundary and marked as cut; a short text comes whole.
func TestSnippet(t *testing.T) {
	long := strings.Repeat("filler words here. ", 30)
	got := snippet(long, 100)
	if len(got) > 100+len("…") || !strings.HasSuffix(got, "here.…") && !strings.HasSuffix(got, "words…") && !strings.HasSuffix(got, "filler…") {
		t.Errorf("snippet %q is not cut at a word boundary within 100 bytes and marked", got)
	}
	if short := "  a  short\ntext "; snippet(short, 100) != "a short text" {
		t.Errorf("short text: %q", snippet(short, 100))
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/idx": "/tmp/idx", "my index": "'my index'", "it's": `'it'\''s'`, "": "''", "a*": "'a*'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

// JSON hits: id and score first, every stored field after, and a stored
// field that would collide with them renamed rather than lost.
func TestPrintJSON(t *testing.T) {
	schema, err := segment.NewSchema(
		segment.Field{Name: "key", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true},
		segment.Field{Name: "score", Type: segment.TypeF64, Stored: true, Fast: true},
		segment.Field{Name: "id", Type: segment.TypeText, Indexed: true, Stored: true},
		segment.Field{Name: "tags", Type: segment.TypeText, Indexed: true, Stored: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	doc := (&segment.Document{}).AddString("key", "k1").AddF64("score", 0.5).AddString("id", "other").
		AddString("tags", "a").AddString("tags", "b")
	var buf bytes.Buffer
	p := hitPrinter{schema: schema}
	key := segment.FieldValue{Field: "key", Kind: segment.KindString, Str: "k1"}
	if err := p.printJSON(&buf, []hermes.Hit{{Score: 2.5, Key: key}}, []*segment.Document{doc}); err != nil {
		t.Fatal(err)
	}
	want := `{"id":"k1","score":2.5,"stored.score":0.5,"stored.id":"other","tags":["a","b"]}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
}
