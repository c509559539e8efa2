package clip

import (
	"math"
	"strings"
	"testing"
)

// layerNorm is torch's layer_norm of each row with weight w and bias b.
func layerNorm(x []float32, w, b []float64, tokens, dim int) []float32 {
	out := make([]float32, len(x))
	for t := range tokens {
		row := x[t*dim : (t+1)*dim]
		var m, v float64
		for _, e := range row {
			m += float64(e)
		}
		m /= float64(dim)
		for _, e := range row {
			v += (float64(e) - m) * (float64(e) - m)
		}
		r := 1 / math.Sqrt(v/float64(dim)+1e-5)
		for j, e := range row {
			out[t*dim+j] = float32((float64(e)-m)*r*w[j] + b[j])
		}
	}
	return out
}

// TestFinalLayerNorm: the norm recovered from (top, last) applied to an
// earlier layer equals the layer norm with the true weight and bias;
// a last that is no layer norm of top is refused; nothing is allocated.
func TestFinalLayerNorm(t *testing.T) {
	const tokens, dim = 77, 16
	top, layer := make([]float32, tokens*dim), make([]float32, tokens*dim)
	w, b := make([]float64, dim), make([]float64, dim)
	for j := range dim {
		w[j], b[j] = 0.5+float64(j)*0.1, math.Sin(float64(j))
	}
	for i := range top {
		top[i] = float32(math.Sin(float64(i)*0.37) * 3)
		layer[i] = float32(math.Cos(float64(i)*0.11) * 2)
	}
	last := layerNorm(top, w, b, tokens, dim)
	want := layerNorm(layer, w, b, tokens, dim)
	dst := make([]float32, tokens*dim)
	wb := make([]float64, FinalLayerNormScratch(tokens, dim))
	if err := FinalLayerNorm(dst, layer, top, last, tokens, dim, wb); err != nil {
		t.Fatal(err)
	}
	for i := range dst {
		if math.Abs(float64(dst[i]-want[i])) > 1e-5 {
			t.Fatalf("[%d] %v, want %v", i, dst[i], want[i])
		}
	}
	if a := testing.AllocsPerRun(10, func() { _ = FinalLayerNorm(dst, layer, top, last, tokens, dim, wb) }); a != 0 {
		t.Errorf("%v allocations", a)
	}
	if err := FinalLayerNorm(dst, layer, top, layer, tokens, dim, wb); err == nil || !strings.Contains(err.Error(), "not a layer norm") {
		t.Errorf("unrelated last: %v", err)
	}
	if err := FinalLayerNorm(dst, layer, top, last, tokens, dim, wb[:3]); err == nil {
		t.Error("short scratch accepted")
	}
}
