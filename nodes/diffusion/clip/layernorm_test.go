package clip

import (
	"math"
	"slices"
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
	// Near misses: one token's feature 5 % off, and one feature carrying a
	// small error that varies over the tokens (5 % of its size).
	outlier := slices.Clone(last)
	outlier[40*dim+3] *= 1.05
	drift := slices.Clone(last)
	for tk := range tokens {
		drift[tk*dim+7] += float32(0.05 * math.Abs(float64(last[7])) * math.Sin(float64(tk)))
	}
	for name, l := range map[string][]float32{"outlier token": outlier, "drifting feature": drift} {
		if err := FinalLayerNorm(dst, layer, top, l, tokens, dim, wb); err == nil || !strings.Contains(err.Error(), "not a layer norm") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// float16 rounding of both outputs still fits.
	h := func(v []float32) []float32 {
		o := make([]float32, len(v))
		for i, x := range v {
			o[i] = float16(x)
		}
		return o
	}
	if err := FinalLayerNorm(dst, layer, h(top), h(last), tokens, dim, wb); err != nil {
		t.Errorf("float16-rounded outputs: %v", err)
	}
	if err := FinalLayerNorm(dst, layer, top, last, tokens, dim, wb[:3]); err == nil {
		t.Error("short scratch accepted")
	}
}

// float16 rounds x to binary16's 11 significant bits (the values here are
// far from its subnormals and its overflow).
func float16(x float32) float32 {
	frac, exp := math.Frexp(float64(x))
	return float32(math.Ldexp(math.RoundToEven(math.Ldexp(frac, 11)), exp-11))
}
