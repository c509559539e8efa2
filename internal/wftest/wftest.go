// Package wftest is the logic of `comfyrt test`: it finds and runs the
// tests of packs and of workflows with test data, compares the output
// frames with the expected pictures (PSNR, largest absolute difference)
// and writes JUnit reports.
//
// A TARGET is a pack (folder or .tar.gz with pack.json: its manifest's
// tests, the pack itself loaded) or a workflow FILE.json with a
// FILE.test.json beside it: {"tests": [...]} in the manifest's test form,
// paths relative to that file's folder (the workflow field may be left
// out). Picture inputs run each as one frame through the compiler's
// single-frame path (Plan.RunFrame); a clip input runs through the video
// executor (every frame, in order, no frame-rate cap) and expected[i] is
// compared with output frame i.
//
// cmd/comfyrt parses the flags, selects the packs and gives a Runner its
// workflow compiler; pictures are read and written with internal/picture,
// clips run through executor/stream. It may import compiler, executor and
// its media packages, nodes/value and streampack; nothing imports it but
// cmd/comfyrt.
package wftest

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
	"comfyrt/executor/stream"
	"comfyrt/internal/picture"
	"comfyrt/nodes/value"
	"comfyrt/streampack"
)

// Result is one test's outcome.
type Result struct {
	Suite, Name string
	Status      string // pass, fail, skip, error
	Message     string
	Frames      []FrameResult
	Duration    time.Duration
}

// FrameResult is one compared frame.
type FrameResult struct {
	Input        string
	PSNR, MaxAbs float64
	OK           bool
}

// Case is a test with its files resolved.
type Case struct {
	Suite    string
	Test     streampack.Test
	Workflow string
	Inputs   []string
	Expected []string
	Clip     string
}

// Collect reads a target's tests: a pack's (a folder or .tar.gz, loaded
// and selected through selectPack) or a workflow's FILE.test.json.
func Collect(target string, selectPack func(target string) (*streampack.Pack, error)) ([]Case, error) {
	st, err := os.Stat(target)
	if err != nil {
		return nil, err
	}
	if st.IsDir() || strings.HasSuffix(target, ".tar.gz") || strings.HasSuffix(target, ".tgz") {
		p, err := selectPack(target)
		if err != nil {
			return nil, err
		}
		return packCases(target, p)
	}
	return fileCases(target)
}

