package builtin

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// latentUpscaleRef is testdata/latent_upscale.json, written by
// scripts/reference/latent_upscale.py (PyTorch).
type latentUpscaleRef struct {
	Input struct {
		Shape []int     `json:"shape"`
		Data  []float32 `json:"data"`
	} `json:"input"`
	Cases []struct {
		Node   string         `json:"node"`
		Params map[string]any `json:"params"`
		Shape  []int          `json:"shape"`
		Data   []float32      `json:"data"`
	} `json:"cases"`
}

func latentUpscaleInputs(lat value.Value, node string, p map[string]any) []value.Value {
	if node == "LatentUpscaleBy" {
		return []value.Value{lat, str(p["upscale_method"].(string)), f64(p["scale_by"].(float64))}
	}
	return []value.Value{lat, str(p["upscale_method"].(string)), i64(int64(p["width"].(float64))), i64(int64(p["height"].(float64))), str(p["crop"].(string))}
}

// TestLatentUpscaleReference: every method (nearest-exact, bilinear, area,
// bicubic, bislerp), crop disabled and center, one side 0 (the aspect
// kept), both 0 (pass-through), sides under 64 (raised to 64) and
// LatentUpscaleBy, against PyTorch on a [2,4,5,7] latent with a zero pixel
// and parallel and opposite pixel pairs (bislerp's edge cases); Run does
// not allocate (runPrepared checks).
func TestLatentUpscaleReference(t *testing.T) {
	b, err := os.ReadFile("testdata/latent_upscale.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref latentUpscaleRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	s := ref.Input.Shape
	lat := value.New(value.LatentSpec(s[0], s[1], s[2], s[3]))
	copy(lat.Tensor.Data, ref.Input.Data)
	for _, c := range ref.Cases {
		name := fmt.Sprintf("%s/%v", c.Node, c.Params)
		k := kernel(t, c.Node)
		out := runPrepared(t, k, latentUpscaleInputs(lat, c.Node, c.Params)...)[0]
		if !value.EqualShapes(out.Tensor.Shape, c.Shape) {
			t.Errorf("%s: shape %v, want %v", name, out.Tensor.Shape, c.Shape)
			continue
		}
		// Relative to the value's size: float32 sums in another order.
		worst := 0.0
		for i, v := range out.Tensor.Data {
			worst = max(worst, math.Abs(float64(v-c.Data[i]))/max(1, math.Abs(float64(c.Data[i]))))
		}
		// bislerp's norms and trigonometry are in float64 here, float32 in
		// torch; bicubic's weights (the image resampler's) are within a few
		// ulp of torch's.
		tol := 1e-6
		if m := c.Params["upscale_method"]; m == "bislerp" || m == "bicubic" {
			tol = 4e-6
		}
		if testing.Verbose() {
			t.Logf("%s: within %.3g", name, worst)
		}
		if worst > tol {
			t.Errorf("%s: off PyTorch by %.3g (tolerance %g)", name, worst, tol)
		}
	}
}

func TestLatentUpscaleErrors(t *testing.T) {
	lat := value.New(value.LatentSpec(1, 4, 8, 8))
	img := value.New(value.ImageSpec(1, 8, 8))
	for _, c := range []struct {
		node string
		in   []value.Value
		want string
	}{
		{"LatentUpscale", []value.Value{img, str("bilinear"), i64(64), i64(64), str("disabled")}, "input samples"},
		{"LatentUpscale", []value.Value{lat, str("lanczos"), i64(64), i64(64), str("disabled")}, "input upscale_method"},
		{"LatentUpscale", []value.Value{lat, str("bilinear"), i64(-8), i64(64), str("disabled")}, "input width"},
		{"LatentUpscale", []value.Value{lat, str("bilinear"), i64(64), i64(64), str("edges")}, "input crop"},
		{"LatentUpscaleBy", []value.Value{lat, str("bislerp"), f64(0)}, "input scale_by"},
		{"LatentUpscaleBy", []value.Value{lat, str("bislerp"), f64(0.05)}, "input scale_by"},
	} {
		_, err := nodes.SafePrepare(kernel(t, c.node), specsOf(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: %v, want an error naming %s", c.node, specsOf(c.in)[1:], err, c.want)
		}
	}
}

// The scratch declared is the horizontal pass's buffer: B·C planes of the
// window's rows at the output width.
func TestLatentUpscaleScratch(t *testing.T) {
	lat := value.New(value.LatentSpec(2, 4, 64, 64))
	k := kernel(t, "LatentUpscale")
	n, err := nodes.SafeScratch(k, specsOf([]value.Value{lat, str("bislerp"), i64(1024), i64(1024), str("disabled")}))
	if want := int64(4 * 2 * 4 * 64 * 128); err != nil || n != want {
		t.Errorf("scratch %d (%v), want %d", n, err, want)
	}
}

// BenchmarkLatentUpscale: a 512×512 frame's latent [1,4,64,64] to 768×768
// ([1,4,96,96]) per method.
func BenchmarkLatentUpscale(b *testing.B) {
	lat := value.New(value.LatentSpec(1, 4, 64, 64))
	for i := range lat.Tensor.Data {
		lat.Tensor.Data[i] = float32(math.Sin(float64(i) * 0.37))
	}
	for _, m := range latentMethods {
		b.Run(m, func(b *testing.B) {
			k := kernel(b, "LatentUpscale")
			in := []value.Value{lat, str(m), i64(768), i64(768), str("disabled")}
			out := prepare(b, k, in)
			b.ReportAllocs()
			for b.Loop() {
				if err := k.Run(in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
