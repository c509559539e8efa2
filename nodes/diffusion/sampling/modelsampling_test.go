package sampling

import (
	"math"
	"testing"
)

type modelSamplingRef struct {
	Cases []struct {
		Name       string               `json:"name"`
		Schedule   string               `json:"schedule"`
		ZSNR       bool                 `json:"zsnr"`
		Distilled  bool                 `json:"distilled"`
		Sigmas     []float64            `json:"sigmas"`
		LogSigmas  []float64            `json:"log_sigmas"`
		Timestep   []timestepRef        `json:"timestep"`
		Sigma      []sigmaRef           `json:"sigma"`
		Percent    []percentRef         `json:"percent"`
		SGMUniform map[string][]float64 `json:"sgm_uniform"`
	} `json:"cases"`
	Denoised struct {
		X     []float32 `json:"x"`
		Out   []float32 `json:"out"`
		Cases []struct {
			Sigma  float64   `json:"sigma"`
			LCM    []float64 `json:"lcm"`
			X0     []float64 `json:"x0"`
			EpsCIn float64   `json:"eps_c_in"`
		} `json:"cases"`
	} `json:"denoised"`
}

// TestModelSamplingVariants: the beta schedules (linear, sqrt_linear,
// squaredcos_cap_v2), zero terminal SNR and the distilled LCM table
// against scripts/reference/model_sampling.py's values: the σ and log σ
// tables, timestep(σ), σ(t), percent_to_sigma and the sgm_uniform
// schedule.
func TestModelSamplingVariants(t *testing.T) {
	var ref modelSamplingRef
	loadJSON(t, "model_sampling.json", &ref)
	if len(ref.Cases) != 6 {
		t.Fatalf("%d cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			cfg := SD15Config
			cfg.BetaSchedule, cfg.ZSNR = c.Schedule, c.ZSNR
			if c.Distilled {
				cfg.OriginalTimesteps = 50
			}
			d, err := NewDiscrete(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Sigmas) != len(c.Sigmas) {
				t.Fatalf("%d sigmas, reference %d", len(d.Sigmas), len(c.Sigmas))
			}
			for i := range d.Sigmas {
				if !relClose(float64(d.Sigmas[i]), c.Sigmas[i], 2e-6) || !relClose(float64(d.LogSigmas[i]), c.LogSigmas[i], 2e-6) {
					t.Errorf("σ[%d] %v log %v, reference %v %v", i, d.Sigmas[i], d.LogSigmas[i], c.Sigmas[i], c.LogSigmas[i])
				}
			}
			checkConversions(t, d, c.Timestep, c.Sigma, c.Percent, 2e-6)
			for _, steps := range []int{1, 4} {
				got, err := Sigmas(d, "sgm_uniform", steps)
				want := c.SGMUniform[map[int]string{1: "1", 4: "4"}[steps]]
				if err != nil || len(got) != len(want) {
					t.Fatalf("sgm_uniform %d: %v %v, reference %v", steps, got, err, want)
				}
				for i := range got {
					if !relClose(got[i], want[i], 2e-6) {
						t.Errorf("sgm_uniform %d: %v, reference %v", steps, got, want)
						break
					}
				}
			}
		})
	}
}

// TestCalculateDenoisedVariants: lcm (the distilled table's timestep ×
// 10 boundary condition), x0 and img_to_img (the output itself; img_to_img
// also with c_in 1) against the reference script.
func TestCalculateDenoisedVariants(t *testing.T) {
	var ref modelSamplingRef
	loadJSON(t, "model_sampling.json", &ref)
	r := ref.Denoised
	for _, p := range []Prediction{LCM, X0, ImgToImg} {
		cfg := SD15Config
		cfg.Prediction = p
		if p == LCM {
			cfg.OriginalTimesteps = 50
		}
		d, err := NewDiscrete(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float32, len(r.X))
		for _, c := range r.Cases {
			d.CalculateDenoised(c.Sigma, r.Out, r.X, dst)
			want := c.X0
			if p == LCM {
				want = c.LCM
			}
			for i := range dst {
				if !relClose(float64(dst[i]), want[i], 1e-5) && math.Abs(float64(dst[i])-want[i]) > 1e-6 {
					t.Errorf("prediction %d σ %v [%d]: %v, reference %v", p, c.Sigma, i, dst[i], want[i])
				}
			}
			cin := float64(d.InputScale(c.Sigma))
			if p == ImgToImg && cin != 1 || p != ImgToImg && !relClose(cin, c.EpsCIn, 1e-6) {
				t.Errorf("prediction %d σ %v: c_in %v (eps reference %v)", p, c.Sigma, cin, c.EpsCIn)
			}
		}
	}
}

func TestNewDiscreteRefusesUnknownSchedule(t *testing.T) {
	cfg := SD15Config
	cfg.BetaSchedule = "cosine"
	if _, err := NewDiscrete(cfg); err == nil {
		t.Error("cosine accepted")
	}
}
