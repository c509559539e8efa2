package torchrand

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

type refCase struct {
	Name    string      `json:"name"`
	Seed    int64       `json:"-"`
	RawSeed json.Number `json:"seed"`
	Shapes  [][]int     `json:"shapes"`
	Draws   [][]uint32  `json:"draws"`
}

type refDoc struct {
	Torch      string    `json:"torch"`
	Capability string    `json:"capability"`
	Cases      []refCase `json:"cases"`
}

func loadRef(t *testing.T, name string) refDoc {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var doc refDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return doc
}

// seedOf reads the case's Python seed (a negative one as torch's binding
// does: its two's complement).
func seedOf(t *testing.T, c refCase) uint64 {
	t.Helper()
	s := c.RawSeed.String()
	var u uint64
	if _, err := fmt.Sscan(s, &u); err == nil {
		return u
	}
	var i int64
	if _, err := fmt.Sscan(s, &i); err != nil {
		t.Fatalf("seed %q: %v", s, err)
	}
	return SeedFromInt64(i)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// runCase draws the case's tensors from one generator and returns, per
// draw, the largest difference in float32 ulps and how many values differ.
func runCase(t *testing.T, c refCase, path Path) (maxUlp int64, differ, total int) {
	t.Helper()
	g := New(seedOf(t, c))
	if c.Name == "unseeded" {
		if seedOf(t, c) != DefaultSeed {
			t.Errorf("torch's default seed is %s, DefaultSeed %d", c.RawSeed, DefaultSeed)
		}
		g = New(DefaultSeed)
	}
	g.Path = path
	if c.Name == "comfyui_noise" {
		return runComfyNoise(t, c, path)
	}
	for k, shape := range c.Shapes {
		got := make([]float32, numel(shape))
		if c.Name == "rand" {
			g.Rand(got)
		} else {
			g.Randn(got)
		}
		m, d := compareBits(t, fmt.Sprintf("%s seed %s draw %d %v", c.Name, c.RawSeed, k, shape), got, c.Draws[k])
		maxUlp, differ, total = max(maxUlp, m), differ+d, total+len(got)
	}
	return maxUlp, differ, total
}

// runComfyNoise is ComfyUI's KSampler noise: the initial noise from
// manual_seed(seed), the step noise from a CPU generator seeded seed+1.
func runComfyNoise(t *testing.T, c refCase, path Path) (maxUlp int64, differ, total int) {
	seed := seedOf(t, c)
	init, steps := New(seed), New(seed+1)
	init.Path, steps.Path = path, path
	for k, shape := range c.Shapes {
		got := make([]float32, numel(shape))
		if k == 0 {
			init.Randn(got)
		} else {
			steps.Randn(got)
		}
		m, d := compareBits(t, fmt.Sprintf("comfyui noise draw %d", k), got, c.Draws[k])
		maxUlp, differ, total = max(maxUlp, m), differ+d, total+len(got)
	}
	return maxUlp, differ, total
}

func ulpDiff(a, b float32) int64 {
	ia, ib := int64(int32(math.Float32bits(a))), int64(int32(math.Float32bits(b)))
	if ia < 0 {
		ia = math.MinInt32 - ia
	}
	if ib < 0 {
		ib = math.MinInt32 - ib
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

func compareBits(t *testing.T, what string, got []float32, want []uint32) (maxUlp int64, differ int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, reference has %d", what, len(got), len(want))
	}
	for i, v := range got {
		w := math.Float32frombits(want[i])
		if math.Float32bits(v) == want[i] {
			continue
		}
		differ++
		if d := ulpDiff(v, w); d > maxUlp {
			maxUlp = d
		}
	}
	return maxUlp, differ
}

// TestRandnMatchesTorchAVX2 compares every draw bit for bit with PyTorch on
// its AVX2 CPU path (the x86-64 default).
func TestRandnMatchesTorchAVX2(t *testing.T) {
	doc := loadRef(t, "randn_avx2.json")
	values := 0
	for _, c := range doc.Cases {
		maxUlp, differ, total := runCase(t, c, PathAVX2)
		values += total
		if differ != 0 {
			t.Errorf("%s seed %s %v: %d of %d values differ from torch %s (max %d ulp)", c.Name, c.RawSeed, c.Shapes, differ, total, doc.Torch, maxUlp)
		}
	}
	t.Logf("%d cases, %d values, bit-exact with torch %s (%s)", len(doc.Cases), values, doc.Torch, doc.Capability)
}

// TestRandnMatchesTorchDefault compares with PyTorch's scalar (no AVX2)
// path. The scalar (< 16 elements) and uniform paths are bit-exact; the
// 16-wide transform calls glibc's logf, cosf and sinf (errors up to 0.82
// ulp, not correctly rounded) where this package rounds float64 results, so
// about 1.5 % of those values differ from torch by 1 or 2 float32 ulp
// (measured: 566 of 38938 values, at most 2 ulp). The test holds the worst
// case at 2 ulp and the share under 3 %.
func TestRandnMatchesTorchDefault(t *testing.T) {
	doc := loadRef(t, "randn_default.json")
	var worst int64
	differ, values := 0, 0
	for _, c := range doc.Cases {
		m, d, total := runCase(t, c, PathDefault)
		worst, differ, values = max(worst, m), differ+d, values+total
		small := len(c.Shapes) == 1 && numel(c.Shapes[0]) < 16
		if (small || c.Name == "rand") && d != 0 {
			t.Errorf("%s seed %s %v: %d values differ on an exact path", c.Name, c.RawSeed, c.Shapes, d)
		}
	}
	if worst > 2 {
		t.Errorf("worst difference %d ulp, want ≤ 2", worst)
	}
	if differ*100 > 3*values {
		t.Errorf("%d of %d values differ, want under 3 %%", differ, values)
	}
	t.Logf("%d values, %d differ by at most %d ulp (torch %s, %s)", values, differ, worst, doc.Torch, doc.Capability)
}
