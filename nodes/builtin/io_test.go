package builtin

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

func loadImageKernel(t *testing.T, dir string) nodes.Kernel {
	t.Helper()
	k, err := registry(t).New(nodes.Config{NodeID: "1", Class: "LoadImage", InputDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestLoadImage(t *testing.T) {
	dir := t.TempDir()
	rgba := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for y := range 2 {
		for x := range 3 {
			rgba.SetNRGBA(x, y, color.NRGBA{uint8(10 * x), uint8(50 + y), 200, uint8(40*x + 7*y)})
		}
	}
	testkit.WritePNG(t, filepath.Join(dir, "a.png"), rgba)
	rgb := image.NewRGBA(image.Rect(0, 0, 5, 4)) // opaque: PNG colour type 2
	for i := range rgb.Pix {
		rgb.Pix[i] = 255
	}
	testkit.WritePNG(t, filepath.Join(dir, "b.png"), rgb)

	k := loadImageKernel(t, dir)
	in := []value.Value{str("a.png")}
	out := prepare(t, k, in)
	if err := k.Run(in, out); err != nil {
		t.Fatal(err)
	}
	wantShape(t, out[0], 1, 2, 3, 3)
	wantShape(t, out[1], 1, 2, 3)
	for y := range 2 {
		for x := range 3 {
			c := rgba.NRGBAAt(x, y)
			i := y*3 + x
			got := out[0].Tensor.Data[3*i : 3*i+3]
			want := []float32{float32(c.R) / 255, float32(c.G) / 255, float32(c.B) / 255}
			if !slices.Equal(got, want) {
				t.Errorf("(%d,%d) = %v, want %v", y, x, got, want)
			}
			if m, want := out[1].Tensor.Data[i], 1-float32(c.A)/255; m != want {
				t.Errorf("mask (%d,%d) = %v, want 1−alpha = %v", y, x, m, want)
			}
		}
	}
	if allocs := testing.AllocsPerRun(3, func() { _ = k.Run(in, out) }); allocs != 0 {
		t.Errorf("Run allocates %v times", allocs)
	}

	// No alpha: a 64×64 zero mask whatever the size.
	out = prepare(t, k, []value.Value{str("b.png [input]")})
	_ = k.Run([]value.Value{str("b.png")}, out)
	wantShape(t, out[0], 1, 4, 5, 3)
	wantShape(t, out[1], 1, 64, 64)
	for _, v := range out[1].Tensor.Data {
		if v != 0 {
			t.Fatal("mask of a picture without alpha is not zero")
		}
	}

	for _, bad := range []string{"../a.png", "/etc/passwd", "missing.png"} {
		if _, err := k.Prepare([]value.Spec{value.ConstSpec(str(bad))}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLoadImage_jpeg(t *testing.T) {
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 200, 100, 50, 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.jpg"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	k := loadImageKernel(t, dir)
	in := []value.Value{str("c.jpg")}
	out := prepare(t, k, in)
	_ = k.Run(in, out)
	wantShape(t, out[0], 1, 16, 16, 3)
	for i, v := range out[0].Tensor.Data {
		want := []float64{200, 100, 50}[i%3] / 255
		if math.Abs(float64(v)-want) > 3.0/255 { // JPEG is lossy
			t.Fatalf("element %d = %v, want about %v", i, v, want)
		}
	}
}

func TestFrameInputs(t *testing.T) {
	frame := randomImage(41, 1, 6, 8, 3)
	for _, class := range []string{"LoadTensor", "LoadImage", "PrimaryInputLoadImage"} {
		k := kernel(t, class)
		if _, ok := k.(nodes.FrameInput); !ok {
			t.Fatalf("%s is not a FrameInput", class)
		}
		out := runKernel(t, class, frame)
		if !slices.Equal(out[0].Tensor.Data, frame.Tensor.Data) {
			t.Errorf("%s bound to the frame did not pass it through", class)
		}
	}
	if err := prepareErr(t, "LoadTensor", f64(1)); err == nil {
		t.Error("LoadTensor prepared without the frame")
	}
	for _, class := range []string{"SaveTensor", "PreviewImage"} {
		if _, ok := kernel(t, class).(nodes.FrameOutput); !ok {
			t.Errorf("%s is not a FrameOutput", class)
		}
		if out := runKernel(t, class, frame); len(out) != 0 {
			t.Errorf("%s has outputs", class)
		}
	}
	runKernel(t, "SaveImage", frame, str("ComfyUI"))
}

func TestPrimitives(t *testing.T) {
	for _, tc := range []struct {
		class string
		in    value.Value
		want  value.Value
	}{
		{"PrimitiveInt", i64(42), i64(42)},
		{"PrimitiveFloat", f64(0.5), f64(0.5)},
		{"PrimitiveFloat", i64(2), f64(2)},
		{"PrimitiveString", str("hi"), str("hi")},
		{"PrimitiveStringMultiline", str("a\nb"), str("a\nb")},
		{"PrimitiveBoolean", boolean(true), boolean(true)},
	} {
		k := kernel(t, tc.class)
		specs, err := k.Prepare([]value.Spec{value.ConstSpec(tc.in)})
		if err != nil {
			t.Fatalf("%s: %v", tc.class, err)
		}
		if specs[0].Const == nil || specs[0].Const.String() != tc.want.String() || specs[0].Const.Kind != tc.want.Kind {
			t.Errorf("%s: output spec %v, want the constant %v", tc.class, specs[0], tc.want)
		}
		out := runKernel(t, tc.class, tc.in)
		if out[0].String() != tc.want.String() || out[0].Kind != tc.want.Kind {
			t.Errorf("%s: Run gives %v, want %v", tc.class, out[0], tc.want)
		}
	}
	if err := prepareErr(t, "PrimitiveInt", str("x")); err == nil {
		t.Error("PrimitiveInt accepted a string")
	}
}
