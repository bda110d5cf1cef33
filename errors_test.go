package hermes

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/storage"
)

// An error that crossed actors as a code is the same errors.Is value as
// the local one, with the text it had.
func TestCodedErrorsKeepTheirIdentity(t *testing.T) {
	for code, want := range map[messages.ErrorCode]error{
		messages.ErrorCode_ERROR_DISK_FULL: storage.ErrDiskFull,
		messages.ErrorCode_ERROR_CORRUPT:   storage.ErrCorrupt,
		messages.ErrorCode_ERROR_CLOSED:    ErrClosed,
		messages.ErrorCode_ERROR_BUSY:      ErrCommitInProgress,
	} {
		err := fmt.Errorf("%w: more", codedError(code, "write seg.store: "+want.Error()))
		if !errors.Is(err, want) || err.Error() != "write seg.store: "+want.Error()+": more" {
			t.Errorf("code %v: %q does not carry %v", code, err, want)
		}
	}
	if err := codedError(messages.ErrorCode_ERROR_NONE, "boom"); errors.Is(err, storage.ErrDiskFull) || err.Error() != "boom" {
		t.Errorf("an error without a code: %v", err)
	}
}
