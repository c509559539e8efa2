package compiler

import (
	"math"
	"testing"

	"comfyrt/nodes/value"
)

// TestPlan_RunFrameInPlace: writing the frame into FrameBuffer and calling
// RunFrameInPlace gives exactly RunFrame's outputs, frame after frame, and
// for a single LoadTensor the buffer is that step's own output (no copy
// from a caller's tensor).
func TestPlan_RunFrameInPlace(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.Width, cfg.Height = 40, 24
	for name, src := range map[string]string{
		"identity": `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}}
}`,
		"invert": invertAPI,
		"chain": `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "PrimitiveFloat", "inputs": {"value": 0.25}},
 "3": {"class_type": "EmptyImage", "inputs": {"width": 40, "height": 24, "batch_size": 1, "color": 255}},
 "4": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["3", 0], "blend_factor": ["2", 0], "blend_mode": "multiply"}},
 "5": {"class_type": "ImageBlur", "inputs": {"image": ["4", 0], "blur_radius": 2, "sigma": 1.0}},
 "6": {"class_type": "ImageToMask", "inputs": {"image": ["5", 0], "channel": "red"}},
 "7": {"class_type": "MaskToImage", "inputs": {"mask": ["6", 0]}},
 "8": {"class_type": "SaveTensor", "inputs": {"images": ["7", 0]}},
 "9": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}
}`,
	} {
		ref, in := mustCompile(t, src, cfg), mustCompile(t, src, cfg)
		fb := in.FrameBuffer()
		if !value.EqualShapes(fb.Shape, []int{1, 24, 40, 3}) || len(fb.Data) != 24*40*3 {
			t.Fatalf("%s: FrameBuffer %v, %d elems", name, fb.Shape, len(fb.Data))
		}
		if got := in.FrameBuffer(); &got.Data[0] != &fb.Data[0] {
			t.Errorf("%s: FrameBuffer changed between calls", name)
		}
		var load *step
		for _, s := range in.frameRun {
			if s.frameIn {
				load = s
			}
		}
		if &load.out[0].Tensor.Data[0] != &fb.Data[0] {
			t.Errorf("%s: FrameBuffer is not LoadTensor's output", name)
		}
		for f := range 3 {
			frame := value.NewTensor(1, 24, 40, 3)
			for i := range frame.Data {
				frame.Data[i] = float32((i*7+f*13)%256) / 255
			}
			if err := ref.RunFrame(frame); err != nil {
				t.Fatal(err)
			}
			copy(fb.Data, frame.Data)
			if err := in.RunFrameInPlace(); err != nil {
				t.Fatal(err)
			}
			for o := range ref.NumOutputs() {
				a, b := ref.Output(o).Tensor.Data, in.Output(o).Tensor.Data
				if len(a) != len(b) {
					t.Fatalf("%s frame %d output %d: %d vs %d elems", name, f, o, len(a), len(b))
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Fatalf("%s frame %d output %d [%d]: in place %v, RunFrame %v", name, f, o, i, b[i], a[i])
					}
				}
			}
		}
		if a := testing.AllocsPerRun(20, func() { _ = in.RunFrameInPlace() }); a != 0 {
			t.Errorf("%s: RunFrameInPlace allocates %v times", name, a)
		}
		// A resized plan has its own buffer, of its size.
		rs, err := in.Resize(16, 8)
		if err != nil {
			t.Fatal(err)
		}
		if rfb := rs.FrameBuffer(); len(rfb.Data) != 16*8*3 || !value.EqualShapes(rfb.Shape, []int{1, 8, 16, 3}) {
			t.Errorf("%s: resized FrameBuffer %v", name, rfb.Shape)
		}
		rs.Close()
	}
}

func TestPlan_FrameBufferNoFrameInput(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig(t)
	pl := mustCompile(t, `{
 "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 255}},
 "2": {"class_type": "SaveTensor", "inputs": {"images": ["1", 0]}}
}`, cfg)
	if fb := pl.FrameBuffer(); fb.Data != nil || fb.Shape != nil {
		t.Errorf("FrameBuffer without a frame input: %v", fb.Shape)
	}
	if err := pl.RunFrameInPlace(); err != nil {
		t.Error(err)
	}
}
