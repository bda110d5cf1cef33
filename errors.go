package hermes

import (
	"errors"

	"github.com/hermes-search/hermes-go/index"
	"github.com/hermes-search/hermes-go/messages"
	"github.com/hermes-search/hermes-go/storage"
)

var (
	// ErrQueueFull is returned by AddDocument when the intake queue holds
	// Config.QueueCapacity documents. Retry later, or use AddDocumentWait.
	ErrQueueFull = errors.New("hermes: intake queue is full")
	// ErrCommitInProgress is returned by a PrepareCommit while another
	// commit is prepared and not yet committed or aborted. Adds are never
	// refused for a commit: they go to the next one.
	ErrCommitInProgress = errors.New("hermes: a commit is in progress; prepare the next after Commit or Abort returns")
	// ErrClosed is returned by every call on a closed writer or reader.
	ErrClosed = errors.New("hermes: closed")
	// ErrWriterFailed wraps the cause after a fatal failure (a failed commit
	// write, a crashed core actor): Close the writer and Open the index again.
	ErrWriterFailed = errors.New("hermes: writer failed; close it and open the index again")
	// ErrDuplicateKey is wrapped by DuplicateKeyError.
	ErrDuplicateKey = index.ErrDuplicateKey
	// ErrPrepareFailed is wrapped by the error of a PrepareCommit that could
	// not flush every document (its deadline passed, or a segment could not
	// be written). No document is lost: they stay queued for the next try.
	ErrPrepareFailed = errors.New("hermes: prepare commit failed")
	// ErrIndexFilesFound is wrapped by the error of Create in a directory
	// that has no metadata.json but holds segment, deletes or commit
	// generation files: most likely an index whose metadata.json was lost.
	// Create changes nothing then. Recover the index with
	// 'hermes check --index DIR --fall-back' (it restores the newest kept
	// commit generation), or move the files away to start afresh.
	ErrIndexFilesFound = errors.New("hermes: the directory holds index files but no " + storage.MetadataFile)
)

// DuplicateKeyError reports a document whose primary key is already in the
// index or among the documents added since the last commit; it wraps
// ErrDuplicateKey. It is package index's, which enforces key uniqueness.
type DuplicateKeyError = index.DuplicateKeyError

// codedError is an error that crossed actors as a message: its text, and
// the errors.Is-able value its code stands for.
func codedError(code messages.ErrorCode, msg string) error {
	var target error
	switch code {
	case messages.ErrorCode_ERROR_DISK_FULL:
		target = storage.ErrDiskFull
	case messages.ErrorCode_ERROR_CORRUPT:
		target = storage.ErrCorrupt
	case messages.ErrorCode_ERROR_CLOSED:
		target = ErrClosed
	case messages.ErrorCode_ERROR_BUSY:
		target = ErrCommitInProgress
	}
	return remoteError{msg: msg, target: target}
}

type remoteError struct {
	msg    string
	target error
}

func (e remoteError) Error() string { return e.msg }

func (e remoteError) Is(target error) bool { return e.target != nil && target == e.target }
