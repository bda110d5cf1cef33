package main

import (
	"bufio"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hermes node prints its address, serves until interrupted, and exits
// cleanly; a port it cannot use is one clear line.
func TestNodeCommand(t *testing.T) {
	cmd := hermesCmd(t, "node", "--listen", "127.0.0.1:0", "--scratch", filepath.Join(t.TempDir(), "scratch"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, "hermes node listening on 127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	busy := strings.TrimSpace(strings.TrimPrefix(line, "hermes node listening on "))
	r := runHermes(t, "", "node", "--listen", busy, "--scratch", t.TempDir())
	if r.code != exitFailure || !strings.Contains(r.stderr, "address already in use") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("second node on %s: %v", busy, r)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d", err, exitInterrupted)
	}
}
