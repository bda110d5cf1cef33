//go:build linux

package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/internal/smaps"
	"github.com/hermes-search/hermes-go/storage"
)

// mappedResident returns how many bytes of this process's mappings of the
// files under dir are resident.
func mappedResident(t *testing.T, dir string) int64 {
	t.Helper()
	// A path with a space is not one of dir's segment files (a file
	// deleted while mapped: " (deleted)").
	n, err := smaps.Resident(func(p string) bool { return !strings.Contains(p, " ") && filepath.Dir(p) == dir })
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// releaseFixture builds sources of several MiB of mapped files in a file
// system directory, cheaply: documents with long random primary keys,
// which make large dictionaries and key columns for the few terms it
// takes to build and merge them, and short texts of common and rare words
// (with positions), and a fast column.
func releaseFixture(t *testing.T) (*Schema, *storage.FSDirectory, []source) {
	t.Helper()
	s, err := NewSchema(
		Field{Name: "id", Type: TypeKeyword, Indexed: true, Stored: true, Primary: true},
		Field{Name: "text", Type: TypeText, Indexed: true, Positions: true},
		Field{Name: "n", Type: TypeU64, Fast: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(13, 13))
	letters := func(sb *strings.Builder, n int) {
		for range n {
			sb.WriteByte(byte('a' + rng.IntN(26)))
		}
	}
	var srcs []source
	for part := range releaseFixtureSources {
		docs := make([]*Document, releaseFixtureDocs)
		for i := range docs {
			var id, text strings.Builder
			fmt.Fprintf(&id, "p%d-%d-", part, i)
			letters(&id, 500)
			for range 12 {
				if rng.IntN(4) == 0 {
					letters(&text, 24) // a rare word
				} else {
					fmt.Fprintf(&text, "c%d", rng.IntN(100)) // a common one
				}
				text.WriteByte(' ')
			}
			docs[i] = new(Document).AddString("id", id.String()).AddString("text", text.String()).AddU64("n", rng.Uint64())
		}
		srcs = append(srcs, openSource(t, s, dir, docs, 0.05, rng))
	}
	return s, dir, srcs
}

// releaseFixtureDocs is the number of documents of each source.
const releaseFixtureDocs = 2000

// releaseFixtureSources is the number of sources: one (a merge that drops
// deleted documents) keeps the test short, and the pages the kernel maps
// around each read, which add to what the merge reads, few.
const releaseFixtureSources = 1

// mappedSize is the size of the sources' files that Open maps.
func mappedSize(srcs []source) int64 {
	var total int64
	for _, src := range srcs {
		for _, of := range src.r.core.files {
			if of.data != nil {
				total += int64(len(of.data))
			}
		}
	}
	return total
}

// Open reads a few bytes in several places of each mapped file, and the
// system maps 64 KiB around each: Open releases them, so an open segment
// costs no resident memory until it is searched.
func TestOpenLeavesNothingResident(t *testing.T) {
	s := corpusSchema(t)
	dir, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id, _ := buildSegment(t, s, mergeDocs(t), dir)
	r, err := Open(dir, id, s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := mappedResident(t, dir.Path()); n != 0 {
		t.Errorf("%d bytes of the segment's files resident after Open, want none", n)
	}
	if df, err := r.DocFreq("text", []byte("the")); err != nil || df == 0 {
		t.Fatalf("DocFreq(text:the) = %d, %v", df, err)
	}
	if n := mappedResident(t, dir.Path()); n == 0 {
		t.Error("nothing resident after a lookup: the measure does not tell")
	}
}

// residentPacer samples the resident pages of the sources' mappings at
// every 4th call of a merge's pacer (reading smaps takes a while).
type residentPacer struct {
	t     *testing.T
	dir   string
	calls int
	peak  int64
}

func (p *residentPacer) Pace(context.Context, time.Duration) error {
	p.calls++
	if p.calls%4 == 0 {
		p.peak = max(p.peak, mappedResident(p.t, p.dir))
	}
	return nil
}

// A merge releases its sources' pages behind itself, and searches of the
// sources meanwhile read what they read before. Each merge writes the
// files of a merge that releases nothing until the end of each part.
func TestMergeReleasesSourcePages(t *testing.T) {
	s, dir, srcs := releaseFixture(t)
	defer func(v int64) { mergeReleaseEvery = v }(mergeReleaseEvery)
	mergeReleaseEvery = math.MaxInt64
	control := &residentPacer{t: t, dir: dir.Path()}
	want, err := Merge(context.Background(), dir, s, NewID(), readers(srcs), PacedBy(control))
	if err != nil {
		t.Fatal(err)
	}
	sameFiles := func(t *testing.T, got *Meta) {
		t.Helper()
		for _, k := range allKinds {
			if k == kindMeta {
				continue // it names the segment
			}
			a, errA := storage.ReadAll(dir, fileName(got.ID, k))
			b, errB := storage.ReadAll(dir, fileName(want.ID, k))
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				t.Errorf("%s: %d bytes (%v), %d bytes (%v) from a merge that releases nothing", k.ext, len(a), errA, len(b), errB)
			}
		}
	}
	t.Run("Resident", func(t *testing.T) { testMergeResident(t, s, dir, srcs, control.peak, sameFiles) })
	t.Run("ConcurrentSearches", func(t *testing.T) { testMergeReleaseSearches(t, s, dir, srcs, sameFiles) })
}

// At no point of a merge of sources whose mapped files are a few MiB do
// more than 512 KiB of them stay resident (64 KiB read between releases,
// and the pages the kernel maps around each read: 64 KiB in each file
// being read), and none after it. The control merge, releasing
// only at the end of each part, shows the measure sees them.
func testMergeResident(t *testing.T, s *Schema, dir *storage.FSDirectory, srcs []source, controlPeak int64, sameFiles func(*testing.T, *Meta)) {
	size := mappedSize(srcs)
	const bound = 512 << 10
	if size < 2*bound || controlPeak < 2*bound {
		t.Fatalf("the sources map %d bytes, of which at most %d were seen resident in a merge that does not release them: too few to tell a bound of %d", size, controlPeak, bound)
	}
	before := mappedResident(t, dir.Path())
	mergeReleaseEvery = 64 << 10
	p := &residentPacer{t: t, dir: dir.Path()}
	meta, err := Merge(context.Background(), dir, s, NewID(), readers(srcs), PacedBy(p))
	if err != nil {
		t.Fatal(err)
	}
	after := mappedResident(t, dir.Path())
	t.Logf("peak %d resident bytes of the sources' %d mapped (%d without releases), %d after the merge, %d before", p.peak, size, controlPeak, after, before)
	if p.peak > bound {
		t.Errorf("%d bytes of the sources were resident during the merge, want at most %d", p.peak, bound)
	}
	if after > before {
		t.Errorf("%d bytes of the sources stay resident after the merge, %d before it", after, before)
	}
	sameFiles(t, meta)
}

// searchTerm appends to out what a search of term gives on r: its
// documents, frequencies and positions, their norms, fast values and keys.
func searchTerm(r *Reader, term string, out []uint64) ([]uint64, error) {
	p, err := r.Postings("text", []byte(term))
	if err != nil || p == nil {
		return out, err
	}
	defer p.Release()
	n, err := r.Fast("n")
	if err != nil {
		return out, err
	}
	var pos []uint32
	for doc := p.Doc(); doc != NoMoreDocs; doc = p.Next() {
		v, _ := n.U64(doc)
		key, err := r.Key(doc)
		if err != nil {
			return out, err
		}
		out = append(out, uint64(doc), uint64(p.Freq()), uint64(r.FieldNorm("text", doc)), v, uint64(len(key)), binary.LittleEndian.Uint64(key[len(key)-8:]))
		for _, x := range p.Positions(pos[:0]) {
			out = append(out, uint64(x))
		}
	}
	return out, p.Err()
}

// Searches of the sources while a merge releases their pages (every 16 KiB
// read) return what they returned before: released pages are read again
// from the file. One search runs at every 4th pace of the merge, between
// its releases, so that some of its reads come after a release and before
// the merge's next; another searches all along. The merged segment is the
// one a merge that releases nothing writes.
func testMergeReleaseSearches(t *testing.T, s *Schema, dir *storage.FSDirectory, srcs []source, sameFiles func(*testing.T, *Meta)) {
	mergeReleaseEvery = 16 << 10
	var terms []string
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 8 {
		terms = append(terms, fmt.Sprintf("c%d", i*12))
		d := srcs[rng.IntN(len(srcs))].docs[rng.IntN(releaseFixtureDocs)]
		words := strings.Fields(d.Values[1].Str)
		terms = append(terms, words[rng.IntN(len(words))]) // most likely a rare word
	}
	search := func() ([]uint64, error) {
		var out []uint64
		for _, src := range srcs {
			for _, term := range terms {
				var err error
				if out, err = searchTerm(src.r, term, append(out, math.MaxUint64)); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
	want, err := search()
	if err != nil {
		t.Fatal(err)
	}
	check := func() error {
		got, err := search()
		if err == nil && !slices.Equal(got, want) {
			err = fmt.Errorf("a search during the merge returned %d values, other than the %d before it", len(got), len(want))
		}
		return err
	}
	p := &searchingPacer{search: check}
	var done atomic.Bool
	searched := make(chan error, 1)
	go func() {
		for first := true; first || !done.Load(); first = false {
			if err := check(); err != nil {
				searched <- err
				return
			}
		}
		searched <- nil
	}()
	meta, err := Merge(context.Background(), dir, s, NewID(), readers(srcs), PacedBy(p))
	done.Store(true)
	if err := <-searched; err != nil {
		t.Error(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if p.err != nil {
		t.Error(p.err)
	}
	if p.searches < 3 {
		t.Fatalf("%d searches between the merge's releases: too few to tell", p.searches)
	}
	sameFiles(t, meta)
}

// searchingPacer searches at every 4th pace of a merge, until a search
// fails.
type searchingPacer struct {
	search          func() error
	calls, searches int
	err             error
}

func (p *searchingPacer) Pace(context.Context, time.Duration) error {
	p.calls++
	if p.calls%4 == 0 && p.err == nil {
		p.searches++
		p.err = p.search()
	}
	return nil
}
