package wasmv1

import (
	"comfyrt/internal/testkit"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
	"comfyrt/streampack"
)

// colorGradeRef is the example guest's ColorGrade in plain Go (the same
// code as streampack/example/guest/nodes.go).
func colorGradeRef(dst, src []float32, brightness, contrast, saturation float32) {
	c01 := func(x float32) float32 { return min(max(x, 0), 1) }
	for i := 0; i+2 < len(src); i += 3 {
		r, g, b := src[i], src[i+1], src[i+2]
		l := 0.299*r + 0.587*g + 0.114*b
		dst[i] = c01((l+(r-l)*saturation-0.5)*contrast + 0.5 + brightness)
		dst[i+1] = c01((l+(g-l)*saturation-0.5)*contrast + 0.5 + brightness)
		dst[i+2] = c01((l+(b-l)*saturation-0.5)*contrast + 0.5 + brightness)
	}
}

func constF(f float64) value.Spec { return value.ConstSpec(value.OfFloat(f)) }

func TestWASMColorGrade(t *testing.T) {
	p := mustLoad(t, testkit.CopyExamplePack(t))
	r := registry(t, p)
	img := ramp(1, 24, 32, 3)
	// contrast comes per frame (a linked FLOAT), the rest are constants.
	k, out := kernel(t, r, "ColorGrade", []value.Spec{value.TensorSpec(value.Image, 1, 24, 32, 3), constF(0.1), {Kind: value.Float}, constF(1.5)})
	if got := value.ShapeString(out[0].Tensor.Shape); got != "[1,24,32,3]" {
		t.Fatalf("output %s", got)
	}
	want := make([]float32, len(img.Data))
	for _, contrast := range []float64{1, 0.5, 2} {
		in := []value.Value{value.OfTensor(value.Image, img), value.OfFloat(0.1), value.OfFloat(contrast), value.OfFloat(1.5)}
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		colorGradeRef(want, img.Data, 0.1, float32(contrast), 1.5)
		for i := range want {
			if math.Abs(float64(want[i]-out[0].Tensor.Data[i])) > 1e-6 {
				t.Fatalf("contrast %v: element %d = %v, want %v", contrast, i, out[0].Tensor.Data[i], want[i])
			}
		}
	}
	// LumaKey gives a MASK.
	_, mo := kernel(t, r, "LumaKey", []value.Spec{value.TensorSpec(value.Image, 1, 24, 32, 3), constF(0.5), constF(0.1)})
	if mo[0].Kind != value.Mask || value.ShapeString(mo[0].Tensor.Shape) != "[1,24,32]" {
		t.Fatalf("LumaKey output %v", mo[0])
	}
}

// hostileKernel prepares a class of the hostile guest on a small image.
func hostileKernel(t *testing.T, r *nodes.Registry, class string) (nodes.Kernel, []value.Value, value.Tensor) {
	img := ramp(1, 8, 8, 3)
	k, out := kernel(t, r, class, []value.Spec{value.TensorSpec(value.Image, 1, 8, 8, 3), {Kind: value.Float}})
	return k, out, img
}

func runTrigger(k nodes.Kernel, img value.Tensor, out []value.Value, trig float64) error {
	return nodes.SafeRun(k, []value.Value{value.OfTensor(value.Image, img), value.OfFloat(trig)}, out)
}

