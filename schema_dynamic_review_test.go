package hermes_test

import (
	"context"
	"testing"

	"github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// A JSON line that Writer.DecodeJSON refuses for a value of another type
// than its known field's grows nothing, even when it also holds new
// members: the schema would otherwise keep fields of a line never added.
func TestDynamicDecodeJSONRefusedLineGrowsNothing(t *testing.T) {
	ctx := context.Background()
	w, err := hermes.Create(ctx, storage.NewMem(), dynamicSchema(t), hermes.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	before := w.Schema()
	for _, line := range []string{
		`{"id":"a","body":5,"fresh":1}`,
		`{"id":"b","fresh":2,"body":{"x":1}}`,
	} {
		if _, err := w.DecodeJSON([]byte(line)); err == nil {
			t.Fatalf("DecodeJSON(%s) accepted a value of another type than its field's", line)
		}
		if !w.Schema().Equal(before) {
			t.Fatalf("DecodeJSON(%s), refused, grew the schema: %v", line, w.Schema().Fields())
		}
	}
}
