package builtin

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"comfyrt/nodes/value"
)

// refCase is one case of testdata/mask_image_nodes.json, written by
// scripts/reference/mask_image_nodes.py with torch and numpy from the
// nodes' published definitions.
type refCase struct {
	Name    string            `json:"name"`
	Class   string            `json:"class"`
	Inputs  []json.RawMessage `json:"inputs"`
	Outputs []refTensor       `json:"outputs"`
}

type refTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// refValue decodes an input: a tensor (4 dimensions: IMAGE, 3: MASK), an
// integer, a float or a string.
func refValue(t *testing.T, raw json.RawMessage) value.Value {
	t.Helper()
	if bytes.HasPrefix(raw, []byte("{")) {
		var rt refTensor
		if err := json.Unmarshal(raw, &rt); err != nil {
			t.Fatal(err)
		}
		return rt.value()
	}
	if bytes.HasPrefix(raw, []byte(`"`)) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		return str(s)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatal(err)
	}
	if i, err := n.Int64(); err == nil {
		return i64(i)
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f64(f)
}

func (rt refTensor) value() value.Value {
	kind := value.Mask
	if len(rt.Shape) == 4 {
		kind = value.Image
	}
	tt := value.NewTensor(rt.Shape...)
	for i, x := range rt.Data {
		tt.Data[i] = float32(x)
	}
	return value.OfTensor(kind, tt)
}

// refTolerance is the largest difference allowed from torch: resampling
// sums taps in another order; everything else is exact.
func refTolerance(class string) float64 {
	switch class {
	case "ImageBatch", "JoinImageWithAlpha":
		return 2e-6
	}
	return 0
}

// TestReference_maskImageNodes runs every case of the reference file
// through the kernel and compares each output's shape and values.
func TestReference_maskImageNodes(t *testing.T) {
	data, err := os.ReadFile("testdata/mask_image_nodes.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []refCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	perClass := map[string]int{}
	for _, c := range file.Cases {
		t.Run(c.Class+"/"+strings.ReplaceAll(c.Name, " ", "_"), func(t *testing.T) {
			in := make([]value.Value, len(c.Inputs))
			for i, raw := range c.Inputs {
				in[i] = refValue(t, raw)
			}
			out := runKernel(t, c.Class, in...)
			if len(out) != len(c.Outputs) {
				t.Fatalf("%d outputs, reference has %d", len(out), len(c.Outputs))
			}
			tol := refTolerance(c.Class)
			for j, want := range c.Outputs {
				wantShape(t, out[j], want.Shape...)
				got := out[j].Tensor.Data
				for i, w := range want.Data {
					if d := math.Abs(float64(got[i]) - w); !(d <= tol) {
						t.Fatalf("output %d element %d (of %v) = %v, reference %v", j, i, want.Shape, got[i], w)
					}
				}
			}
		})
		perClass[c.Class]++
	}
	for _, class := range []string{"MaskComposite", "FeatherMask", "CropMask", "ImageColorToMask", "ImageFlip", "ImagePadForOutpaint",
		"RepeatImageBatch", "ImageFromBatch", "ImageBatch", "JoinImageWithAlpha", "SplitImageWithAlpha", "QuickShapeMask", "SolidMask"} {
		if perClass[class] == 0 {
			t.Errorf("no reference case for %s", class)
		}
	}
}
