package builtin

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// filesNotZlib is image data that is not zlib: of a testkit.HeaderPNG
// with it, only the header can be read.
var filesNotZlib = bytes.Repeat([]byte{0xAB}, 64)

func TestFiles_DecodePictureLimit(t *testing.T) {
	_, err := DecodePicture(bytes.NewReader(testkit.HeaderPNG(20000, 20000, filesNotZlib)), 0)
	if err == nil || !strings.Contains(err.Error(), "20000×20000") || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("20000×20000 PNG: %v, want the dimensions refused", err)
	}
	// At the limit the header passes and the (broken) data is decoded.
	_, err = DecodePicture(bytes.NewReader(testkit.HeaderPNG(10, 10, filesNotZlib)), 100)
	if err == nil || strings.Contains(err.Error(), "over the limit") {
		t.Errorf("10×10 PNG with a limit of 100: %v, want a decoding error", err)
	}
	_, err = DecodePicture(bytes.NewReader(testkit.HeaderPNG(10, 11, filesNotZlib)), 100)
	if err == nil || !strings.Contains(err.Error(), "over the limit of 100 pixels") {
		t.Errorf("10×11 PNG with a limit of 100: %v", err)
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, image.NewGray(image.Rect(0, 0, 16, 8)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodePicture(bytes.NewReader(jb.Bytes()), 127); err == nil || !strings.Contains(err.Error(), "16×8") {
		t.Errorf("16×8 JPEG with a limit of 127: %v", err)
	}
	p, err := DecodePicture(bytes.NewReader(jb.Bytes()), 128)
	if err != nil || p.W != 16 || p.H != 8 || p.Mask != nil {
		t.Errorf("16×8 JPEG with a limit of 128: %v %d×%d", err, p.W, p.H)
	}
	if _, err := DecodePicture(strings.NewReader("root:x:0:0"), 0); err == nil {
		t.Error("a text file decoded")
	}
}

// filesKernel is LoadImage with cfg (NodeID, Class set here).
func filesKernel(t *testing.T, cfg nodes.Config) nodes.Kernel {
	t.Helper()
	cfg.NodeID, cfg.Class = "1", "LoadImage"
	k, err := registry(t).New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFiles_LoadImageFolder(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "in")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pic := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range pic.Pix {
		pic.Pix[i] = uint8(40 * i)
	}
	testkit.WritePNG(t, filepath.Join(top, "outside.png"), pic)
	testkit.WritePNG(t, filepath.Join(dir, "inside.png"), pic)
	if err := os.WriteFile(filepath.Join(dir, "big.png"), testkit.HeaderPNG(20000, 20000, filesNotZlib), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"out.png": filepath.Join(top, "outside.png"), "in.png": "inside.png",
		"passwd.png": "/etc/passwd", "zero.png": "/dev/zero"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	load := func(confined bool, name string) error {
		k := filesKernel(t, nodes.Config{InputDir: dir, Confined: confined})
		_, err := nodes.SafePrepare(k, []value.Spec{value.ConstSpec(str(name))})
		return err
	}
	for _, tc := range []struct {
		name             string
		confined, local  bool // loads
		code             string
		confinedContains string
	}{
		{"inside.png", true, true, "", ""},
		{"in.png", true, true, "", ""}, // a link inside the folder
		{"out.png", false, true, string(diag.InvalidFile), "leads out of"},
		{"passwd.png", false, false, string(diag.InvalidFile), "leads out of"},
		{"zero.png", false, false, string(diag.InvalidFile), "leads out of"},
		{"fifo.png", false, false, string(diag.InvalidFile), "not a regular file (a FIFO)"},
		{"sub.png", false, false, string(diag.InvalidFile), "not a regular file (a folder)"},
		{"big.png", false, false, string(diag.InvalidFile), "20000×20000"},
		{"missing.png", false, false, string(diag.MissingFile), "no such file"},
	} {
		for _, confined := range []bool{true, false} {
			err := load(confined, tc.name)
			want := tc.local
			if confined {
				want = tc.confined
			}
			if (err == nil) != want {
				t.Errorf("%s (confined %v): err %v, want loaded %v", tc.name, confined, err, want)
				continue
			}
			if err == nil {
				continue
			}
			var fe *nodes.FileError
			if !errors.As(err, &fe) || string(fe.Code) != tc.code || fe.Input != "image" {
				t.Errorf("%s (confined %v): %v (%T), want a FileError %s for input image", tc.name, confined, err, err, tc.code)
			}
			if !strings.Contains(err.Error(), `"`+tc.name+`"`) {
				t.Errorf("%s (confined %v): %q does not name the file", tc.name, confined, err)
			}
			if confined && (strings.Contains(err.Error(), top) || !strings.Contains(err.Error(), tc.confinedContains)) {
				t.Errorf("%s (confined): %q: want %q and not the folder", tc.name, err, tc.confinedContains)
			}
		}
	}
}

// TestFiles_FrameMask: a LoadImage bound as the frame input outputs the
// frame picture's mask when the config gives one of the frame's size, and
// the 64×64 zero mask otherwise.
func TestFiles_FrameMask(t *testing.T) {
	frame := randomImage(5, 1, 3, 4, 3)
	fm := value.NewTensor(1, 3, 4)
	for i := range fm.Data {
		fm.Data[i] = float32(i) / 11
	}
	for _, class := range []string{"LoadImage", "PrimaryInputLoadImage"} {
		k, err := registry(t).New(nodes.Config{NodeID: "1", Class: class, FrameMask: fm})
		if err != nil {
			t.Fatal(err)
		}
		out := prepare(t, k, []value.Value{frame})
		if err := k.Run([]value.Value{frame}, out); err != nil {
			t.Fatal(err)
		}
		wantShape(t, out[1], 1, 3, 4)
		if !slices.Equal(out[1].Tensor.Data, fm.Data) {
			t.Errorf("%s: mask %v, want the frame's %v", class, out[1].Tensor.Data, fm.Data)
		}
		if !slices.Equal(out[0].Tensor.Data, frame.Tensor.Data) {
			t.Errorf("%s: the frame did not pass through", class)
		}
	}
	// A mask of another size (a video frame of a different size) is not used.
	k, _ := registry(t).New(nodes.Config{NodeID: "1", Class: "LoadImage", FrameMask: value.NewTensor(1, 2, 2)})
	out := prepare(t, k, []value.Value{frame})
	wantShape(t, out[1], 1, 64, 64)
}

// TestFiles_AlphaPNGKinds: which PNGs have a mask (colour types 4 and 6,
// as Pillow's "A" band).
func TestFiles_AlphaPNGKinds(t *testing.T) {
	for _, tc := range []struct {
		img  image.Image
		mask bool
	}{
		{image.NewNRGBA(image.Rect(0, 0, 2, 2)), true},   // colour type 6 (alpha 0: not opaque)
		{image.NewGray(image.Rect(0, 0, 2, 2)), false},   // type 0
		{image.NewRGBA(image.Rect(0, 0, 2, 2)), true},    // transparent RGBA: type 6
		{image.NewNRGBA64(image.Rect(0, 0, 2, 2)), true}, // 16-bit type 6
	} {
		dir := t.TempDir()
		testkit.WritePNG(t, filepath.Join(dir, "p.png"), tc.img)
		data, _ := os.ReadFile(filepath.Join(dir, "p.png"))
		p, err := DecodePicture(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		if (p.Mask != nil) != tc.mask {
			t.Errorf("%T (colour type %d): mask %v, want %v", tc.img, data[25], p.Mask != nil, tc.mask)
		}
		if p.Mask != nil {
			for _, m := range p.Mask {
				if m != 1 { // alpha 0 everywhere
					t.Errorf("%T: mask %v, want 1 − 0", tc.img, p.Mask)
					break
				}
			}
		}
	}
}

func TestFiles_ResolveModel(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.onnx"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := resolveModel(nodes.Config{ModelDir: dir}, "m.onnx"); err != nil || p != filepath.Join(dir, "m.onnx") {
		t.Errorf("m.onnx: %q %v", p, err)
	}
	for _, confined := range []bool{false, true} {
		cfg := nodes.Config{ModelDir: dir, Confined: confined}
		_, err := resolveModel(cfg, "missing.onnx")
		var fe *nodes.FileError
		if !errors.As(err, &fe) || fe.Code != diag.MissingFile || !strings.Contains(err.Error(), `"missing.onnx"`) {
			t.Errorf("missing (confined %v): %v", confined, err)
		}
		if confined == strings.Contains(err.Error(), dir) {
			t.Errorf("missing (confined %v): %q names the folder: %v", confined, err, !confined)
		}
		if !confined && (!strings.Contains(err.Error(), "scripts/setup.sh") || !strings.Contains(err.Error(), "--models-dir")) {
			t.Errorf("missing: %q says nothing of how to get it", err)
		}
		_, err = resolveModel(cfg, "sub.onnx")
		if !errors.As(err, &fe) || fe.Code != diag.InvalidFile || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a folder (confined %v): %v", confined, err)
		}
	}
	_, err := resolveModel(nodes.Config{}, "m.onnx")
	if err == nil || !strings.Contains(err.Error(), "$COMFYRT_MODELS") {
		t.Errorf("no models folder: %v", err)
	}
}

// TestFiles_PaletteTransparency: a palette PNG with a tRNS chunk has a
// mask of 1 − alpha (ComfyUI's LoadImage: mode "P" with "transparency");
// one without has the 64×64 zero mask.
func TestFiles_PaletteTransparency(t *testing.T) {
	for _, transparent := range []bool{true, false} {
		pal := color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 50, 255}}
		if transparent {
			pal = color.Palette{color.NRGBA{10, 20, 30, 0}, color.NRGBA{200, 100, 50, 128}}
		}
		img := image.NewPaletted(image.Rect(0, 0, 3, 2), pal)
		for i := range img.Pix {
			img.Pix[i] = uint8(i % 2)
		}
		dir := t.TempDir()
		testkit.WritePNG(t, filepath.Join(dir, "p.png"), img)
		k := loadImageKernel(t, dir)
		in := []value.Value{str("p.png")}
		out := prepare(t, k, in)
		if err := k.Run(in, out); err != nil {
			t.Fatal(err)
		}
		if !transparent {
			wantShape(t, out[1], 1, 64, 64)
			continue
		}
		wantShape(t, out[1], 1, 2, 3)
		for i, m := range out[1].Tensor.Data {
			a := pal[img.Pix[i]].(color.NRGBA).A
			if want := 1 - float32(a)/255; m != want {
				t.Errorf("mask[%d] = %v, want 1 − %d/255 = %v", i, m, a, want)
			}
			r := pal[img.Pix[i]].(color.NRGBA).R
			if got := out[0].Tensor.Data[3*i]; got != float32(r)/255 {
				t.Errorf("red[%d] = %v, want %d/255", i, got, r)
			}
		}
	}
}
