package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

type fakeSource struct{ size, consumed, bytes int64 }

func (f fakeSource) Size() int64     { return f.size }
func (f fakeSource) Consumed() int64 { return f.consumed }
func (f fakeSource) Bytes() int64    { return f.bytes }

// Off a terminal, progress is a plain log line with the counts, the rates
// and, when the input size is known, the share done and the time left.
func TestProgressLogLine(t *testing.T) {
	var buf bytes.Buffer
	p := startProgress(&buf, fakeSource{size: 1000, consumed: 250, bytes: 4e6}, "hermes index", true)
	p.w = &buf
	p.start = time.Now().Add(-2 * time.Second)
	p.add(1234)
	p.render()
	line := buf.String()
	for _, want := range []string{"hermes index: 1,234 docs", "docs/s", "MB/s", "25% of the input", "left"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
	// About 2 s for a quarter: about 6 s left.
	if !strings.Contains(line, "about 6s left") {
		t.Errorf("progress line %q: want about 6s left", line)
	}
	p.finish()

	buf.Reset()
	p = startProgress(&buf, fakeSource{size: -1, bytes: 10}, "hermes index", true)
	p.render()
	if line := buf.String(); strings.Contains(line, "%") || !strings.Contains(line, "0 docs") {
		t.Errorf("unknown size: progress line %q", line)
	}
	p.finish()
}