// packCases are the tests of a pack's manifest, with the pack's files.
func packCases(target string, p *streampack.Pack) ([]Case, error) {
	var out []Case
	for _, t := range p.Manifest.Tests {
		c := Case{Suite: p.Manifest.Name, Test: t}
		var err error
		if c.Workflow, err = p.Path(t.Workflow); err != nil {
			return nil, err
		}
		for _, in := range t.Inputs {
			f, err := p.Path(in)
			if err != nil {
				return nil, err
			}
			c.Inputs = append(c.Inputs, f)
		}
		for _, e := range t.Expected {
			f, err := p.Path(e)
			if err != nil {
				return nil, err
			}
			c.Expected = append(c.Expected, f)
		}
		if t.Clip != "" {
			if c.Clip, err = p.Path(t.Clip); err != nil {
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

// fileCases are the tests of a workflow's FILE.test.json.
func fileCases(target string) ([]Case, error) {
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
	var out []Case
	for i, t := range doc.Tests {
		if t.Name == "" {
			t.Name = fmt.Sprintf("%s#%d", filepath.Base(target), i+1)
		}
		c := Case{Suite: filepath.Base(target), Test: t, Workflow: target}
		if t.Clip != "" {
			c.Clip = rel(t.Clip)
		}
		if t.Workflow != "" {
			c.Workflow = rel(t.Workflow)
		}
		for _, in := range t.Inputs {
			c.Inputs = append(c.Inputs, rel(in))
		}
		for _, e := range t.Expected {
			c.Expected = append(c.Expected, rel(e))
		}
		if len(c.Inputs) > 0 && len(c.Inputs) != len(c.Expected) {
			return nil, fmt.Errorf("%s: test %s: %d inputs but %d expected frames", spec, t.Name, len(c.Inputs), len(c.Expected))
		}
		out = append(out, c)
	}
	return out, nil
}

// Runner runs test cases with the CLI's workflow loading.
type Runner struct {
	// Compile compiles workflow (its bytes data, static files read from
	// its folder) for w×h frames, with frameMask as LoadImage's mask of
	// the frame (zero: none). A workflow that does not compile returns a
	// nil plan and a nil error, its diagnostics written to diags.
	Compile func(workflow string, data []byte, w, h int, frameMask value.Tensor, diags io.Writer) (*compiler.Plan, error)
	// MaxPixels refuses input pictures whose header claims more pixels
	// (0: the decoder's default), as `comfyrt run` does.
	MaxPixels int64
	// Update writes the actual frames as the expected pictures first.
	Update bool
}

// Run runs one test case; a panic is reported as the case's error.
func (rn *Runner) Run(c Case) (r Result) {
	start := time.Now()
	r = Result{Suite: c.Suite, Name: c.Test.Name}
	defer func() {
		if x := recover(); x != nil {
			r.Status, r.Message = "error", fmt.Sprintf("internal error: %v", x)
		}
		r.Duration = time.Since(start)
	}()
	tol := c.Test.Tolerance.WithDefaults()
	if c.Clip != "" {
		return rn.runClip(c, tol, r)
	}
	data, err := os.ReadFile(c.Workflow)
	if err != nil {
		r.Status, r.Message = "error", err.Error()
		return r
	}
	failed := false
	var msgs []string
	for i, in := range c.Inputs {
		frame, frameMask, err := picture.Read(in, rn.MaxPixels)
		if err != nil {
			r.Status, r.Message = "error", err.Error()
			return r
		}
		var diags bytes.Buffer
		// LoadImage's mask of a picture with alpha, as run.
		pl, err := rn.Compile(c.Workflow, data, frame.Shape[2], frame.Shape[1], frameMask, &diags)
		if err != nil || pl == nil {
			r.Status = "fail"
			r.Message = fmt.Sprintf("workflow %s does not compile: %v%s", filepath.Base(c.Workflow), errOr(err), strings.TrimSpace(diags.String()))
			return r
		}
		out, err := runOne(pl, frame)
		pl.Close()
		if err != nil {
			r.Status, r.Message = "fail", fmt.Sprintf("frame %s: %v", filepath.Base(in), err)
			return r
		}
		msg, err := rn.check(&r, in, filepath.Base(in), c.Expected[i], out, tol)
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

// Compare compares an output with an expected picture ([1,H,W,3],
// 0..1): PSNR in dB over every element (peak 1; +Inf when equal) and the
// largest absolute difference. A MASK output is compared as grey.
func Compare(got value.Value, want value.Tensor) (psnr, maxAbs float64, err error) {
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

func FormatPSNR(p float64) string {
	if math.IsInf(p, 1) {
		return "inf dB"
	}
	return fmt.Sprintf("%.1f dB", p)
}

func PrintResult(w io.Writer, r Result, verbose bool) {
	name := r.Suite + "/" + r.Name
	switch r.Status {
	case "pass":
		worst := FrameResult{PSNR: math.Inf(1)}
		for _, f := range r.Frames {
			if f.PSNR < worst.PSNR {
				worst.PSNR = f.PSNR
			}
			worst.MaxAbs = max(worst.MaxAbs, f.MaxAbs)
		}
		fmt.Fprintf(w, "PASS  %-32s %d frame(s), worst PSNR %s, max |Δ| %.4f  (%s)\n", name, len(r.Frames), FormatPSNR(worst.PSNR), worst.MaxAbs, r.Duration.Round(time.Millisecond))
	case "skip":
		fmt.Fprintf(w, "SKIP  %-32s %s\n", name, r.Message)
	default:
		fmt.Fprintf(w, "%-5s %-32s %s\n", strings.ToUpper(r.Status), name, r.Message)
	}
	if verbose {
		for _, f := range r.Frames {
			fmt.Fprintf(w, "        %s: PSNR %s, max |Δ| %.4f\n", f.Input, FormatPSNR(f.PSNR), f.MaxAbs)
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

func WriteJUnit(name string, results []Result) error {
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
			out = append(out, fmt.Sprintf("%s: PSNR %s, max |Δ| %.4f", f.Input, FormatPSNR(f.PSNR), f.MaxAbs))
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

// runClip runs a clip through the video executor and compares output
// frame i with expected[i].
func (rn *Runner) runClip(c Case, tol streampack.Tolerance, r Result) Result {
	data, err := os.ReadFile(c.Workflow)
	if err != nil {
		r.Status, r.Message = "error", err.Error()
		return r
	}
	av.SetLogLevel("error")
	src, err := av.OpenSource(c.Clip, av.SourceOptions{})
	if err != nil {
		r.Status, r.Message = "error", fmt.Sprintf("clip %s: %v", c.Test.Clip, err)
		return r
	}
	info := src.Info()
	var diags bytes.Buffer
	pl, err := rn.Compile(c.Workflow, data, info.Width, info.Height, value.Tensor{}, &diags)
	if err != nil || pl == nil {
		src.Close()
		r.Status = "fail"
		r.Message = fmt.Sprintf("workflow %s does not compile: %v%s", filepath.Base(c.Workflow), errOr(err), strings.TrimSpace(diags.String()))
		return r
	}
	sink := &firstFrames{n: len(c.Expected)}
	p, err := stream.New(stream.Spec[*compiler.Plan]{Source: src, Plan: pl, Sink: sink,
		Config: executor.Config[*compiler.Plan]{MaxFPS: -1, Queue: executor.Block, WarmupFrames: -1}})
	if err != nil {
		r.Status, r.Message = "error", err.Error()
		return r
	}
	runErr := p.Run(context.Background())
	_ = p.Close()
	st := p.Stats()
	if runErr != nil || st.NodeErrors > 0 {
		r.Status, r.Message = "fail", fmt.Sprintf("clip %s: %v (%d node errors)", c.Test.Clip, runErr, st.NodeErrors)
		return r
	}
	if len(sink.frames) < len(c.Expected) {
		r.Status, r.Message = "fail", fmt.Sprintf("clip %s: %d output frames, %d expected", c.Test.Clip, sink.total, len(c.Expected))
		return r
	}
	var msgs []string
	failed := false
	for i, f := range sink.frames {
		t := value.NewTensor(1, f.Height, f.Width, 3)
		value.FromRGB8(t.Data, f.RGB)
		got := value.OfTensor(value.Image, t)
		msg, err := rn.check(&r, fmt.Sprintf("%s#%d", c.Test.Clip, i), fmt.Sprintf("%d", i), c.Expected[i], got, tol)
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
func (rn *Runner) check(r *Result, input, name, expected string, got value.Value, tol streampack.Tolerance) (string, error) {
	if rn.Update {
		if err := picture.Write(expected, got); err != nil {
			return "", err
		}
	}
	want, _, err := picture.Read(expected, 0)
	if err != nil {
		return "", err
	}
	psnr, maxAbs, err := Compare(got, want)
	if err != nil {
		return fmt.Sprintf("frame %s: %v", name, err), nil
	}
	ok := psnr >= tol.PSNR && maxAbs <= tol.MaxAbs
	r.Frames = append(r.Frames, FrameResult{Input: input, PSNR: psnr, MaxAbs: maxAbs, OK: ok})
	if ok {
		return "", nil
	}
	return fmt.Sprintf("frame %s vs %s: PSNR %s (want ≥ %.1f), max |Δ| %.4f (want ≤ %.4f)",
		name, filepath.Base(expected), FormatPSNR(psnr), tol.PSNR, maxAbs, tol.MaxAbs), nil
}
