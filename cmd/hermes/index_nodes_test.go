package main

import (
	"bufio"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// hermes index --nodes indexes through a node process and this one's
// workers; the index checks out and holds every document once.
func TestIndexThroughNode(t *testing.T) {
	cmd := hermesCmd(t, "node", "--listen", "127.0.0.1:0", "--scratch", filepath.Join(t.TempDir(), "scratch"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, "hermes node listening on ") {
		t.Fatalf("first line %q, %v", line, err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "hermes node listening on "))

	var in strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&in, "{\"id\":\"k%d\",\"body\":\"word%d and word%d\"}\n", i, i%13, i%29)
	}
	index := filepath.Join(t.TempDir(), "idx")
	r := runHermes(t, in.String(), "index", "--index", index, "--input", "-", "--nodes", addr, "--local-workers", "1", "--quiet")
	if r.code != 0 || !strings.Contains(r.stdout, "indexed 2,000 documents") {
		t.Fatalf("index: %+v", r)
	}
	if r := runHermes(t, "", "check", "--index", index); r.code != 0 {
		t.Fatalf("check: %+v", r)
	}
	if r := runHermes(t, "", "index", "--index", index, "--input", "-", "--local-workers", "2"); r.code != exitUsage {
		t.Fatalf("--local-workers without --nodes: %+v", r)
	}
}
