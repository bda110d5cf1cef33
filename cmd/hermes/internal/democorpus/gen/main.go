// Command gen regenerates the demo corpus embedded in the hermes binary
// (../demo.jsonl.gz) from the project's benchmark corpus, realmix.jsonl.gz.
//
// It keeps only the public-domain and permissively licensed parts:
//
//   - the first State of the Union address of every president (works of the
//     US government, public domain), cut into passages of about 1,200
//     characters at sentence boundaries, so that a hit points at a passage
//     rather than at a 50 KB speech;
//   - every 25th WordNet 3.0 gloss, in corpus order (WordNet licence, see
//     ../LICENSE-WORDNET).
//
// The output is deterministic: the same input gives the same bytes. Run it
// from the repository root:
//
//	go run ./cmd/hermes/internal/democorpus/gen \
//	    -input ../shared/corpus/realmix.jsonl.gz \
//	    -out cmd/hermes/internal/democorpus/demo.jsonl.gz
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// passageTarget is the length, in bytes, after which a passage is closed at
// the next sentence boundary.
const passageTarget = 1200

// glossStride keeps one WordNet gloss in this many.
const glossStride = 25

type source struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// demoDoc is one line of the demo corpus. Year is set for speeches only.
type demoDoc struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
	Year  int    `json:"year,omitempty"`
}

type speech struct {
	year int
	slug string // the id without "sotu:", e.g. 1962_john_f_kennedy_d
	text string
}

func main() {
	input := flag.String("input", "../shared/corpus/realmix.jsonl.gz", "the realmix corpus (JSONL, gzip)")
	out := flag.String("out", "cmd/hermes/internal/democorpus/demo.jsonl.gz", "where to write the demo corpus")
	flag.Parse()
	if err := run(*input, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(input, out string) error {
	speeches, glosses, err := readSources(input)
	if err != nil {
		return err
	}
	var docs []demoDoc
	for _, s := range firstPerPresident(speeches) {
		docs = append(docs, speechPassages(s)...)
	}
	docs = append(docs, glosses...)

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return err
	}
	bw := bufio.NewWriter(zw)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range docs {
		if err := enc.Encode(&docs[i]); err != nil {
			f.Close()
			return err
		}
	}
	err = errors.Join(bw.Flush(), zw.Close(), f.Close())
	if err == nil {
		fmt.Fprintf(os.Stderr, "gen: wrote %d documents to %s\n", len(docs), out)
	}
	return err
}

// readSources returns every State of the Union address and one WordNet gloss
// in glossStride, in the order of the input.
func readSources(path string) ([]speech, []demoDoc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	br := bufio.NewReaderSize(zr, 1<<20)
	var speeches []speech
	var glosses []demoDoc
	seenGlosses := 0
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			var s source
			if err := json.Unmarshal(b, &s); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			switch {
			case strings.HasPrefix(s.ID, "sotu:"):
				slug := strings.TrimPrefix(s.ID, "sotu:")
				year, err := strconv.Atoi(slug[:min(4, len(slug))])
				if err != nil {
					return nil, nil, fmt.Errorf("%s:%d: speech id %q does not start with a year", path, line, s.ID)
				}
				speeches = append(speeches, speech{year: year, slug: slug, text: s.Text})
			case strings.HasPrefix(s.ID, "wordnet:"):
				if seenGlosses%glossStride == 0 {
					glosses = append(glosses, demoDoc{ID: s.ID, Title: s.Title, Text: s.Text})
				}
				seenGlosses++
			}
		}
		if err == io.EOF {
			return speeches, glosses, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// firstPerPresident keeps the earliest address of each president, in
// chronological order.
func firstPerPresident(all []speech) []speech {
	sort.Slice(all, func(i, j int) bool {
		if all[i].year != all[j].year {
			return all[i].year < all[j].year
		}
		return all[i].slug < all[j].slug
	})
	seen := map[string]bool{}
	var out []speech
	for _, s := range all {
		name := presidentSlug(s.slug)
		if !seen[name] {
			seen[name] = true
			out = append(out, s)
		}
	}
	return out
}

// presidentSlug drops the year and the party suffix:
// "1962_john_f_kennedy_d" -> "john_f_kennedy".
func presidentSlug(slug string) string {
	parts := strings.Split(slug, "_")
	if len(parts) < 3 {
		return slug
	}
	return strings.Join(parts[1:len(parts)-1], "_")
}

// presidentName turns "john_f_kennedy" into "John F. Kennedy" and
// "william_mc_kinley" into "William McKinley".
func presidentName(slug string) string {
	words := strings.Split(slug, "_")
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "mc" && i+1 < len(words) {
			out = append(out, "Mc"+capitalize(words[i+1]))
			i++
			continue
		}
		w = capitalize(w)
		if len(w) == 1 {
			w += "."
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func capitalize(w string) string {
	if w == "" {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// speechPassages cuts a speech into passages of about passageTarget bytes,
// ending at sentence boundaries.
func speechPassages(s speech) []demoDoc {
	sentences := splitSentences(s.text)
	var chunks []string
	var cur strings.Builder
	for _, sent := range sentences {
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(sent)
		if cur.Len() >= passageTarget {
			chunks = append(chunks, cur.String())
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		// A short tail joins the previous passage rather than standing alone.
		if len(chunks) > 0 && cur.Len() < passageTarget/3 {
			chunks[len(chunks)-1] += " " + cur.String()
		} else {
			chunks = append(chunks, cur.String())
		}
	}
	name := presidentName(presidentSlug(s.slug))
	docs := make([]demoDoc, len(chunks))
	for i, c := range chunks {
		docs[i] = demoDoc{
			ID:    fmt.Sprintf("sotu:%s/%d", s.slug, i+1),
			Title: fmt.Sprintf("%s, State of the Union %d (%d/%d)", name, s.year, i+1, len(chunks)),
			Text:  c,
			Year:  s.year,
		}
	}
	return docs
}

// splitSentences splits at '.', '?' or '!' followed by a space, except after
// a title ("Mr.") or an initial ("F."), which rarely end a sentence.
func splitSentences(text string) []string {
	text = strings.Join(strings.Fields(text), " ")
	var out []string
	start := 0
	for i := 0; i+1 < len(text); i++ {
		c := text[i]
		if (c != '.' && c != '?' && c != '!') || text[i+1] != ' ' {
			continue
		}
		if c == '.' && isAbbreviation(text[start:i]) {
			continue
		}
		out = append(out, text[start:i+1])
		start = i + 2
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

var titles = map[string]bool{"Mr": true, "Mrs": true, "Ms": true, "Dr": true, "St": true, "Gen": true, "Jr": true, "Sr": true, "No": true, "Messrs": true, "Hon": true}

// isAbbreviation reports whether the word that ends before a period is a
// title or a single capital letter.
func isAbbreviation(before string) bool {
	word := before[strings.LastIndexByte(before, ' ')+1:]
	word = strings.TrimLeft(word, "(\"'")
	if titles[word] {
		return true
	}
	r := []rune(word)
	return len(r) == 1 && unicode.IsUpper(r[0])
}
