package value

import (
	"math"
	"testing"
)

func TestToRGB8(t *testing.T) {
	t.Parallel()
	src := []float32{0, 1, 0.5, 0.999, 1.5, -0.1, float32(math.NaN()), 100.0 / 255, 0.0039}
	// clip(255·x) truncated: 127.5 → 127, 254.745 → 254.
	want := []byte{0, 255, 127, 254, 255, 0, 0, 100, 0}
	got := make([]byte, len(src))
	ToRGB8(got, src)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ToRGB8(%v) = %d, want %d", src[i], got[i], want[i])
		}
	}
}

func TestFromRGB8(t *testing.T) {
	t.Parallel()
	src := []byte{0, 1, 128, 255}
	got := make([]float32, len(src))
	FromRGB8(got, src)
	for i, b := range src {
		if want := float32(b) / 255; got[i] != want {
			t.Errorf("FromRGB8(%d) = %v, want %v", b, got[i], want)
		}
	}
}

func TestSpec(t *testing.T) {
	t.Parallel()
	s := ImageSpec(1, 512, 512)
	if s.String() != "IMAGE[1,512,512,3]" || s.Bytes() != 512*512*3*4 {
		t.Errorf("%v, %d bytes", s, s.Bytes())
	}
	if c := ConstSpec(OfInt(5)); c.String() != "INT=5" {
		t.Errorf("const spec %v", c)
	}
	if c := ConstSpec(OfString("red")); c.String() != `STRING="red"` {
		t.Errorf("const spec %v", c)
	}
	v := New(MaskSpec(2, 3, 4))
	if v.Kind != Mask || len(v.Tensor.Data) != 24 || !v.Tensor.Valid() {
		t.Errorf("New(mask) = %+v", v)
	}
	if v := New(ConstSpec(OfFloat(0.5))); v.Kind != Float || v.Float != 0.5 {
		t.Errorf("New(const) = %+v", v)
	}
	if b, h, w, ok := MaskDims([]int{3, 4}); !ok || b != 1 || h != 3 || w != 4 {
		t.Error("MaskDims of [H,W]")
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]Kind{"IMAGE": Image, "MASK": Mask, "INT": Int, "FLOAT": Float,
		"STRING": String, "COMBO": String, "BOOLEAN": Bool, "LATENT": Latent, "MODEL": Handle, "*": Handle, "": None} {
		if got := KindOf(typ); got != want {
			t.Errorf("KindOf(%q) = %v, want %v", typ, got, want)
		}
	}
}

// TestLatentKind: a LATENT is a tensor kind whose buffers New allocates
// and plans count, printed with ComfyUI's type name.
func TestLatentKind(t *testing.T) {
	t.Parallel()
	s := LatentSpec(2, 4, 64, 80)
	if !s.Kind.IsTensor() || s.Kind.IsScalar() || s.Kind.String() != "LATENT" {
		t.Fatalf("Latent: tensor %v scalar %v name %q", s.Kind.IsTensor(), s.Kind.IsScalar(), s.Kind)
	}
	if s.Elems() != 2*4*64*80 || s.Bytes() != 4*2*4*64*80 || s.String() != "LATENT[2,4,64,80]" {
		t.Errorf("spec %s: %d elems, %d bytes", s, s.Elems(), s.Bytes())
	}
	v := New(s)
	if v.Kind != Latent || len(v.Tensor.Data) != s.Elems() || v.String() != "LATENT[2,4,64,80]" {
		t.Errorf("New(%s) = %s with %d elements", s, v, len(v.Tensor.Data))
	}
	if c := ConstSpec(v); !c.SameShape(s) {
		t.Errorf("ConstSpec of a latent = %s", c)
	}
}
