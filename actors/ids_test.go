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
