package hermes_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind: the writer's actors, merges
// and the filter's background sync all end with Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
