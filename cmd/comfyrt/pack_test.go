package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/nodes/engine/ort"
)

// builtExamplePack copies the example pack (WASM guest from source, the
// ONNX model generated: nothing binary is committed), which testkit builds
// once per test process, into a folder of the test.
func builtExamplePack(t *testing.T) string {
	t.Helper()
	return testkit.CopyExamplePack(t)
}

func TestPackCommands(t *testing.T) {
	pack := builtExamplePack(t)
	code, out, errs := cli(t, "", "pack", "validate", pack)
	if code != exitOK || !strings.Contains(out, "ok (comfyrt-example 0.1.0: 4 classes") {
		t.Fatalf("pack validate: %d\n%s%s", code, out, errs)
	}
	code, out, errs = cli(t, "", "pack", "inspect", pack)
	if code != exitOK || !strings.Contains(out, "ColorGrade     wasm:guest") || !strings.Contains(out, "Saliency       onnx:saliency") {
		t.Fatalf("pack inspect: %d\n%s%s", code, out, errs)
	}
	packs := t.TempDir()
	code, out, errs = cli(t, "", "pack", "install", "--packs-dir", packs, pack)
	if code != exitOK || !strings.Contains(out, "installed in") {
		t.Fatalf("pack install: %d\n%s%s", code, out, errs)
	}
	code, out, _ = cli(t, "", "pack", "list", "--packs-dir", packs)
	if code != exitOK || !strings.Contains(out, "comfyrt-example") {
		t.Fatalf("pack list: %d\n%s", code, out)
	}
	// A tampered pack is refused, naming the file.
	os.WriteFile(filepath.Join(pack, "guest.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	code, out, _ = cli(t, "", "pack", "validate", pack)
	if code != exitInvalid || !strings.Contains(out, "guest.wasm: integrity check failed") {
		t.Fatalf("tampered pack: %d\n%s", code, out)
	}
	code, _, errs = cli(t, "", "compile", "--pack", pack, filepath.Join(pack, "workflows", "grade.json"))
	if code != exitUsage || !strings.Contains(errs, "guest.wasm") {
		t.Fatalf("compile --pack tampered: %d\n%s", code, errs)
	}
}

func TestPackFlagOnValidateCompileRun(t *testing.T) {
	pack := builtExamplePack(t)
	wf := filepath.Join(pack, "workflows", "grade.json")
	if code, out, _ := cli(t, "", "validate", wf); code != exitInvalid || !strings.Contains(out, "ColorGrade") {
		t.Fatalf("validate without the pack: %d\n%s", code, out)
	}
	if code, out, errs := cli(t, "", "validate", "--pack", pack, wf); code != exitOK {
		t.Fatalf("validate --pack: %d\n%s%s", code, out, errs)
	}
	code, out, errs := cli(t, "", "compile", "--pack", pack, wf)
	if code != exitOK || !strings.Contains(out, "ColorGrade kernel=*wasmv1.wasmKernel") {
		t.Fatalf("compile --pack: %d\n%s%s", code, out, errs)
	}
	png := filepath.Join(t.TempDir(), "out.png")
	code, out, errs = cli(t, "", "run", "--pack", pack, "--workflow", wf, "-i", filepath.Join(pack, "tests", "input.png"), "-o", png)
	if code != exitOK {
		t.Fatalf("run --pack: %d\n%s%s", code, out, errs)
	}
	// Namespaced: the classes become fx.ColorGrade.
	code, out, _ = cli(t, "", "nodes", "--pack", "fx="+pack)
	if code != exitOK || !strings.Contains(out, "fx.ColorGrade") {
		t.Fatalf("nodes --pack fx=: %d\n%s", code, out)
	}
	// Two packs with the same classes clash unless namespaced.
	code, _, errs = cli(t, "", "validate", "--pack", pack, "--pack", builtExamplePack(t), wf)
	if code != exitUsage || !strings.Contains(errs, "node class defined twice") {
		t.Fatalf("duplicate packs: %d\n%s", code, errs)
	}
}

func TestTestCommand(t *testing.T) {
	pack := builtExamplePack(t)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	withORT := ort.CheckInit() == nil
	code, out, errs := cli(t, "", "test", "--junit", junit, pack)
	if withORT && (code != exitOK || strings.Count(out, "PASS") != 3) {
		t.Fatalf("comfyrt test PACK: %d\n%s%s", code, out, errs)
	}
	var doc struct {
		Tests int `xml:"tests,attr"`
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Tests != 3 {
		t.Fatalf("junit: %v %+v\n%s", err, doc, data)
	}

	// A workflow with its .test.json: one passing picture, one wrong
	// expectation, one clip through the video executor (its expected
	// frames written by --update first, then checked), one missing clip.
	dir := t.TempDir()
	wfData, _ := os.ReadFile(filepath.Join(pack, "workflows", "grade.json"))
	wf := filepath.Join(dir, "grade.json")
	os.WriteFile(wf, wfData, 0o644)
	for _, f := range []string{"input.png", "grade.png", "lumakey.png"} {
		b, _ := os.ReadFile(filepath.Join(pack, "tests", f))
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "grade.test.json"), []byte(`{"tests": [
		{"name": "good", "inputs": ["input.png"], "expected": ["grade.png"], "tolerance": {"psnr": 40}},
		{"name": "wrong", "inputs": ["input.png"], "expected": ["lumakey.png"], "tolerance": {}},
		{"name": "clip", "clip": "clip.mp4", "expected": ["clip0.png", "clip1.png", "clip2.png"]},
		{"name": "noclip", "clip": "none.mp4", "expected": []}
	]}`), 0o644)
	needAV(t)
	clip, _ := os.ReadFile(stampedClip(t, 5))
	os.WriteFile(filepath.Join(dir, "clip.mp4"), clip, 0o644)
	// Write the clip's expected frames, then check against them.
	clipSpec := filepath.Join(dir, "clip.test.json")
	os.WriteFile(filepath.Join(dir, "clip.json"), wfData, 0o644)
	os.WriteFile(clipSpec, []byte(`{"tests": [{"name": "clip", "clip": "clip.mp4", "expected": ["clip0.png", "clip1.png", "clip2.png"]}]}`), 0o644)
	if code, out, errs := cli(t, "", "test", "--pack", pack, "--update", filepath.Join(dir, "clip.json")); code != exitOK {
		t.Fatalf("--update on the clip: %d\n%s%s", code, out, errs)
	}
	code, out, errs = cli(t, "", "test", "--pack", pack, "--junit", junit, wf)
	if code != exitInvalid {
		t.Fatalf("want exit 1 (one failure): %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"PASS  grade.json/good", "FAIL  grade.json/wrong", "PSNR", "PASS  grade.json/clip", "grade.json/noclip", "none.mp4", "2 passed, 2 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	data, _ = os.ReadFile(junit)
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Tests != 4 {
		t.Fatalf("junit: %v %+v\n%s", err, doc, data)
	}
	if code, _, _ := cli(t, "", "test"); code != exitUsage {
		t.Fatalf("no target: %d", code)
	}
}
