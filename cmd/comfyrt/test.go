package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
	"comfyrt/executor/media/av"
	"comfyrt/nodes/value"
	"comfyrt/streampack"
)

// comfyrt test: runs the tests of packs and of workflows with testdata.
//
// A TARGET is a pack (folder or .tar.gz with pack.json: its manifest's
// tests, the pack itself loaded) or a workflow FILE.json with a
// FILE.test.json beside it: {"tests": [...]} in the manifest's test form,
// paths relative to that file's folder (the workflow field may be left
// out). Picture inputs run each as one frame through the compiler's
// single-frame path (Plan.RunFrame); a clip input runs through the video
// executor (every frame, in order, no frame-rate cap) and expected[i] is
// compared with output frame i.

// testResult is one test's outcome.
type testResult struct {
	Suite, Name string
	Status      string // pass, fail, skip, error
	Message     string
	Frames      []frameResult
	Duration    time.Duration
}

type frameResult struct {
	Input        string
	PSNR, MaxAbs float64
	OK           bool
}

// testCase is a test with its files resolved.
type testCase struct {
	suite    string
	test     streampack.Test
	workflow string
	inputs   []string
	expected []string
	clip     string
}

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
	var cases []testCase
	for _, t := range targets {
		cs, err := collectTests(t)
		if err != nil {
			fmt.Fprintf(stderr, "comfyrt test: %v\n", err)
			return exitUsage
		}
		cases = append(cases, cs...)
	}
	var results []testResult
	for _, c := range cases {
		r := runTestCase(c, ef, *update)
		results = append(results, r)
		printResult(stdout, r, *verbose)
	}
	pass, fail, skip := 0, 0, 0
	for _, r := range results {
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
	if *junit != "" {
		if err := writeJUnit(*junit, results); err != nil {
			fmt.Fprintf(stderr, "comfyrt test: --junit: %v\n", err)
			return exitUsage
		}
	}
	if fail > 0 {
		return exitInvalid
	}
	return exitOK
}

