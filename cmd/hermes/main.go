// Command hermes indexes JSON-lines documents into a Hermes index and
// searches it:
//
//	hermes demo   [--dir DIR]                      a first look, on a built-in corpus
//	hermes index  --index DIR --input FILE|-       index JSON lines (plain or gzip)
//	hermes search --index DIR [-k N] [--json] QUERY
//	hermes stats  --index DIR                      documents, segments, schema
//	hermes merge  --index DIR [--force]
//	hermes check  --index DIR                      verify every checksum
//	hermes bench  [--input FILE]                   indexing speed and memory
//
// Every command has --help. Errors are one line on stderr, naming the
// problem and the fix; the exit code is 0 on success, 1 on failure, 2 for a
// mistake on the command line and 130 after Ctrl-C.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal asks for a clean stop; restoring the default
		// handling lets a second one end the process at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}
