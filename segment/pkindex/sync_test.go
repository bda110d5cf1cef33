package pkindex

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go/storage"
)

// fakeSource holds each segment's keys and counts the segments it is
// asked for.
type fakeSource struct {
	segs  map[string][][]byte
	asked map[string]int
}

var errNoSegment = errors.New("no such segment")

func newFakeSource() *fakeSource {
	return &fakeSource{segs: make(map[string][][]byte), asked: make(map[string]int)}
}

func (s *fakeSource) keys(id string, emit func([]byte)) error {
	s.asked[id]++
	keys, ok := s.segs[id]
	if !ok {
		return errNoSegment
	}
	for _, k := range keys {
		emit(k)
	}
	return nil
}

// askedFor returns the segments asked for since the last call, sorted.
func (s *fakeSource) askedFor() []string {
	out := slices.Sorted(maps.Keys(s.asked))
	clear(s.asked)
	return out
}

// add creates a segment of n new keys, tagged by tag.
func (s *fakeSource) add(rng *rand.Rand, id string, n int, tag byte) {
	s.segs[id] = randomKeys(rng, n, tag)
}

// merge creates segment id holding the keys of from, as a merge does.
func (s *fakeSource) merge(id string, from ...string) {
	var keys [][]byte
	for _, f := range from {
		keys = append(keys, s.segs[f]...)
	}
	s.segs[id] = keys
}

func (s *fakeSource) checkContains(t *testing.T, f *Filter, ids ...string) {
	t.Helper()
	for _, id := range ids {
		for _, k := range s.segs[id] {
			if !f.MayContain(k) {
				t.Fatalf("key %x of segment %s missing", k, id)
			}
		}
	}
}

// syncOK runs Sync and checks its outcome and the segments it read.
func syncOK(t *testing.T, dir storage.Directory, src *fakeSource, ids []string, want Outcome, wantAsked []string) *Filter {
	t.Helper()
	f, how, err := Sync(dir, ids, src.keys, nil)
	if err != nil {
		t.Fatalf("Sync(%v): %v", ids, err)
	}
	if how != want {
		t.Fatalf("Sync(%v) = %v, want %v", ids, how, want)
	}
	if got := src.askedFor(); !reflect.DeepEqual(got, wantAsked) && !(len(got) == 0 && len(wantAsked) == 0) {
		t.Fatalf("Sync(%v) read segments %v, want %v", ids, got, wantAsked)
	}
	src.checkContains(t, f, ids...)
	// What Sync returns is what the next Sync loads.
	loaded, err := Load(dir)
	if err != nil {
		t.Fatalf("Load after Sync: %v", err)
	}
	if !reflect.DeepEqual(loaded.Covers(), f.Covers()) {
		t.Fatalf("saved filter covers %v, returned one %v", loaded.Covers(), f.Covers())
	}
	return f
}

func TestSyncReusedExtendedRebuilt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := newFakeSource()
	for i, id := range []string{"s1", "s2", "s3", "s4", "s5"} {
		src.add(rng, id, 300, byte('a'+i))
	}
	dir := storage.NewMem()

	// No file: rebuilt from every segment.
	syncOK(t, dir, src, []string{"s1", "s2", "s3"}, Rebuilt, []string{"s1", "s2", "s3"})
	// Covers everything: nothing read.
	syncOK(t, dir, src, []string{"s1", "s2", "s3"}, Reused, nil)
	// Two new segments: only they are read.
	f := syncOK(t, dir, src, []string{"s1", "s2", "s3", "s4", "s5"}, Extended, []string{"s4", "s5"})
	if got := f.Covers(); !reflect.DeepEqual(got, []string{"s1", "s2", "s3", "s4", "s5"}) {
		t.Fatalf("Covers = %v", got)
	}
	// s1 and s2 merged into m1: only m1 is read, and s1, s2 stay covered.
	src.merge("m1", "s1", "s2")
	f = syncOK(t, dir, src, []string{"m1", "s3", "s4", "s5"}, Extended, []string{"m1"})
	if got := f.Covers(); !reflect.DeepEqual(got, []string{"m1", "s1", "s2", "s3", "s4", "s5"}) {
		t.Fatalf("Covers after a merge = %v, want the merged-away segments kept", got)
	}
	syncOK(t, dir, src, []string{"m1", "s3", "s4", "s5"}, Reused, nil)
	// A segment listed twice is read once.
	src.add(rng, "s6", 10, 'f')
	syncOK(t, dir, src, []string{"m1", "s3", "s4", "s5", "s6", "s6"}, Extended, []string{"s6"})
}

