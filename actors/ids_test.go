package actors

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/storage"
)

// A writer's segment ids are never dated before its start, even when the
// wall clock is behind it (a clock step back): orphan cleanup, which only
// takes segments older than the start, must never take the writer's own.
func TestSegmentIDsNeverPredateTheWritersStart(t *testing.T) {
	for _, ahead := range []time.Duration{0, time.Millisecond, time.Hour} {
		started := time.Now().Add(ahead).Truncate(time.Millisecond)
		cfg := &Config{Started: started}
		if id := cfg.newSegmentID(); id.Time().Before(started) {
			t.Fatalf("start %v ahead of the clock: id dated %v, before the start %v", ahead, id.Time(), started)
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
