package index

import (
	"testing"

	"go.uber.org/goleak"
)

// Keys' filter updates run in the background: Close must end them all.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