func TestSyncRebuildsWhenStale(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// The documented rule: rebuild when stale > staleSlack + staleFactor*live.
	// With 2 live segments, limit stale IDs are kept and one more rebuilds.
	const live = 2
	limit := staleSlack + staleFactor*live
	for _, stale := range []int{limit, limit + 1} {
		t.Run(fmt.Sprint(stale), func(t *testing.T) {
			src := newFakeSource()
			var old []string
			for i := range stale {
				id := fmt.Sprintf("old%03d", i)
				src.add(rng, id, 5, 'a')
				old = append(old, id)
			}
			dir := storage.NewMem()
			syncOK(t, dir, src, old, Rebuilt, slices.Sorted(slices.Values(old)))
			// Everything merged into two new segments.
			src.merge("new1", old[:stale/2]...)
			src.merge("new2", old[stale/2:]...)
			ids := []string{"new1", "new2"}
			if stale <= limit {
				f := syncOK(t, dir, src, ids, Extended, ids)
				if len(f.Covers()) != stale+live {
					t.Fatalf("covers %d segments, want %d", len(f.Covers()), stale+live)
				}
				return
			}
			f := syncOK(t, dir, src, ids, Rebuilt, ids)
			if !reflect.DeepEqual(f.Covers(), ids) {
				t.Fatalf("rebuilt filter covers %v, want exactly %v", f.Covers(), ids)
			}
		})
	}
}

func TestSyncRebuildsOverCapacity(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	src := newFakeSource()
	src.add(rng, "small", 10, 'a')
	src.add(rng, "big", 5000, 'b')
	dir := storage.NewMem()
	f := syncOK(t, dir, src, []string{"small"}, Rebuilt, []string{"small"})
	if st := f.Stats(); st.Capacity != minCapacity {
		t.Fatalf("filter for 10 keys: capacity %d, want the minimum %d", st.Capacity, minCapacity)
	}
	// 5000 new keys overflow it while extending: rebuilt into one layer
	// sized for all keys, with 2x headroom.
	f = syncOK(t, dir, src, []string{"small", "big"}, Rebuilt, []string{"big", "small"})
	if st := f.Stats(); st.Layers != 1 || st.Capacity != 2*5010 {
		t.Fatalf("after rebuild: %+v, want 1 layer of capacity %d", st, 2*5010)
	}

	// A saved filter that grew past its capacity is rebuilt on load.
	g := New(0)
	src.add(rng, "grown", 3000, 'c')
	_ = src.keys("grown", g.Add)
	g.MarkCovered("grown")
	if g.Stats().Layers < 2 {
		t.Fatal("setup: filter did not grow")
	}
	if err := Save(dir, g); err != nil {
		t.Fatal(err)
	}
	src.askedFor()
	syncOK(t, dir, src, []string{"grown"}, Rebuilt, []string{"grown"})
}

// logBuffer returns a logger writing text to a buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// TestSyncRebuildsCorrupt flips every byte of a small saved file and
// truncates it at every length: Sync rebuilds, says why, and saves a good
// file.
func TestSyncRebuildsCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	src := newFakeSource()
	src.add(rng, "s1", 20, 'a')
	src.add(rng, "s2", 20, 'b')
	ids := []string{"s1", "s2"}
	dir := storage.NewMem()
	syncOK(t, dir, src, ids, Rebuilt, ids)
	data, err := storage.ReadAll(dir, FileName)
	if err != nil {
		t.Fatal(err)
	}
	var damaged [][]byte
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0xff
		damaged = append(damaged, bad)
	}
	for n := range len(data) {
		damaged = append(damaged, data[:n])
	}
	for i, bad := range damaged {
		if err := dir.WriteAtomic(FileName, bad); err != nil {
			t.Fatal(err)
		}
		logger, logs := logBuffer()
		f, how, err := Sync(dir, ids, src.keys, logger)
		if err != nil || how != Rebuilt {
			t.Fatalf("damaged file %d: Sync = %v, %v; want Rebuilt", i, how, err)
		}
		src.askedFor()
		src.checkContains(t, f, ids...)
		if !strings.Contains(logs.String(), "corrupt file pk_bloom.bin") {
			t.Fatalf("damaged file %d: the log does not say the file is corrupt:\n%s", i, logs)
		}
		if _, err := Load(dir); err != nil {
			t.Fatalf("damaged file %d: Sync did not save a good file: %v", i, err)
		}
	}
}

