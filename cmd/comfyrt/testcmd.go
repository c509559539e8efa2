package main

import (
	"fmt"
	"io"
	"path/filepath"

	"comfyrt/compiler"
	"comfyrt/internal/wftest"
	"comfyrt/nodes/value"
	"comfyrt/streampack"
)

// `comfyrt test`: flag parsing, pack selection and the summary; finding,
// running and comparing the tests is package internal/wftest.

func cmdTest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("test", "[--pack PATH]... [--junit FILE] [--update] TARGET...",
		"Runs the tests of packs (their manifest's tests) and of workflows with a\n"+
			"FILE.test.json beside them: each input picture goes through the workflow as\n"+
			"one frame and the frame output is compared with the expected picture (PSNR\n"+
			"and max-abs thresholds). A clip input runs through the video executor, every\n"+
			"frame in order, and output frame i is compared with expected[i]. --update\n"+
			"writes the expected pictures from the current outputs.\n\n"+
			"Exit status: 0 when every test passes (skips allowed), 1 when one fails,\n"+
			"2 for usage errors.", stderr)
	var packs multiFlag
	fs.Var(&packs, "pack", "stream pack `[NS=]PATH` the tests need (repeatable)")
	packsDir := fs.String("packs-dir", "", "`folder` of installed packs to load (default $COMFYRT_PACKS)")
	junit := fs.String("junit", "", "write a JUnit XML report to `FILE`")
	update := fs.Bool("update", false, "write the actual frames as the expected pictures (pack authors; folders only)")
	verbose := fs.Bool("v", false, "print every frame's figures")
	ef := addEngineFlags(fs)
	targets, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(targets) == 0 {
		return usageError(stderr, fs, "no test target given (a pack or a workflow with a .test.json)")
	}
	packsDirSeen = *packsDir != ""
	if *packsDir != "" {
		if err := selectPacksDir(*packsDir); err != nil {
			fmt.Fprintf(stderr, "comfyrt test: --packs-dir: %v\n", err)
			return exitUsage
		}
	}
	for _, p := range packs {
		if err := selectPack(p); err != nil {
			fmt.Fprintf(stderr, "comfyrt test: --pack: %v\n", err)
			return exitUsage
		}
	}
	return runTests(targets, testRunner(ef, *update), *junit, *verbose, stdout, stderr)
}

// testRunner runs test cases with this command's workflow loading (the
// engine flags, the selected packs) and picture files.
func testRunner(ef *engineFlags, update bool) *wftest.Runner {
	return &wftest.Runner{
		Compile: func(workflow string, data []byte, w, h int, frameMask value.Tensor, diags io.Writer) (*compiler.Plan, error) {
			return compileFile(workflow, data, nil, filepath.Dir(workflow), w, h, ef, diags,
				func(c *compiler.Config) { c.FrameMask = frameMask })
		},
		MaxPixels: ef.imagePixels(),
		Update:    update,
	}
}

// selectedPack selects the pack at target and returns it.
func selectedPack(target string) (*streampack.Pack, error) {
	if err := selectPack(target); err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(target)
	for _, q := range cliPacks.Packs {
		if a, _ := filepath.Abs(q.Source); a == abs {
			return q, nil
		}
	}
	return nil, fmt.Errorf("%s: pack not selected", target)
}

// runTests collects the targets' tests, runs them, prints each result and
// the summary, and writes the JUnit report.
func runTests(targets []string, rn *wftest.Runner, junit string, verbose bool, stdout, stderr io.Writer) int {
	var cases []wftest.Case
	for _, t := range targets {
		cs, err := wftest.Collect(t, selectedPack)
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt test: %v\n", err)
			return exitUsage
		}
		cases = append(cases, cs...)
	}
	var results []wftest.Result
	pass, fail, skip := 0, 0, 0
	for _, c := range cases {
		r := rn.Run(c)
		results = append(results, r)
		wftest.PrintResult(stdout, r, verbose)
		switch r.Status {
		case "pass":
			pass++
		case "skip":
			skip++
		default:
			fail++
		}
	}
	fmt.Fprintf(stdout, "--- %d passed, %d failed, %d skipped\n", pass, fail, skip)
	if junit != "" {
		if err := wftest.WriteJUnit(junit, results); err != nil {
			fmt.Fprintf(stderr, "comfyrt test: --junit: %v\n", err)
			return exitUsage
		}
	}
	if fail > 0 {
		return exitInvalid
	}
	return exitOK
}
