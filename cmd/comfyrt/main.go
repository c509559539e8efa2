// Command comfyrt compiles ComfyUI workflows and runs them on live video.
//
//	comfyrt validate [--object-info FILE]... [--format text|json] FILE...
//	comfyrt convert  [--object-info FILE]... [--strict] FILE
//	comfyrt nodes    [--object-info FILE]... [--format text|json]
//	comfyrt compile  [--explain] [--dot] FILE
//	comfyrt run      [WORKFLOW | --workflow FILE] [-i IN] [-o OUT] ...
//	comfyrt pack     validate|inspect|install|list|seal ...
//	comfyrt test     [--pack PATH]... [--junit FILE] TARGET...
//	comfyrt serve    [--addr ADDR] [--pack PATH]... [--capacity N] [--token T]
//	comfyrt bench    [b2|b7|b8|all]
//
// cmd/comfyrt is wiring only: it is the one place that picks concrete
// engines, media back ends and stream packs. It parses flags and prints;
// streams are assembled by executor/stream, the logic of `comfyrt bench`
// is internal/bench, that of `comfyrt test` internal/wftest, that of
// `comfyrt run` on video internal/videorun, picture files
// internal/picture, byte sizes and the RAM internal/membudget; stream
// packs are summarised, sealed and checked by streampack.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"comfyrt/internal/spell"
)

func main() {
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	packLoader.Close() // removes the expansions of --pack archives
	if packsInterrupted {
		code = exitInterrupted // SIGINT/SIGTERM while a --pack loaded
	}
	os.Exit(code)
}

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitInvalid = 1 // the input is invalid, or the job failed
	exitUsage   = 2 // bad usage, unreadable file, internal error
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"validate", "check workflows (API or UI format) with ComfyUI's validation rules", cmdValidate},
		{"convert", "convert a UI-format workflow to an API-format prompt", cmdConvert},
		{"nodes", "list every known node class (built-in and --object-info)", cmdNodes},
		{"compile", "compile a workflow into a per-frame plan and print it", cmdCompile},
		{"run", "run a workflow on video (file, pipe or URL in and out) or once on a picture", cmdRun},
		{"pack", "validate, inspect, install, list and seal stream packs", cmdPack},
		{"test", "run the tests of packs and workflows, compare frames, write JUnit XML", cmdTest},
		{"serve", "serve live streams (Livepeer ai-runner and BYOC APIs over trickle)", cmdServe},
		{"preview", "a web page: the camera through a workflow and back, live (WHIP in, WHEP out)", cmdPreview},
		{"bench", "run the end-to-end benchmarks (B2 media path vs ffmpeg, B7 stream density, B8 text detection vs a plain ORT loop)", cmdBench},
	}
}

const version = "0.1.0-dev"

func usage(w io.Writer) {
	fmt.Fprintf(w, "comfyrt %s — compile ComfyUI workflows and run them on live video\n\n", version)
	fmt.Fprintln(w, "Usage: comfyrt COMMAND [options] [args]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'comfyrt COMMAND --help' (or 'comfyrt help COMMAND') for a command's options.")
}

// run is main without os.Exit, so tests can drive the CLI. It never lets a
// panic escape: an internal error is reported in one line with exit code 2.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "comfyrt: internal error: %v\n", r)
			if os.Getenv("COMFYRT_TRACE") != "" {
				fmt.Fprintf(stderr, "%s", debug.Stack())
			} else {
				fmt.Fprintln(stderr, "comfyrt: please report this bug with the input that caused it (set COMFYRT_TRACE=1 for a stack trace)")
			}
			code = exitUsage
		}
	}()
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help":
		if len(args) > 1 && args[1] != "help" && !strings.HasPrefix(args[1], "-") {
			// help CMD [SUB]: the same as CMD [SUB] --help.
			return run(append(args[1:len(args):len(args)], "--help"), stdin, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	case "-h", "--help":
		usage(stdout)
		return exitOK
	case "-v", "--version", "version":
		fmt.Fprintf(stdout, "comfyrt %s\n", version)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "comfyrt: unknown command %q", args[0])
	if s := suggestCommand(args[0]); s != "" {
		fmt.Fprintf(stderr, "; did you mean %s?", s)
	}
	fmt.Fprintln(stderr)
	usage(stderr)
	return exitUsage
}

// suggestCommand returns the command a mistyped name most likely meant:
// the nearest by edit distance (the project's did-you-mean, as for node
// classes), else the command it is a prefix of or starts with.
func suggestCommand(name string) string {
	names := []string{"help", "version"}
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if s := spell.Nearest(name, names); s != "" {
		return s
	}
	for _, c := range commands() {
		if strings.HasPrefix(c.name, name) || strings.HasPrefix(name, c.name) {
			return c.name
		}
	}
	return ""
}
