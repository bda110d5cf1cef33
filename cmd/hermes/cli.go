package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130 // as a shell reports a process ended by SIGINT
)

// stdio is what a command reads and writes; tests pass buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand of hermes.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, io stdio) error
}

func commands() []command {
	return []command{
		{"demo", "index a built-in sample corpus and run a few searches", runDemo},
		{"index", "index JSON lines from a file or stdin", runIndex},
		{"search", "search an index", runSearch},
		{"stats", "show an index's documents, segments and schema", runStats},
		{"merge", "merge an index's segments", runMerge},
		{"check", "verify every checksum and the metadata of an index", runCheck},
		{"bench", "measure indexing speed and memory (bench search: search latency)", runBench},
		{"node", "host workers for writers on other machines", runNode},
	}
}

// run executes the command line args (without the program name) and returns
// the process exit code.
func run(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 {
		printUsage(io.err)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, io)
		}
		printUsage(io.out)
		return exitOK
	case "version", "--version":
		fmt.Fprintln(io.out, "hermes", version())
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return report(io.err, "hermes "+name, c.run(ctx, args[1:], io))
		}
	}
	fmt.Fprintf(io.err, "hermes: unknown command %q; run 'hermes help' for the list\n", name)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "hermes: index JSON documents and search them.\n\nUsage:\n  hermes <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'hermes <command> --help' for a command's flags. Start with 'hermes demo'.\n")
}

// usageError is a mistake on the command line: it exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errInterrupted ends a command stopped by SIGINT or SIGTERM after it has
// said what state it left.
var errInterrupted = errors.New("interrupted")

// errReported ends a command that has already printed its problem.
var errReported = errors.New("failed")

// report prints err, if any, as one line and returns the exit code.
func report(w io.Writer, prefix string, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.Is(err, errReported):
		return exitFailure
	case errors.As(err, &ue):
		fmt.Fprintf(w, "%s: %s (see '%s --help')\n", prefix, ue.msg, prefix)
		return exitUsage
	}
	fmt.Fprintf(w, "%s: %s\n", prefix, oneLine(err.Error()))
	return exitFailure
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// flags wraps a FlagSet with the behaviour every command shares: --help
// prints the command's usage to stdout; a bad flag is one line on stderr;
// flags may follow positional arguments (`hermes search "q" -k 5`).
type flags struct {
	*flag.FlagSet
	synopsis string // e.g. "hermes search --index DIR [flags] QUERY"
	about    string // what the command does, a paragraph
	out      io.Writer
}

func newFlags(name, synopsis, about string, io stdio) *flags {
	fs := flag.NewFlagSet("hermes "+name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	f := &flags{FlagSet: fs, synopsis: synopsis, about: about, out: io.out}
	fs.Usage = func() {} // parse reports errors itself, in one line
	return f
}

// parse parses args and returns the positional arguments.
func (f *flags) parse(args []string) ([]string, error) {
	f.SetOutput(io.Discard)
	var pos []string
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			f.printHelp()
			return nil, err
		}
		if err != nil {
			return nil, usagef("%v", err)
		}
		rest := f.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			// Parse stopped at "--": the rest is positional, even "-x".
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		args = rest
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseFlagsOnly parses args, which may hold flags only.
func (f *flags) parseFlagsOnly(args []string) error {
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

// parseIndexCommand parses the flags of a command on an existing index:
// flags only, --index required.
func (f *flags) parseIndexCommand(args []string, index *string) error {
	if err := f.parseFlagsOnly(args); err != nil {
		return err
	}
	return requireString("index", *index, "./myindex")
}

func (f *flags) printHelp() {
	w := f.out
	fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", f.synopsis, f.about)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// requireString fails if a required flag was left empty.
func requireString(name, value, example string) error {
	if value == "" {
		return usagef("--%s is required (e.g. --%s %s)", name, name, example)
	}
	return nil
}

// byteSize is a flag.Value for sizes such as 256MiB, 1GiB or 500MB.
type byteSize int64

func (b *byteSize) String() string { return formatBytes(int64(*b)) }

func (b *byteSize) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// parseBytes reads a size: a number with an optional unit, binary (KiB,
// MiB, GiB, or K, M, G) or decimal (KB, MB, GB).
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	mult := 1.0
	upper := strings.ToUpper(t)
	for _, u := range units {
		if strings.HasSuffix(upper, u.suffix) {
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 || n*mult > 1<<62 {
		return 0, fmt.Errorf("%q is not a size (use e.g. 256MiB or 1GiB)", s)
	}
	return int64(n * mult), nil
}

// formatBytes prints n with a binary unit: 512 B, 3.4 MiB, 1.2 GiB.
func formatBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// formatCount prints n with thousands separators: 265,441.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// isTerminal reports whether w is a terminal, for progress bars.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
