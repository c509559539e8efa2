package streamdiff

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

type refData struct {
	Schedules []struct {
		Steps        int
		TIndex       []int `json:"t_index"`
		Timesteps, T []int
		AlphaSqrt    []float64 `json:"alpha_sqrt"`
		BetaSqrt     []float64 `json:"beta_sqrt"`
		CSkip        []float64 `json:"c_skip"`
		COut         []float64 `json:"c_out"`
	}
	Streams []struct {
		CFG             string
		Guidance, Delta float64
		AddNoise        bool `json:"add_noise"`
		Batch           bool
		Seed            uint64
		Steps           int
		TIndex          []int `json:"t_index"`
		Shape           []int
		Frames, Outputs [][]float32
	}
	Filters []struct {
		Threshold, Cos, Prob float64
		X, Y                 []float32
	}
}

func loadRef(t testing.TB) refData {
	t.Helper()
	b, err := os.ReadFile("testdata/streamdiff.json")
	if err != nil {
		t.Fatal(err)
	}
	var r refData
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// sd15Betas are SD1.5's scaled-linear betas (what sdmodel.Scheduler.Betas
// gives for the default config).
func sd15Betas() []float64 {
	b := make([]float64, 1000)
	lo, hi := math.Sqrt(0.00085), math.Sqrt(0.012)
	for i := range b {
		r := lo + float64(i)/999*(hi-lo)
		b[i] = r * r
	}
	return b
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestScheduleMatchesReference(t *testing.T) {
	for _, want := range loadRef(t).Schedules {
		got, err := NewSchedule(sd15Betas(), DefaultOriginalSteps, want.Steps, want.TIndex, 0)
		if err != nil {
			t.Fatalf("%d %v: %v", want.Steps, want.TIndex, err)
		}
		if !slices.Equal(got.Timesteps, want.Timesteps) || !slices.Equal(got.T, want.T) {
			t.Errorf("steps %d: timesteps %v t %v, want %v %v", want.Steps, got.Timesteps, got.T, want.Timesteps, want.T)
		}
		for i := range want.T {
			for _, c := range []struct {
				name string
				g    float32
				w    float64
			}{{"alpha", got.AlphaSqrt[i], want.AlphaSqrt[i]}, {"beta", got.BetaSqrt[i], want.BetaSqrt[i]},
				{"c_skip", got.CSkip[i], want.CSkip[i]}, {"c_out", got.COut[i], want.COut[i]}} {
				if !near(float64(c.g), c.w, 2e-6) {
					t.Errorf("steps %d t_index %d %s = %.9g, want %.9g", want.Steps, want.TIndex[i], c.name, c.g, c.w)
				}
			}
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, c := range []struct {
		steps int
		ti    []int
		want  string
	}{{50, []int{50}, "t_index 50: want 0 to 49"}, {51, []int{1}, "num_inference_steps 51"}, {0, []int{0}, "num_inference_steps 0"},
		{4, []int{-1}, "t_index -1"}, {4, nil, "empty"}} {
		if _, err := NewSchedule(sd15Betas(), 50, c.steps, c.ti, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d %v: %v, want %q", c.steps, c.ti, err, c.want)
		}
	}
	if _, err := ParseTIndexList("39, 35,x"); err == nil {
		t.Error("bad t_index_list accepted")
	}
	if v, err := ParseTIndexList(" 39,35 ,30"); err != nil || !slices.Equal(v, []int{39, 35, 30}) {
		t.Errorf("ParseTIndexList: %v %v", v, err)
	}
}

// epsModel is the reference's closed-form UNet.
func epsModel(s *Stream, l int) Model {
	neg := s.Negative()
	return func(x []float32, ts []int, eps []float32) error {
		for r := range s.Rows() {
			c := float32(0.2)
			if neg[r] {
				c = -0.1
			}
			for i := r * l; i < (r+1)*l; i++ {
				eps[i] = 0.5*x[i] + 0.001*float32(ts[r]) + c
			}
		}
		return nil
	}
}

func TestStreamMatchesReference(t *testing.T) {
	for _, c := range loadRef(t).Streams {
		cfgType, err := ParseCFG(c.CFG)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := NewSchedule(sd15Betas(), 50, c.Steps, c.TIndex, 0)
		if err != nil {
			t.Fatal(err)
		}
		l := c.Shape[0] * c.Shape[1] * c.Shape[2]
		s, err := New(Config{Schedule: sc, Latent: l, CFG: cfgType, Guidance: c.Guidance, Delta: c.Delta, AddNoise: c.AddNoise, DenoisingBatch: c.Batch, Seed: c.Seed})
		if err != nil {
			t.Fatal(err)
		}
		m := epsModel(s, l)
		xt, out := make([]float32, l), make([]float32, l)
		for k, f := range c.Frames {
			s.Encode(f, xt)
			if err := s.Step(xt, m, out); err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i, w := range c.Outputs[k] {
				worst = max(worst, math.Abs(float64(out[i]-w))/(1+math.Abs(float64(w))))
			}
			if worst > 2e-5 {
				t.Errorf("%s g=%g add_noise=%v batch=%v %v frame %d: off by %.3g (got %v…, want %v…)", c.CFG, c.Guidance, c.AddNoise, c.Batch, c.TIndex, k, worst, out[:3], c.Outputs[k][:3])
			}
		}
	}
}

func TestStreamRowsAndLatency(t *testing.T) {
	sc, _ := NewSchedule(sd15Betas(), 50, 50, []int{39, 35, 30}, 0)
	for _, c := range []struct {
		cfg         CFG
		g           float64
		batch       bool
		rows, calls int
		latency     int
		negFirst    bool
	}{{CFGNone, 1.2, true, 3, 1, 2, false}, {CFGSelf, 1.2, true, 3, 1, 2, false}, {CFGFull, 1.2, true, 6, 1, 2, true},
		{CFGInitialize, 1.2, true, 4, 1, 2, true}, {CFGFull, 1.0, true, 3, 1, 2, false}, {CFGFull, 2, false, 2, 3, 0, true}} {
		s, err := New(Config{Schedule: sc, Latent: 16, CFG: c.cfg, Guidance: c.g, DenoisingBatch: c.batch})
		if err != nil {
			t.Fatal(err)
		}
		if s.Rows() != c.rows || s.ModelCalls() != c.calls || s.Latency() != c.latency || s.Negative()[0] != c.negFirst {
			t.Errorf("%v g=%g batch=%v: rows %d calls %d latency %d neg %v", c.cfg, c.g, c.batch, s.Rows(), s.ModelCalls(), s.Latency(), s.Negative())
		}
	}
}

// TestStreamReset: after Reset the stream gives the outputs of a fresh one.
func TestStreamReset(t *testing.T) {
	sc, _ := NewSchedule(sd15Betas(), 50, 50, []int{39, 35, 30}, 0)
	cfg := Config{Schedule: sc, Latent: 64, CFG: CFGSelf, Guidance: 1.2, Delta: 1, AddNoise: true, DenoisingBatch: true, Seed: 3}
	run := func(s *Stream) []float32 {
		m := epsModel(s, 64)
		x, xt, out := make([]float32, 64), make([]float32, 64), make([]float32, 64)
		var all []float32
		for k := range 4 {
			for i := range x {
				x[i] = float32(i*k) / 100
			}
			s.Encode(x, xt)
			if err := s.Step(xt, m, out); err != nil {
				t.Fatal(err)
			}
			all = append(all, out...)
		}
		return all
	}
	s, _ := New(cfg)
	first := run(s)
	s.Reset()
	again := run(s)
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("value %d after Reset: %v, fresh %v", i, again[i], first[i])
		}
	}
}

func TestStepAllocs(t *testing.T) {
	sc, _ := NewSchedule(sd15Betas(), 50, 50, []int{39, 35, 30}, 0)
	for _, batch := range []bool{true, false} {
		s, _ := New(Config{Schedule: sc, Latent: 256, CFG: CFGInitialize, Guidance: 1.4, Delta: 1, AddNoise: true, DenoisingBatch: batch, Seed: 1})
		m := epsModel(s, 256)
		x, xt, out := make([]float32, 256), make([]float32, 256), make([]float32, 256)
		f, err := NewFilter(0.98, 10, 1, 256)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(20, func() {
			if _, err := f.Keep(x, 2, -1); err != nil {
				t.Fatal(err)
			}
			s.Encode(x, xt)
			if err := s.Step(xt, m, out); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("batch=%v: %v allocations per step", batch, n)
		}
	}
}

func TestFilterSkipProbability(t *testing.T) {
	for _, c := range loadRef(t).Filters {
		cos := CosineSimilarity(c.X, c.Y)
		if !near(cos, c.Cos, 1e-6) {
			t.Errorf("cos = %.9g, want %.9g", cos, c.Cos)
		}
		if p := SkipProbability(c.Cos, c.Threshold); !near(p, c.Prob, 1e-9) {
			t.Errorf("threshold %g: p = %.9g, want %.9g", c.Threshold, p, c.Prob)
		}
		f := mustFilter(t, c.Threshold, 10, 1, len(c.X))
		keep(t, f, c.X)
		keep(t, f, c.Y)
		if !near(f.LastProbability, c.Prob, 1e-5) {
			t.Errorf("threshold %g: filter's probability %.9g, want %.9g", c.Threshold, f.LastProbability, c.Prob)
		}
	}
}

func mustFilter(t *testing.T, threshold float64, maxSkip int, seed uint64, n int) *Filter {
	t.Helper()
	f, err := NewFilter(threshold, maxSkip, seed, n)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// keep is f.Keep(x, 1, 0), failing the test on an error.
func keep(t *testing.T, f *Filter, x []float32) bool {
	t.Helper()
	k, err := f.Keep(x, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestFilterSkips: identical frames are skipped (probability 1) at most
// max_skip+1 times in a row, then one is kept; a different frame is kept;
// the sequence repeats after Reset.
func TestFilterSkips(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	y := []float32{-4, 3, -2, 1}
	f := mustFilter(t, 0.9, 2, 5, 4)
	var got []bool
	for range 6 {
		got = append(got, keep(t, f, x))
	}
	got = append(got, keep(t, f, y))
	want := []bool{true, false, false, false, true, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("keeps %v, want %v", got, want)
		}
	}
	// A partly similar frame: skipped with probability p; the seeded
	// sampler gives the same decisions after Reset.
	z := []float32{1, 2, 3, 3}
	seq := func() (s []bool) {
		f.Reset()
		for range 40 {
			s = append(s, keep(t, f, x), keep(t, f, z))
		}
		return s
	}
	a, b := seq(), seq()
	kept := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the filter's decisions differ after Reset")
		}
		if a[i] {
			kept++
		}
	}
	if kept == len(a) || kept < 10 {
		t.Errorf("kept %d of %d partly similar frames (p = %.3f)", kept, len(a), SkipProbability(CosineSimilarity(x, z), 0.9))
	}
}

// BenchmarkStep is one stream step's arithmetic on a 512×512 stream's
// latent (4×64×64), three t_indexes, with a model that does nothing: the
// noise, guidance, boundary condition and re-noise of the batch.
func BenchmarkStep(b *testing.B) {
	sc, _ := NewSchedule(sd15Betas(), 50, 50, []int{39, 35, 30}, 0)
	const l = 4 * 64 * 64
	for _, c := range []CFG{CFGNone, CFGSelf, CFGFull} {
		s, _ := New(Config{Schedule: sc, Latent: l, CFG: c, Guidance: 1.2, Delta: 1, AddNoise: true, DenoisingBatch: true, Seed: 2})
		m := func(x []float32, ts []int, eps []float32) error { return nil }
		z, xt, out := make([]float32, l), make([]float32, l), make([]float32, l)
		b.Run(c.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Encode(z, xt)
				if err := s.Step(xt, m, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFilterLength: a frame of another length than the filter's is an
// error, never an index out of range, and leaves the filter as it was.
func TestFilterLength(t *testing.T) {
	if _, err := NewFilter(0.9, 2, 5, 0); err == nil {
		t.Error("a filter for frames of 0 values: no error")
	}
	f, err := NewFilter(0.9, 2, 5, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float32{{1, 2, 3}, {1, 2, 3, 4, 5}} {
		if _, err := f.Keep(x, 1, 0); err == nil || !strings.Contains(err.Error(), "4 values") {
			t.Errorf("frame of %d values: %v", len(x), err)
		}
	}
	if keep, err := f.Keep([]float32{1, 2, 3, 4}, 1, 0); err != nil || !keep {
		t.Errorf("first frame of the right length: keep %v, %v", keep, err)
	}
	if _, err := f.Keep([]float32{1, 2}, 1, 0); err == nil {
		t.Error("a short frame after a kept one: no error")
	}
}
