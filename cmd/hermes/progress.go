package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// source is what progress needs to know of the input.
type source interface {
	Size() int64     // raw input size, -1 if unknown
	Consumed() int64 // raw bytes read so far
	Bytes() int64    // uncompressed bytes read so far
}

// progress reports an indexing run while it goes: a bar redrawn in place on
// a terminal, a log line every logEvery otherwise (so logs of a long run in
// CI or under a supervisor show it is alive). The indexing loop only bumps
// an atomic counter; a goroutine of progress does the rest.
type progress struct {
	docs  atomic.Int64
	src   source
	start time.Time
	w     io.Writer
	bar   *progressbar.ProgressBar // nil when logging lines
	label string
	stop  chan struct{}
	done  sync.WaitGroup
	mu    sync.Mutex // serializes the bar and writes to w
}

// logEvery is the interval of progress lines when stderr is not a terminal.
const logEvery = 10 * time.Second

func startProgress(w io.Writer, src source, label string, quiet bool) *progress {
	p := &progress{src: src, start: time.Now(), w: w, label: label, stop: make(chan struct{})}
	if quiet {
		return p
	}
	interval := logEvery
	if isTerminal(w) {
		interval = 200 * time.Millisecond
		p.bar = progressbar.NewOptions64(src.Size(),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(src.Size() > 0),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionFullWidth(),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.done.Add(1)
	go p.loop(interval)
	return p
}

func (p *progress) add(n int64) { p.docs.Add(n) }

func (p *progress) loop(interval time.Duration) {
	defer p.done.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.render()
		}
	}
}

// rates returns docs/s and uncompressed MB/s since the start.
func (p *progress) rates() (docs int64, docsPerSec, mbPerSec float64) {
	docs = p.docs.Load()
	secs := time.Since(p.start).Seconds()
	if secs <= 0 {
		return docs, 0, 0
	}
	return docs, float64(docs) / secs, float64(p.src.Bytes()) / 1e6 / secs
}

func (p *progress) render() {
	p.mu.Lock()
	defer p.mu.Unlock()
	docs, dps, mbps := p.rates()
	desc := fmt.Sprintf("%s docs  %s docs/s  %.1f MB/s", formatCount(docs), formatCount(int64(dps)), mbps)
	if p.bar != nil {
		p.bar.Describe(desc)
		if p.src.Size() > 0 {
			_ = p.bar.Set64(min(p.src.Consumed(), p.src.Size()))
		} else {
			_ = p.bar.Add64(0) // spin
		}
		return
	}
	line := fmt.Sprintf("%s: %s", p.label, desc)
	if size, done := p.src.Size(), p.src.Consumed(); size > 0 && done > 0 {
		frac := float64(min(done, size)) / float64(size)
		elapsed := time.Since(p.start)
		eta := time.Duration(float64(elapsed) * (1 - frac) / frac)
		line += fmt.Sprintf("  %.0f%% of the input, about %s left", 100*frac, eta.Round(time.Second))
	}
	fmt.Fprintln(p.w, line)
}

// finish stops the reporter and clears the bar.
func (p *progress) finish() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.done.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
	}
}

// message prints a line without garbling the bar.
func (p *progress) message(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
