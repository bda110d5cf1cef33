package messages

import (
	"errors"

	"github.com/hermes-search/hermes-go/storage"
)

// CodeOf classifies err for a message: ERROR_DISK_FULL, ERROR_CORRUPT, or
// ERROR_NONE for the rest (the caller picks the code of its own failure).
func CodeOf(err error) ErrorCode {
	switch {
	case errors.Is(err, storage.ErrDiskFull):
		return ErrorCode_ERROR_DISK_FULL
	case errors.Is(err, storage.ErrCorrupt):
		return ErrorCode_ERROR_CORRUPT
	}
	return ErrorCode_ERROR_NONE
}
