package wftest

import (
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comfyrt/nodes/value"
	"comfyrt/streampack"
)

func TestCompare(t *testing.T) {
	want := value.NewTensor(1, 1, 2, 3)
	copy(want.Data, []float32{0, 0.5, 1, 0.25, 0.25, 0.25})
	same := value.OfTensor(value.Image, value.Tensor{Shape: want.Shape, Data: append([]float32(nil), want.Data...)})
	if psnr, maxAbs, err := Compare(same, want); err != nil || !math.IsInf(psnr, 1) || maxAbs != 0 {
		t.Fatalf("equal frames: %v %v %v", psnr, maxAbs, err)
	}
	off := value.OfTensor(value.Image, value.Tensor{Shape: want.Shape, Data: []float32{0, 0.5, 1, 0.25, 0.25, 0.35}})
	psnr, maxAbs, err := Compare(off, want)
	// one element of six off by 0.1: MSE 0.01/6.
	if err != nil || math.Abs(maxAbs-0.1) > 1e-6 || math.Abs(psnr-10*math.Log10(600)) > 1e-3 {
		t.Fatalf("one element off: PSNR %v, max %v, %v", psnr, maxAbs, err)
	}
	// A MASK is compared as grey.
	grey := value.NewTensor(1, 1, 2, 3)
	copy(grey.Data, []float32{0.5, 0.5, 0.5, 1, 1, 1})
	mask := value.OfTensor(value.Mask, value.Tensor{Shape: []int{1, 1, 2}, Data: []float32{0.5, 1}})
	if psnr, _, err := Compare(mask, grey); err != nil || !math.IsInf(psnr, 1) {
		t.Fatalf("mask as grey: %v %v", psnr, err)
	}
	small := value.OfTensor(value.Image, value.NewTensor(1, 1, 1, 3))
	if _, _, err := Compare(small, want); err == nil || !strings.Contains(err.Error(), "expected picture is 2×1") {
		t.Fatalf("size mismatch: %v", err)
	}
}

func TestWriteJUnit(t *testing.T) {
	name := filepath.Join(t.TempDir(), "junit.xml")
	results := []Result{
		{Suite: "a", Name: "one", Status: "pass", Duration: time.Second, Frames: []FrameResult{{Input: "in.png", PSNR: math.Inf(1)}}},
		{Suite: "a", Name: "two", Status: "fail", Message: "frame 0 off"},
		{Suite: "b", Name: "three", Status: "skip", Message: "no clip"},
		{Suite: "b", Name: "four", Status: "error", Message: "unreadable"},
	}
	if err := WriteJUnit(name, results); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 4 || doc.Fails != 1 || doc.Errors != 1 || doc.Skipped != 1 || len(doc.Suites) != 2 {
		t.Fatalf("counts %+v\n%s", doc, data)
	}
	a := doc.Suites[0]
	if a.Name != "a" || a.Tests != 2 || a.Time != "1.000" || a.Cases[1].Failure == nil || a.Cases[0].SystemOut != "in.png: PSNR inf dB, max |Δ| 0.0000" {
		t.Fatalf("suite a %+v", a)
	}
}

func TestCollectTestJSON(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "wf.json")
	os.WriteFile(wf, []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(dir, "wf.test.json"), []byte(`{"tests": [
		{"inputs": ["in/a.png"], "expected": ["out/a.png"]},
		{"name": "clip", "clip": "c.mp4", "expected": ["0.png"]}]}`), 0o644)
	noPacks := func(string) (*streampack.Pack, error) { t.Fatal("a workflow target selected a pack"); return nil, nil }
	cases, err := Collect(wf, noPacks)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].Test.Name != "wf.json#1" || cases[0].Inputs[0] != filepath.Join(dir, "in", "a.png") ||
		cases[0].Workflow != wf || cases[1].Clip != filepath.Join(dir, "c.mp4") {
		t.Fatalf("cases %+v", cases)
	}
	os.WriteFile(filepath.Join(dir, "wf.test.json"), []byte(`{"tests": [{"inputs": ["a.png", "b.png"], "expected": ["a.png"]}]}`), 0o644)
	if _, err := Collect(wf, noPacks); err == nil || !strings.Contains(err.Error(), "2 inputs but 1 expected") {
		t.Fatalf("inputs without expected frames: %v", err)
	}
	if _, err := Collect(filepath.Join(dir, "none.json"), noPacks); err == nil {
		t.Fatal("a missing target: no error")
	}
}
