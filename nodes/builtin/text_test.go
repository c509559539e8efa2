package builtin

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// textRef is testdata/text_renderer.json, written by
// scripts/reference/text_renderer.py: the node's steps performed by Pillow
// in the Go font, Python's textwrap, Pillow's colour names.
type textRef struct {
	Cases []struct {
		Params    []any     `json:"params"`
		Origin    []int     `json:"origin"`
		Mask      []int     `json:"mask"`
		TextRGB   []float64 `json:"text_rgb"`
		CornerRGB []float64 `json:"corner_rgb"`
	} `json:"cases"`
	Wraps []struct {
		Text  string   `json:"text"`
		Width int      `json:"width"`
		Lines []string `json:"lines"`
	} `json:"wraps"`
	Colors []struct {
		S    string  `json:"s"`
		RGBA []uint8 `json:"rgba"`
	} `json:"colors"`
}

func loadTextRef(t *testing.T) textRef {
	t.Helper()
	data, err := os.ReadFile("testdata/text_renderer.json")
	if err != nil {
		t.Fatal(err)
	}
	var r textRef
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// textInputsOf turns the reference's parameters into kernel inputs.
func textInputsOf(p []any) []value.Value {
	in := make([]value.Value, len(p))
	for i, x := range p {
		switch v := x.(type) {
		case string:
			in[i] = str(v)
		case float64:
			if i > 0 || v == math.Trunc(v) {
				in[i] = i64(int64(v))
			} else {
				in[i] = f64(v)
			}
		}
	}
	return in
}

// inkBox returns the bounding box of the mask's samples above 0.5.
func inkBox(m []float64, w int) (x0, y0, x1, y1 int) {
	x0, y0, x1, y1 = math.MaxInt, math.MaxInt, -1, -1
	for i, v := range m {
		if v > 0.5 {
			x, y := i%w, i/w
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
		}
	}
	return
}

// TestTextRenderer_matchesPillowLayout: the text lands where Pillow puts
// it in the same font (the ink's bounding box within 2 pixels on every
// side), with nearly the same coverage, in the reference's colours.
func TestTextRenderer_matchesPillowLayout(t *testing.T) {
	ref := loadTextRef(t)
	if len(ref.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range ref.Cases {
		name, _ := json.Marshal(c.Params[0])
		t.Run(strings.ReplaceAll(string(name), " ", "_"), func(t *testing.T) {
			in := textInputsOf(c.Params)
			out := runKernel(t, "TextRenderer", in...)
			w, h := int(in[1].Int), int(in[2].Int)
			wantShape(t, out[0], 1, h, w, 3)
			wantShape(t, out[1], 1, h, w)
			got, want := make([]float64, w*h), make([]float64, w*h)
			var sum float64
			for i := range got {
				got[i], want[i] = float64(out[1].Tensor.Data[i]), float64(c.Mask[i])/255
				sum += math.Abs(got[i] - want[i])
			}
			gx0, gy0, gx1, gy1 := inkBox(got, w)
			wx0, wy0, wx1, wy1 := inkBox(want, w)
			t.Logf("ink box %d,%d–%d,%d, Pillow %d,%d–%d,%d; mean |Δmask| %.4f", gx0, gy0, gx1, gy1, wx0, wy0, wx1, wy1, sum/float64(w*h))
			for _, d := range []int{gx0 - wx0, gy0 - wy0, gx1 - wx1, gy1 - wy1} {
				if d < -2 || d > 2 {
					t.Errorf("ink box %d,%d–%d,%d, Pillow's %d,%d–%d,%d", gx0, gy0, gx1, gy1, wx0, wy0, wx1, wy1)
					break
				}
			}
			// Rasterizers differ (FreeType's hinting rounds stems and
			// heights): measured means are 0.003–0.027.
			if mean := sum / float64(w*h); mean > 0.035 {
				t.Errorf("mean |Δmask| = %.4f, want ≤ 0.035", mean)
			}
			img := out[0].Tensor.Data
			if d := maxAbsDiff(img[:3], toF32(c.CornerRGB)); d > 0.5/255 {
				t.Errorf("background %v, Pillow %v", img[:3], c.CornerRGB)
			}
			if c.TextRGB != nil {
				// A pixel inside a glyph: the font colour (blended over
				// the background as far as its alpha lets it).
				for i := range got {
					if got[i] >= 1 {
						if d := maxAbsDiff(img[3*i:3*i+3], toF32(c.TextRGB)); d > 0.5/255 {
							t.Errorf("text colour %v, Pillow %v", img[3*i:3*i+3], c.TextRGB)
						}
						break
					}
				}
			}
		})
	}
}

func toF32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// TestTextRenderer_wrapAndColours: the line breaking is Python's
// textwrap.wrap (hyphens aside) and the colour strings are Pillow's.
func TestTextRenderer_wrapAndColours(t *testing.T) {
	ref := loadTextRef(t)
	for _, w := range ref.Wraps {
		if got := pyWrap(w.Text, w.Width); !slices.Equal(got, w.Lines) && !(len(got) == 0 && len(w.Lines) == 0) {
			t.Errorf("wrap(%q, %d) = %q, textwrap %q", w.Text, w.Width, got, w.Lines)
		}
	}
	for _, c := range ref.Colors {
		got, err := pillowColor(c.S)
		if err != nil || !slices.Equal(got[:], c.RGBA) {
			t.Errorf("pillowColor(%q) = %v, %v; Pillow %v", c.S, got, err, c.RGBA)
		}
	}
	for _, bad := range []string{"", "whit", "#12", "#12345", "#gg0000", "rgb(1,2)", "rgb(1,2,300)", "rgba(1,2,3)", "hsl(0,100%,50%)"} {
		if _, err := pillowColor(bad); err == nil {
			t.Errorf("pillowColor(%q) accepted", bad)
		}
	}
}

// TestTextRenderer_pyStr: values are written as Python's str() writes them.
func TestTextRenderer_pyStr(t *testing.T) {
	for _, c := range []struct {
		v    value.Value
		want string
	}{
		{i64(-42), "-42"}, {boolean(true), "True"}, {boolean(false), "False"}, {str("é\nx"), "é\nx"},
		{f64(1), "1.0"}, {f64(0.1), "0.1"}, {f64(-2.5), "-2.5"}, {f64(1e16), "1e+16"}, {f64(123456789012345.6), "123456789012345.6"},
		{f64(1e-4), "0.0001"}, {f64(1.5e-5), "1.5e-05"}, {f64(math.Inf(-1)), "-inf"}, {f64(math.NaN()), "nan"}, {f64(1e300), "1e+300"},
	} {
		if got, err := strOf(c.v); err != nil || got != c.want {
			t.Errorf("strOf(%v) = %q, %v; want %q", c.v, got, err, c.want)
		}
	}
}

// TestTextRenderer_perFrameText: a linked text is drawn again when it
// changes, and only then; bad inputs are refused naming them.
func TestTextRenderer_perFrameText(t *testing.T) {
	k := kernel(t, "TextRenderer")
	specs := []value.Spec{{Kind: value.String}}
	params := []value.Value{i64(128), i64(64), i64(24), str("white"), str("black"), i64(0), i64(0), str("left"), i64(0)}
	for _, p := range params {
		specs = append(specs, value.ConstSpec(p))
	}
	outSpecs, err := nodes.SafePrepare(k, specs)
	if err != nil {
		t.Fatal(err)
	}
	out := []value.Value{value.New(outSpecs[0]), value.New(outSpecs[1])}
	run := func(text string) []float32 {
		in := append([]value.Value{str(text)}, params...)
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(out[1].Tensor.Data)
	}
	a, b := run("I"), run("WWW")
	_, _, ax1, _ := inkBox(f64s(a), 128)
	_, _, bx1, _ := inkBox(f64s(b), 128)
	if !(bx1 > ax1+20) {
		t.Errorf("the ink of WWW ends at x=%d, of I at %d: the second frame was not drawn again", bx1, ax1)
	}
	if again := run("I"); !slices.Equal(again, a) {
		t.Error("drawing I again differs")
	}
	in := append([]value.Value{str("I")}, params...)
	if n := testing.AllocsPerRun(5, func() { _ = k.Run(in, out) }); n != 0 {
		t.Errorf("an unchanged text allocates %v times per Run", n)
	}
	for _, c := range []struct {
		slot int
		v    value.Value
		want string
	}{
		{4, str("not-a-colour"), "input font_color"},
		{5, str("#12345"), "input background_color"},
		{1, i64(0), "input width"},
		{3, i64(0), "input font_size"},
		{8, str("justify"), "input align"},
	} {
		bad := append([]value.Value{str("x")}, params...)
		bad[c.slot] = c.v
		if err := prepareErr(t, "TextRenderer", bad...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("slot %d = %v: error %v, want it to name %q", c.slot, c.v, err, c.want)
		}
	}
	img := append([]value.Value{randomImage(1, 1, 4, 4, 3)}, params...)
	if err := prepareErr(t, "TextRenderer", img...); err == nil || !strings.Contains(err.Error(), "input any") {
		t.Errorf("an IMAGE as text: %v", err)
	}
}

func f64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// TestTextRenderer_concurrentKernels: kernels of several plans (streams)
// draw at once; they share the parsed font, never a face (go test -race).
func TestTextRenderer_concurrentKernels(t *testing.T) {
	params := []value.Value{i64(96), i64(64), i64(20), str("white"), str("black"), i64(0), i64(0), str("center"), i64(0)}
	want := runKernel(t, "TextRenderer", append([]value.Value{str("same")}, params...)...)[1].Tensor.Data
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			k, err := registry(t).New(nodes.Config{NodeID: "1", Class: "TextRenderer"})
			if err != nil {
				errs <- err
				return
			}
			specs := []value.Spec{{Kind: value.Int}}
			for _, p := range params {
				specs = append(specs, value.ConstSpec(p))
			}
			outSpecs, err := k.Prepare(specs)
			if err != nil {
				errs <- err
				return
			}
			out := []value.Value{value.New(outSpecs[0]), value.New(outSpecs[1])}
			for i := range 20 {
				in := append([]value.Value{i64(int64(g*100 + i))}, params...)
				if err := k.Run(in, out); err != nil {
					errs <- err
					return
				}
			}
			in := append([]value.Value{str("same")}, params...)
			if err := k.Run(in, out); err != nil {
				errs <- err
				return
			}
			if !slices.Equal(out[1].Tensor.Data, want) {
				errs <- errors.New("a kernel drawing beside others drew differently")
				return
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