// collectTests reads a target's tests.
func collectTests(target string) ([]testCase, error) {
	st, err := os.Stat(target)
	if err != nil {
		return nil, err
	}
	isPack := st.IsDir() || strings.HasSuffix(target, ".tar.gz") || strings.HasSuffix(target, ".tgz")
	if isPack {
		if err := selectPack(target); err != nil {
			return nil, err
		}
		var p *streampack.Pack
		abs, _ := filepath.Abs(target)
		for _, q := range cliPacks.Packs {
			if a, _ := filepath.Abs(q.Source); a == abs {
				p = q
			}
		}
		if p == nil {
			return nil, fmt.Errorf("%s: pack not selected", target)
		}
		var out []testCase
		for _, t := range p.Manifest.Tests {
			c := testCase{suite: p.Manifest.Name, test: t}
			var err error
			if c.workflow, err = p.Path(t.Workflow); err != nil {
				return nil, err
			}
			for _, in := range t.Inputs {
				f, err := p.Path(in)
				if err != nil {
					return nil, err
				}
				c.inputs = append(c.inputs, f)
			}
			for _, e := range t.Expected {
				f, err := p.Path(e)
				if err != nil {
					return nil, err
				}
				c.expected = append(c.expected, f)
			}
			if t.Clip != "" {
				if c.clip, err = p.Path(t.Clip); err != nil {
					return nil, err
				}
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: the pack has no tests", target)
		}
		return out, nil
	}
	spec := strings.TrimSuffix(target, ".json") + ".test.json"
	data, err := os.ReadFile(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: no tests (want %s beside it, or a pack): %w", target, spec, err)
	}
	var doc struct {
		Tests []streampack.Test `json:"tests"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	dir := filepath.Dir(spec)
	rel := func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }
	var out []testCase
	for i, t := range doc.Tests {
		if t.Name == "" {
			t.Name = fmt.Sprintf("%s#%d", filepath.Base(target), i+1)
		}
		c := testCase{suite: filepath.Base(target), test: t, workflow: target}
		if t.Clip != "" {
			c.clip = rel(t.Clip)
		}
		if t.Workflow != "" {
			c.workflow = rel(t.Workflow)
		}
		for _, in := range t.Inputs {
			c.inputs = append(c.inputs, rel(in))
		}
		for _, e := range t.Expected {
			c.expected = append(c.expected, rel(e))
		}
		if len(c.inputs) > 0 && len(c.inputs) != len(c.expected) {
			return nil, fmt.Errorf("%s: test %s: %d inputs but %d expected frames", spec, t.Name, len(c.inputs), len(c.expected))
		}
		out = append(out, c)
	}
	return out, nil
}

func runTestCase(c testCase, ef *engineFlags, update bool) (r testResult) {
	start := time.Now()
	r = testResult{Suite: c.suite, Name: c.test.Name}
	defer func() {
		if x := recover(); x != nil {
			r.Status, r.Message = "error", fmt.Sprintf("internal error: %v", x)
		}
		r.Duration = time.Since(start)
	}()
	tol := c.test.Tolerance.WithDefaults()
	if c.clip != "" {
		return runClipCase(c, ef, update, tol, r)
	}
	data, err := os.ReadFile(c.workflow)
	if err != nil {
		r.Status, r.Message = "error", err.Error()
		return r
	}
	failed := false
	var msgs []string
	for i, in := range c.inputs {
		frame, frameMask, err := readPictureMask(in, ef.imagePixels())
		if err != nil {
			r.Status, r.Message = "error", err.Error()
			return r
		}
		var diags bytes.Buffer
		pl, err := compileFile(c.workflow, data, nil, filepath.Dir(c.workflow), frame.Shape[2], frame.Shape[1], ef, &diags,
			func(c *compiler.Config) { c.FrameMask = frameMask }) // LoadImage's mask of a picture with alpha, as run
		if err != nil || pl == nil {
			r.Status = "fail"
			r.Message = fmt.Sprintf("workflow %s does not compile: %v%s", filepath.Base(c.workflow), errOr(err), strings.TrimSpace(diags.String()))
			return r
		}
		out, err := runOne(pl, frame)
		pl.Close()
		if err != nil {
			r.Status, r.Message = "fail", fmt.Sprintf("frame %s: %v", filepath.Base(in), err)
			return r
		}
		msg, err := r.check(in, filepath.Base(in), c.expected[i], out, update, tol)
		if err != nil {
			r.Status, r.Message = "error", err.Error()
			return r
		}
		if msg != "" {
			failed = true
			msgs = append(msgs, msg)
		}
	}
	r.Status = "pass"
	if failed {
		r.Status = "fail"
	}
	r.Message = strings.Join(msgs, "; ")
	return r
}

func errOr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error() + " "
}

// runOne runs the plan on one frame and returns its first frame output
// (copied), as an IMAGE (a MASK becomes grey).
func runOne(pl interface {
	HasFrameInput() bool
	NumOutputs() int
	RunFrame(value.Tensor) error
	Output(int) value.Value
}, frame value.Tensor) (value.Value, error) {
	if pl.NumOutputs() == 0 {
		return value.Value{}, errors.New("the workflow has no frame output (SaveTensor, PreviewImage or SaveImage)")
	}
	if err := pl.RunFrame(frame); err != nil {
		return value.Value{}, err
	}
	o := pl.Output(0)
	t := value.Tensor{Shape: append([]int(nil), o.Tensor.Shape...), Data: append([]float32(nil), o.Tensor.Data...)}
	return value.OfTensor(o.Kind, t), nil
}

// compareFrames compares an output with an expected picture ([1,H,W,3],
// 0..1): PSNR in dB over every element (peak 1; +Inf when equal) and the
// largest absolute difference. A MASK output is compared as grey.
func compareFrames(got value.Value, want value.Tensor) (psnr, maxAbs float64, err error) {
	_, wh, ww, _, _ := value.ImageDims(want.Shape)
	var h, w, c int
	switch got.Kind {
	case value.Image:
		_, h, w, c, _ = value.ImageDims(got.Tensor.Shape)
	case value.Mask:
		_, h, w, _ = value.MaskDims(got.Tensor.Shape)
		c = 1
	default:
		return 0, 0, errors.New("the output is not an image")
	}
	if h != wh || w != ww || (c != 3 && c != 1) {
		return 0, 0, fmt.Errorf("output %s %s, expected picture is %d×%d", got.Kind, value.ShapeString(got.Tensor.Shape), ww, wh)
	}
	var se float64
	n := h * w * 3
	for i := range h * w {
		for k := range 3 {
			g := got.Tensor.Data[i*c+min(k, c-1)]
			d := math.Abs(float64(g) - float64(want.Data[i*3+k]))
			se += d * d
			maxAbs = max(maxAbs, d)
		}
	}
	mse := se / float64(n)
	if mse == 0 {
		return math.Inf(1), maxAbs, nil
	}
	return 10 * math.Log10(1/mse), maxAbs, nil
}

func fmtPSNR(p float64) string {
	if math.IsInf(p, 1) {
		return "inf dB"
	}
	return fmt.Sprintf("%.1f dB", p)
}

func printResult(w io.Writer, r testResult, verbose bool) {
	name := r.Suite + "/" + r.Name
	switch r.Status {
	case "pass":
		worst := frameResult{PSNR: math.Inf(1)}
		for _, f := range r.Frames {
			if f.PSNR < worst.PSNR {
				worst.PSNR = f.PSNR
			}
			worst.MaxAbs = max(worst.MaxAbs, f.MaxAbs)
		}
		fmt.Fprintf(w, "PASS  %-32s %d frame(s), worst PSNR %s, max |Δ| %.4f  (%s)\n", name, len(r.Frames), fmtPSNR(worst.PSNR), worst.MaxAbs, r.Duration.Round(time.Millisecond))
	case "skip":
		fmt.Fprintf(w, "SKIP  %-32s %s\n", name, r.Message)
	default:
		fmt.Fprintf(w, "%-5s %-32s %s\n", strings.ToUpper(r.Status), name, r.Message)
	}
	if verbose {
		for _, f := range r.Frames {
			fmt.Fprintf(w, "        %s: PSNR %s, max |Δ| %.4f\n", f.Input, fmtPSNR(f.PSNR), f.MaxAbs)
		}
	}
}

// JUnit XML, the subset CI systems read.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Skipped int          `xml:"skipped,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name    string      `xml:"name,attr"`
	Tests   int         `xml:"tests,attr"`
	Fails   int         `xml:"failures,attr"`
	Errors  int         `xml:"errors,attr"`
	Skipped int         `xml:"skipped,attr"`
	Time    string      `xml:"time,attr"`
	Cases   []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(name string, results []testResult) error {
	doc := junitSuites{}
	idx := map[string]int{}
	var total map[string]time.Duration = map[string]time.Duration{}
	for _, r := range results {
		i, ok := idx[r.Suite]
		if !ok {
			i = len(doc.Suites)
			idx[r.Suite] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: r.Suite})
		}
		s := &doc.Suites[i]
		c := junitCase{Name: r.Name, Classname: r.Suite, Time: secs(r.Duration)}
		var out []string
		for _, f := range r.Frames {
			out = append(out, fmt.Sprintf("%s: PSNR %s, max |Δ| %.4f", f.Input, fmtPSNR(f.PSNR), f.MaxAbs))
		}
		c.SystemOut = strings.Join(out, "\n")
		switch r.Status {
		case "fail":
			c.Failure = &junitMessage{Message: r.Message, Text: r.Message}
			s.Fails++
			doc.Fails++
		case "error":
			c.Error = &junitMessage{Message: r.Message, Text: r.Message}
			s.Errors++
			doc.Errors++
		case "skip":
			c.Skipped = &junitMessage{Message: r.Message}
			s.Skipped++
			doc.Skipped++
		}
		s.Tests++
		doc.Tests++
		total[r.Suite] += r.Duration
		s.Cases = append(s.Cases, c)
	}
	for i := range doc.Suites {
		doc.Suites[i].Time = secs(total[doc.Suites[i].Name])
	}
	data, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append([]byte(xml.Header), append(data, '\n')...), 0o644)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// firstFrames is a Sink that keeps copies of the first n frames and counts
// the rest.
type firstFrames struct {
	n      int
	frames []media.Frame
	total  int
}

func (s *firstFrames) WriteFrame(f *media.Frame) error {
	s.total++
	if len(s.frames) < s.n {
		var g media.Frame
		g.CopyFrom(f)
		s.frames = append(s.frames, g)
	}
	return nil
}

func (s *firstFrames) Close() error { return nil }

// runClipCase runs a clip through the video executor and compares output
// frame i with expected[i].
func runClipCase(c testCase, ef *engineFlags, update bool, tol streampack.Tolerance, r testResult) testResult {
	data, err := os.ReadFile(c.workflow)
	if err != nil {
		r.Status, r.Message = "error", err.Error()
		return r
	}
	av.SetLogLevel("error")
	src, err := av.OpenSource(c.clip, av.SourceOptions{})
	if err != nil {
		r.Status, r.Message = "error", fmt.Sprintf("clip %s: %v", c.test.Clip, err)
		return r
	}
	info := src.Info()
	var diags bytes.Buffer
	pl, err := compileFile(c.workflow, data, nil, filepath.Dir(c.workflow), info.Width, info.Height, ef, &diags)
	if err != nil || pl == nil {
		src.Close()
		r.Status = "fail"
		r.Message = fmt.Sprintf("workflow %s does not compile: %v%s", filepath.Base(c.workflow), errOr(err), strings.TrimSpace(diags.String()))
		return r
	}
	sink := &firstFrames{n: len(c.expected)}
	p, err := executor.New(executor.Config[*compiler.Plan]{Source: src, Sink: sink, Plan: pl, MaxFPS: -1, Queue: executor.Block, WarmupFrames: -1})
	if err != nil {
		r.Status, r.Message = "error", err.Error()
		return r
	}
	runErr := p.Run(context.Background())
	_ = p.Close()
	st := p.Stats()
	if runErr != nil || st.NodeErrors > 0 {
		r.Status, r.Message = "fail", fmt.Sprintf("clip %s: %v (%d node errors)", c.test.Clip, runErr, st.NodeErrors)
		return r
	}
	if len(sink.frames) < len(c.expected) {
		r.Status, r.Message = "fail", fmt.Sprintf("clip %s: %d output frames, %d expected", c.test.Clip, sink.total, len(c.expected))
		return r
	}
	var msgs []string
	failed := false
	for i, f := range sink.frames {
		t := value.NewTensor(1, f.Height, f.Width, 3)
		value.FromRGB8(t.Data, f.RGB)
		got := value.OfTensor(value.Image, t)
		msg, err := r.check(fmt.Sprintf("%s#%d", c.test.Clip, i), fmt.Sprintf("%d", i), c.expected[i], got, update, tol)
		if err != nil {
			r.Status, r.Message = "error", err.Error()
			return r
		}
		if msg != "" {
			failed = true
			msgs = append(msgs, msg)
		}
	}
	r.Status = "pass"
	if failed {
		r.Status = "fail"
	}
	if len(msgs) == 0 {
		msgs = append(msgs, fmt.Sprintf("%d frames, %d compared", sink.total, len(sink.frames)))
	}
	r.Message = strings.Join(msgs, "; ")
	return r
}

// check compares an output frame with the expected picture (written from
// the output first when update is set) and records the frame under input.
// It returns a failure message naming the frame (empty when the frame is
// within tolerance), or an error when the expected picture cannot be
// written or read.
func (r *testResult) check(input, name, expected string, got value.Value, update bool, tol streampack.Tolerance) (string, error) {
	if update {
		if err := writePicture(expected, got); err != nil {
			return "", err
		}
	}
	want, err := readPicture(expected)
	if err != nil {
		return "", err
	}
	psnr, maxAbs, err := compareFrames(got, want)
	if err != nil {
		return fmt.Sprintf("frame %s: %v", name, err), nil
	}
	ok := psnr >= tol.PSNR && maxAbs <= tol.MaxAbs
	r.Frames = append(r.Frames, frameResult{Input: input, PSNR: psnr, MaxAbs: maxAbs, OK: ok})
	if ok {
		return "", nil
	}
	return fmt.Sprintf("frame %s vs %s: PSNR %s (want ≥ %.1f), max |Δ| %.4f (want ≤ %.4f)",
		name, filepath.Base(expected), fmtPSNR(psnr), tol.PSNR, maxAbs, tol.MaxAbs), nil
}