func TestSyncRebuildsUnsupported(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	src := newFakeSource()
	src.add(rng, "s1", 20, 'a')
	dir := storage.NewMem()
	p := validLayout()
	p.canary++
	writeChecksummed(t, dir, p.bytes(), 1)
	syncOK(t, dir, src, []string{"s1"}, Rebuilt, []string{"s1"})
}

func TestSyncKeySourceError(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	src := newFakeSource()
	src.add(rng, "s1", 20, 'a')
	dir := storage.NewMem()
	// Rebuilding.
	_, _, err := Sync(dir, []string{"s1", "gone"}, src.keys, nil)
	if !errors.Is(err, errNoSegment) || !strings.Contains(err.Error(), "segment gone") {
		t.Fatalf("Sync with a failing segment: %v, want the source's error naming the segment", err)
	}
	if _, err := Load(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed Sync saved a file: %v", err)
	}
	// Extending: the filter stays usable and does not cover the segment.
	f, _, err := Refresh(nil, []string{"s1"}, src.keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := Refresh(f, []string{"s1", "gone"}, src.keys, nil)
	if g != nil || !errors.Is(err, errNoSegment) {
		t.Fatalf("Refresh with a failing segment: %v, %v", g, err)
	}
	if got := f.Covers(); !reflect.DeepEqual(got, []string{"s1"}) {
		t.Fatalf("after a failed extension the filter covers %v, want [s1]", got)
	}
	src.checkContains(t, f, "s1")
}

// TestSyncSaveFails: the file is a cache, so a failed save is logged and
// the (correct) filter returned.
func TestSyncSaveFails(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	src := newFakeSource()
	src.add(rng, "s1", 20, 'a')
	dir := storage.NewFaulty(1)
	dir.FailAfter(0)
	logger, logs := logBuffer()
	f, how, err := Sync(dir, []string{"s1"}, src.keys, logger)
	if err != nil || how != Rebuilt {
		t.Fatalf("Sync = %v, %v; want Rebuilt, nil", how, err)
	}
	src.checkContains(t, f, "s1")
	if !strings.Contains(logs.String(), "could not save") || !strings.Contains(logs.String(), storage.ErrInjected.Error()) {
		t.Fatalf("the log does not report the failed save:\n%s", logs)
	}
	// Once the directory works again, the next Sync rebuilds and saves.
	dir.FailAfter(-1)
	src.askedFor()
	syncOK(t, dir, src, []string{"s1"}, Rebuilt, []string{"s1"})
	syncOK(t, dir, src, []string{"s1"}, Reused, nil)
}

func TestRefreshInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	src := newFakeSource()
	src.add(rng, "s1", 20, 'a')
	src.add(rng, "s2", 20, 'b')
	f, how, err := Refresh(nil, []string{"s1"}, src.keys, nil)
	if err != nil || how != Rebuilt {
		t.Fatalf("Refresh(nil) = %v, %v", how, err)
	}
	g, how, err := Refresh(f, []string{"s1", "s2"}, src.keys, nil)
	if err != nil || how != Extended || g != f {
		t.Fatalf("Refresh = %p, %v, %v; want the same filter (%p) extended", g, how, err, f)
	}
	src.checkContains(t, f, "s1", "s2")
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Reused: "reused", Extended: "extended", Rebuilt: "rebuilt", 7: "Outcome(7)"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), got, want)
		}
	}
}
