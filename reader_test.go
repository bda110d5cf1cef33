package hermes_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	hermes "github.com/hermes-search/hermes-go"
	"github.com/hermes-search/hermes-go/storage"
)

// TestReaderCloseDuringSearches closes a reader over memory-mapped
// segments while goroutines search it and read hits' documents: each call
// returns its result or ErrClosed, never touches unmapped files, and
// nothing works after Close.
func TestReaderCloseDuringSearches(t *testing.T) {
	ctx := context.Background()
	dir, err := storage.NewFS(filepath.Join(t.TempDir(), "idx"))
	if err != nil {
		t.Fatal(err)
	}
	w := create(t, dir, hermes.Config{Workers: 1})
	for i := 0; i < 200; i++ {
		mustAdd(t, w, doc(fmt.Sprint(i), fmt.Sprintf("common words and a rare%d one", i%7)))
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := hermes.OpenReader(ctx, dir, hermes.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := r.Search(ctx, "common", 5)
	if err != nil || len(hits) != 5 || hits[0].Key.Str == "" {
		t.Fatalf("Search = %d hits, %v", len(hits), err)
	}
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				hs, err := r.Search(ctx, fmt.Sprintf("rare%d common", i%7), 3)
				once.Do(func() { close(started) })
				if errors.Is(err, hermes.ErrClosed) {
					return
				}
				if err != nil || len(hs) != 3 {
					t.Errorf("Search = %d hits, %v", len(hs), err)
					return
				}
				if _, err := hs[0].Document(ctx, "body"); err != nil && !errors.Is(err, hermes.ErrClosed) {
					t.Errorf("Document: %v", err)
					return
				}
			}
		}()
	}
	<-started
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := hits[0].Document(ctx); !errors.Is(err, hermes.ErrClosed) {
		t.Fatalf("Document after Close: %v, want ErrClosed", err)
	}
	if _, err := r.Search(ctx, "common", 1); !errors.Is(err, hermes.ErrClosed) {
		t.Fatalf("Search after Close: %v, want ErrClosed", err)
	}
}