// TestHostileGuests: each misbehaviour is an error for that frame only;
// the same kernel then runs the next frames correctly.
func TestHostileGuests(t *testing.T) {
	p := mustLoad(t, hostilePack(t, nil))
	r := registry(t, p)
	cases := []struct {
		class string
		want  error
		text  string
	}{
		{"Loop", streampack.ErrGuestTimeout, "deadline"},
		{"Bomb", streampack.ErrGuestTrap, "out of memory"},
		{"OOB", streampack.ErrGuestTrap, "out of bounds memory access"},
		{"Panic", streampack.ErrGuestTrap, "guest panics on purpose"},
		{"BadRunMsg", streampack.ErrGuestABI, "outside the guest's memory"},
	}
	for _, tc := range cases {
		t.Run(tc.class, func(t *testing.T) {
			k, out, img := hostileKernel(t, r, tc.class)
			for frame, trig := range []float64{0, 1, 0, 1, 0} {
				start := time.Now()
				err := runTrigger(k, img, out, trig)
				if trig == 0 {
					if err != nil {
						t.Fatalf("frame %d: %v", frame, err)
					}
					for i := range img.Data {
						if out[0].Tensor.Data[i] != img.Data[i] {
							t.Fatalf("frame %d: output differs from the input", frame)
						}
					}
					clear(out[0].Tensor.Data)
					continue
				}
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
					t.Fatalf("frame %d: error %v, want %v containing %q", frame, err, tc.want, tc.text)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Fatalf("frame %d took %v", frame, d)
				}
				if frame == 1 {
					t.Logf("%s: %v", tc.class, err)
				}
			}
		})
	}
}

// TestSandboxEscape: no file, no socket, no environment, and a fake clock
// unless the manifest grants "clock".
func TestSandboxEscape(t *testing.T) {
	for _, grant := range []bool{false, true} {
		dir := hostilePack(t, func(m map[string]any) {
			if grant {
				m["modules"].(map[string]any)["hostile"].(map[string]any)["grants"] = []string{"clock"}
			}
		})
		p := mustLoad(t, dir)
		r := registry(t, p)
		k, out, img := hostileKernel(t, r, "Escape")
		if err := runTrigger(k, img, out, 1); err != nil {
			t.Fatal(err)
		}
		if out[1].Int != 0 {
			t.Fatalf("%d escape attempts succeeded", out[1].Int)
		}
		real := math.Abs(float64(out[2].Int-time.Now().Unix())) < 3600
		if real != grant {
			t.Fatalf("clock granted %v, but the guest saw Unix time %d", grant, out[2].Int)
		}
	}
}

// TestMalformedAnswers: a guest whose prepare answer breaks the ABI is a
// Prepare error, never a crash.
func TestMalformedAnswers(t *testing.T) {
	p := mustLoad(t, hostilePack(t, nil))
	r := registry(t, p)
	for _, c := range []string{"BadJSON", "BadPtr", "BadCount", "BadKind", "HugeAnswer"} {
		k, err := r.New(nodes.Config{NodeID: "1", Class: c})
		if err != nil {
			t.Fatal(err)
		}
		_, err = nodes.SafePrepare(k, []value.Spec{value.TensorSpec(value.Image, 1, 8, 8, 3), {Kind: value.Float}})
		if !errors.Is(err, streampack.ErrGuestABI) {
			t.Fatalf("%s: %v, want streampack.ErrGuestABI", c, err)
		}
		t.Logf("%s: %v", c, err)
		k.(nodes.Closer).Close()
	}
}

// TestConcurrentKernels runs kernels of one module from several
// goroutines (each kernel has its own instance).
func TestConcurrentKernels(t *testing.T) {
	p := mustLoad(t, testkit.CopyExamplePack(t))
	r := registry(t, p)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		k, out := kernel(t, r, "Vignette", []value.Spec{value.TensorSpec(value.Image, 1, 16, 16, 3), constF(0.5)})
		img := ramp(1, 16, 16, 3)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := k.Run([]value.Value{value.OfTensor(value.Image, img), value.OfFloat(0.5)}, out); err != nil {
					errs <- err
					return
				}
			}
			_ = g
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestModuleWithoutABI: a module that is valid WASM but does not speak
// the ABI is refused when the pack loads, naming the file.
func TestModuleWithoutABI(t *testing.T) {
	dir := hostilePack(t, nil)
	os.WriteFile(filepath.Join(dir, "hostile.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	if err := streampack.Seal(dir); err != nil {
		t.Fatal(err)
	}
	_, err := streampack.Load(dir, streampack.Options{WASM: DefaultRuntime()})
	var fe *streampack.FileError
	if !errors.Is(err, streampack.ErrABIVersion) || !errors.As(err, &fe) || fe.File != "hostile.wasm" {
		t.Fatalf("%v, want ErrABIVersion naming hostile.wasm", err)
	}
	t.Log(err)
}
