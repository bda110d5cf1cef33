package main

import (
	"strings"
	"testing"
)

func TestPresidentName(t *testing.T) {
	for slug, want := range map[string]string{
		"1962_john_f_kennedy_d":    "John F. Kennedy",
		"1897_william_mc_kinley_r": "William McKinley",
		"1790_george_washington_n": "George Washington",
		"1837_martin_van_buren_d":  "Martin Van Buren",
		"2021_joseph_r_biden_d":    "Joseph R. Biden",
		"1865_andrew_johnson_nu":   "Andrew Johnson",
	} {
		if got := presidentName(presidentSlug(slug)); got != want {
			t.Errorf("%s: %q, want %q", slug, got, want)
		}
	}
}

func TestSplitSentences(t *testing.T) {
	got := splitSentences("Mr. Speaker, Mr. President: the U. S. Army grew. Did it?  Yes!\n It did.")
	want := []string{"Mr. Speaker, Mr. President: the U. S. Army grew.", "Did it?", "Yes!", "It did."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// Passages end at sentence boundaries, keep every sentence once, in order,
// and none is much shorter than the target but the last.
func TestSpeechPassages(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 5000; i++ {
		b.WriteString("This is sentence number ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(". ")
	}
	text := strings.TrimSpace(b.String())
	docs := speechPassages(speech{year: 1900, slug: "1900_william_mc_kinley_r", text: text})
	var joined []string
	for i, d := range docs {
		if !strings.HasSuffix(d.Text, ".") {
			t.Errorf("passage %d does not end a sentence: %q", i, d.Text[len(d.Text)-10:])
		}
		if i < len(docs)-1 && len(d.Text) < passageTarget {
			t.Errorf("passage %d is %d bytes, under the target", i, len(d.Text))
		}
		joined = append(joined, d.Text)
	}
	if strings.Join(joined, " ") != text {
		t.Fatal("passages do not add up to the speech")
	}
	if docs[0].ID != "sotu:1900_william_mc_kinley_r/1" || docs[0].Year != 1900 ||
		!strings.HasPrefix(docs[0].Title, "William McKinley, State of the Union 1900 (1/") {
		t.Fatalf("first passage: %+v", docs[0])
	}
}
