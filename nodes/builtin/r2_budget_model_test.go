package builtin

import (
	"path/filepath"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/engine/fake"
	"comfyrt/nodes/value"
)

// TestR2BudgetModel_DeclaresPipelineAndSession: the model nodes declare,
// before their Prepare opens a session, at least what Prepare allocates
// (the fake engine's tensors are Go memory, as the pipeline's buffers
// are), plus the documented estimate of the runtime's working memory
// (modelActivationFactor × the tensors), and not more than that.
func TestR2BudgetModel_DeclaresPipelineAndSession(t *testing.T) {
	dir := t.TempDir()
	p := fake.New()
	p.Add(touch(t, filepath.Join(dir, "m.onnx")), fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "in", DType: engine.Float32, Shape: []int{1, 3, -1, -1}}},
		Outputs: []engine.TensorInfo{{Name: "out", DType: engine.Float32, Shape: []int{1, -1, -1, -1}}},
	})
	p.Add(touch(t, filepath.Join(dir, TextDetModel)), fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "x", DType: engine.Float32, Shape: []int{-1, 3, -1, -1}}},
		Outputs: []engine.TensorInfo{{Name: "y", DType: engine.Float32, Shape: []int{-1, 1, -1, -1}}},
	})
	p.Add(touch(t, filepath.Join(dir, "tensorrt", "depth-anything", "d.onnx")), fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "input", DType: engine.Float32, Shape: []int{1, 3, 518, 518}}},
		Outputs: []engine.TensorInfo{{Name: "output", DType: engine.Float32, Shape: []int{1, 518, 518}}},
	})
	ref := runPrepared(t, modelKernel(t, "ONNXModelLoader", p, dir), str("m.onnx"), str("cpu"))[0]
	frame := value.ImageSpec(1, 300, 500)
	for _, c := range []struct {
		name, class string
		in          []value.Spec
	}{
		{"image model, resized", "ONNXImageModel", []value.Spec{frame, value.ConstSpec(ref), value.ConstSpec(i64(640)), value.ConstSpec(i64(480)),
			value.ConstSpec(str("NCHW")), value.ConstSpec(str("RGB")), value.ConstSpec(str("0")), value.ConstSpec(str("1")), value.ConstSpec(str("clamp"))}},
		{"image model, frame size", "ONNXImageModel", []value.Spec{frame, value.ConstSpec(ref), value.ConstSpec(i64(500)), value.ConstSpec(i64(300)),
			value.ConstSpec(str("NCHW")), value.ConstSpec(str("RGB")), value.ConstSpec(str("0")), value.ConstSpec(str("1")), value.ConstSpec(str("minmax"))}},
		{"text detection", "TextDetection", []value.Spec{frame, value.ConstSpec(f64(0.3)), value.ConstSpec(i64(960))}},
		{"depth", "DepthAnythingTensorrt", []value.Spec{frame, value.ConstSpec(str("d.engine"))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := modelKernel(t, c.class, p, dir)
			sc, ok := k.(nodes.Scratcher)
			if !ok {
				t.Fatalf("%s is not a nodes.Scratcher", c.class)
			}
			opens := len(p.Opens())
			declared, err := sc.Scratch(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Opens()) != opens {
				t.Fatal("Scratch opened a session")
			}
			got := allocated(t, k, c.in)
			t.Logf("declared %d B, allocated %d B", declared, got)
			if declared+4<<10 < got || declared > (modelActivationFactor+1)*got+64<<10 {
				t.Errorf("declared %d B, Prepare allocated %d B", declared, got)
			}
		})
	}
}

// TestR2BudgetModel_HugeRequestDeclared: an ONNXImageModel asked for an
// 8192² model input (the schema's maximum) declares its tensors and the
// runtime estimate, several GiB, without opening the model; a model that
// cannot be inspected declares nothing (Prepare reports it).
func TestR2BudgetModel_HugeRequestDeclared(t *testing.T) {
	dir := t.TempDir()
	p := fake.New()
	p.Add(touch(t, filepath.Join(dir, "m.onnx")), fake.Model{
		Inputs:  []engine.TensorInfo{{Name: "in", DType: engine.Float32, Shape: []int{1, 3, -1, -1}}},
		Outputs: []engine.TensorInfo{{Name: "out", DType: engine.Float32, Shape: []int{1, 3, -1, -1}}},
	})
	ref := runPrepared(t, modelKernel(t, "ONNXModelLoader", p, dir), str("m.onnx"), str("cpu"))[0]
	k := modelKernel(t, "ONNXImageModel", p, dir).(nodes.Scratcher)
	in := []value.Spec{value.ImageSpec(1, 64, 64), value.ConstSpec(ref), value.ConstSpec(i64(8192)), value.ConstSpec(i64(8192)),
		value.ConstSpec(str("NCHW")), value.ConstSpec(str("RGB")), value.ConstSpec(str("0")), value.ConstSpec(str("1")), value.ConstSpec(str("clamp"))}
	n, err := k.Scratch(in)
	const tensor = 8192 * 8192 * 3 * 4
	if err != nil || n < (modelActivationFactor+2)*tensor {
		t.Errorf("8192² model input declares %d B (%v), want at least %d", n, err, (modelActivationFactor+2)*tensor)
	}
	if len(p.Opens()) != 0 {
		t.Errorf("Scratch opened %d sessions", len(p.Opens()))
	}
	none := modelKernel(t, "ONNXImageModel", nil, dir).(nodes.Scratcher)
	if n, err := none.Scratch(in); n != 0 || err != nil {
		t.Errorf("without an engine: %d B (%v)", n, err)
	}
}
