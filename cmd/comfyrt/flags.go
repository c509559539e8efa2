package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
)

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// newFlags returns a FlagSet whose usage text names the command.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: comfyrt %s %s\n\n%s\n\nOptions:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("comfyrt validate a.json --format json"). "--" ends flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" && len(args) > 0 && args[len(args)-len(rest)] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a usage problem and returns exit code 2.
func usageError(stderr io.Writer, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(stderr, "comfyrt %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run 'comfyrt %s --help' for usage.\n", fs.Name())
	return exitUsage
}

// flagExit maps a flag parsing error to an exit code (--help is success).
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// loadSchemas returns the built-in node classes merged with the object_info
// files (later files win over earlier ones and over built-ins).
func loadSchemas(files []string) (*schema.Set, error) {
	s := schema.NewSet()
	s.Merge(builtin.Schemas())
	for _, f := range files {
		fs, err := schema.LoadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--object-info: %w", err)
		}
		s.Merge(fs)
	}
	return s, nil
}

// readInput reads a file, or stdin for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}
