package hermes_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/segment"
	"github.com/hermes-search/hermes-go/storage"
)

// TestCreateUnknownStoredCompression: Create with a codec that does not
// exist fails naming it and writes nothing, instead of creating an index
// whose schema no Open can read and whose segments no reader opens.
func TestCreateUnknownStoredCompression(t *testing.T) {
	s, err := segment.NewSchema(segment.Field{Name: "id", Type: segment.TypeKeyword, Indexed: true, Stored: true, Primary: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := storage.NewMem()
	w, err := hermes.Create(context.Background(), dir, s.WithStoredCompression(7), hermes.Config{})
	if err == nil {
		w.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "StoredCompression(7)") {
		t.Fatalf("Create with codec 7: %v, want an error naming it", err)
	}
	if names, err := dir.List(); err != nil || len(names) != 0 {
		t.Fatalf("Create with codec 7 left %v (%v)", names, err)
	}
}
