package actors

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/storage"
)

// A writer's segment ids are never dated before its start, even when the
// wall clock is behind it (a clock step back), and each is in the journal
// before it is handed out.
func TestSegmentIDsAreRecordedAndNeverPredateTheWritersStart(t *testing.T) {
	for _, ahead := range []time.Duration{0, time.Millisecond, time.Hour} {
		dir := storage.NewMem()
		started := time.Now().Add(ahead).Truncate(time.Millisecond)
		ids, err := NewSegmentIDs(dir, started, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		cfg := &Config{IDs: ids}
		for range idBlock + 1 {
			id, err := cfg.newSegmentID()
			if err != nil {
				t.Fatal(err)
			}
			if id.Time().Before(started) {
				t.Fatalf("start %v ahead of the clock: id dated %v, before the start %v", ahead, id.Time(), started)
			}
			recorded, err := storage.ReadSegmentIDs(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(recorded, id.String()) || !ids.Issued(id.String()) {
				t.Fatalf("id %s handed out before the journal recorded it", id)
			}
		}
	}
}

// An orphan cleanup between two ids of one journal block (as the one a
// writer runs when it opens, once its workers took their first ids) must not
// drop from the journal the ids of the block not handed out yet: each id is
// still in the journal when it is handed out, so a crash before its segment
// is committed leaves files the next writer's cleanup knows as this index's.
func TestSegmentIDsPruneKeepsTheIDsNotHandedOutYet(t *testing.T) {
	dir := storage.NewMem()
	ids, err := NewSegmentIDs(dir, time.Now(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.New(); err != nil {
		t.Fatal(err)
	}
	// No files of any id exist: cleanup keeps nothing but what is in use.
	if err := ids.Prune(func(string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	for range idBlock - 1 {
		id, err := ids.New()
		if err != nil {
			t.Fatal(err)
		}
		recorded, err := storage.ReadSegmentIDs(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(recorded, id.String()) || !ids.Recorded(id.String()) {
			t.Fatalf("id %s handed out after a cleanup, but the journal no longer records it", id)
		}
	}
}

// Errors are classified into the codes that carry them across actors.
func TestErrorCodes(t *testing.T) {
	for err, want := range map[error]messages.ErrorCode{
		fmt.Errorf("write x: %w", storage.ErrDiskFull): messages.ErrorCode_ERROR_DISK_FULL,
		fmt.Errorf("read x: %w", storage.ErrCorrupt):   messages.ErrorCode_ERROR_CORRUPT,
		errors.New("other"):                            messages.ErrorCode_ERROR_NONE,
	} {
		if got := errorCode(err); got != want {
			t.Errorf("errorCode(%v) = %v, want %v", err, got, want)
		}
	}
}
