package sampling

import "testing"

func TestPrepareNoise(t *testing.T) {
	var ref struct {
		Noise struct {
			Seed       uint64    `json:"seed"`
			BatchIndex []int     `json:"batch_index"`
			Out        []float32 `json:"out"`
			Whole2     []float32 `json:"whole2"`
		} `json:"noise"`
	}
	loadJSON(t, "samplers.json", &ref)
	c := ref.Noise
	const item = 4 * 4 * 4
	got := make([]float32, item*len(c.BatchIndex))
	if err := PrepareNoise(c.Seed, got, item, c.BatchIndex); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != c.Out[i] {
			t.Fatalf("batch_index %v: [%d] = %v, torch %v", c.BatchIndex, i, got[i], c.Out[i])
		}
	}
	whole := make([]float32, 2*item)
	if err := PrepareNoise(c.Seed, whole, item, nil); err != nil {
		t.Fatal(err)
	}
	for i := range whole {
		if whole[i] != c.Whole2[i] {
			t.Fatalf("no batch_index: [%d] = %v, torch %v", i, whole[i], c.Whole2[i])
		}
	}
	for _, bad := range [][]int{{-1}, {0, 1 << 20}} {
		if err := PrepareNoise(1, make([]float32, item*len(bad)), item, bad); err == nil {
			t.Errorf("batch_index %v: no error", bad)
		}
	}
	if err := PrepareNoise(1, make([]float32, 5), item, []int{0}); err == nil {
		t.Error("wrong size: no error")
	}
}

func TestLatentFormat(t *testing.T) {
	x := []float32{1, -2, 0.5}
	SD15Latent.ProcessIn(x)
	if x[0] != 0.18215 || x[1] != -0.3643 {
		t.Errorf("ProcessIn: %v", x)
	}
	SD15Latent.ProcessOut(x)
	for i, want := range []float32{1, -2, 0.5} {
		if d := x[i] - want; d > 1e-6 || d < -1e-6 {
			t.Errorf("round trip [%d] = %v", i, x[i])
		}
	}
}
