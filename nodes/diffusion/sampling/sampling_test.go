package sampling

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"comfyrt/nodes/diffusion/torchrand"
)

func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	doc := struct {
		Torch string          `json:"torch"`
		Data  json.RawMessage `json:"data"`
	}{}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// relClose: |a−b| ≤ tol·max(|a|,|b|) (exact for zeros).
func relClose(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// Reference values of the model sampling's conversions: timestep(σ),
// σ(t) and percent_to_sigma.
type (
	timestepRef struct {
		Sigma float64 `json:"sigma"`
		T     int     `json:"t"`
	}
	sigmaRef struct {
		T     float64 `json:"t"`
		Sigma float64 `json:"sigma"`
	}
	percentRef struct {
		Percent float64 `json:"percent"`
		Sigma   float64 `json:"sigma"`
	}
)

// checkConversions compares d's conversions with the reference values,
// σ within tol relative and timesteps exactly; an empty table is an error.
func checkConversions(t *testing.T, d *Discrete, ts []timestepRef, sg []sigmaRef, pc []percentRef, tol float64) {
	t.Helper()
	if len(ts) == 0 || len(sg) == 0 || len(pc) == 0 {
		t.Errorf("reference has %d timesteps, %d sigmas, %d percents: a table is missing", len(ts), len(sg), len(pc))
	}
	for _, c := range ts {
		if got := d.Timestep(c.Sigma); got != c.T {
			t.Errorf("Timestep(%v) = %d, reference %d", c.Sigma, got, c.T)
		}
	}
	for _, c := range sg {
		if got := d.Sigma(c.T); !relClose(got, c.Sigma, tol) {
			t.Errorf("Sigma(%v) = %v, reference %v", c.T, got, c.Sigma)
		}
	}
	for _, c := range pc {
		if got := d.PercentToSigma(c.Percent); !relClose(got, c.Sigma, tol) {
			t.Errorf("PercentToSigma(%v) = %v, reference %v", c.Percent, got, c.Sigma)
		}
	}
}

func TestDiscreteTables(t *testing.T) {
	var ref struct {
		Sigmas    []float64     `json:"sigmas"`
		LogSigmas []float64     `json:"log_sigmas"`
		SigmaMin  float64       `json:"sigma_min"`
		SigmaMax  float64       `json:"sigma_max"`
		Timestep  []timestepRef `json:"timestep"`
		Sigma     []sigmaRef    `json:"sigma"`
		Percent   []percentRef  `json:"percent_to_sigma"`
	}
	loadJSON(t, "discrete.json", &ref)
	d := SD15()
	if len(d.Sigmas) != len(ref.Sigmas) {
		t.Fatalf("%d sigmas, reference %d", len(d.Sigmas), len(ref.Sigmas))
	}
	exact := 0
	for i := range d.Sigmas {
		if !relClose(float64(d.Sigmas[i]), ref.Sigmas[i], 1e-6) || !relClose(float64(d.LogSigmas[i]), ref.LogSigmas[i], 1e-6) {
			t.Errorf("t=%d: σ %v log %v, reference %v %v", i, d.Sigmas[i], d.LogSigmas[i], ref.Sigmas[i], ref.LogSigmas[i])
		}
		if float64(d.Sigmas[i]) == ref.Sigmas[i] {
			exact++
		}
	}
	t.Logf("sigma table: %d of %d values bit-equal to torch's float32", exact, len(d.Sigmas))
	if !relClose(d.SigmaMin(), ref.SigmaMin, 1e-6) || !relClose(d.SigmaMax(), ref.SigmaMax, 1e-6) {
		t.Errorf("σ range %v…%v, reference %v…%v", d.SigmaMin(), d.SigmaMax(), ref.SigmaMin, ref.SigmaMax)
	}
	checkConversions(t, d, ref.Timestep, ref.Sigma, ref.Percent, 1e-6)
}

// TestSchedules compares every scheduler's table (1, 4, 20 steps; denoise
// 1 and 0.5; the dpm_2 discard) with the reference at 1e-6 relative.
func TestSchedules(t *testing.T) {
	var ref []struct {
		Scheduler string    `json:"scheduler"`
		Steps     int       `json:"steps"`
		Denoise   float64   `json:"denoise"`
		Sampler   string    `json:"sampler"`
		Sigmas    []float64 `json:"sigmas"`
	}
	loadJSON(t, "schedules.json", &ref)
	d := SD15()
	var worst float64
	for _, c := range ref {
		name := fmt.Sprintf("%s/%d/%g/%s", c.Scheduler, c.Steps, c.Denoise, c.Sampler)
		got, err := KSamplerSigmas(d, c.Scheduler, c.Sampler, c.Steps, c.Denoise)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != len(c.Sigmas) {
			t.Errorf("%s: %d sigmas %v, reference %d %v", name, len(got), got, len(c.Sigmas), c.Sigmas)
			continue
		}
		for i := range got {
			if !relClose(got[i], c.Sigmas[i], 1e-6) {
				t.Errorf("%s: σ[%d] = %v, reference %v", name, i, got[i], c.Sigmas[i])
			}
			if c.Sigmas[i] != 0 {
				worst = math.Max(worst, math.Abs(got[i]-c.Sigmas[i])/c.Sigmas[i])
			}
		}
	}
	t.Logf("%d tables, worst relative difference %.3g", len(ref), worst)
}

func TestScheduleErrors(t *testing.T) {
	d := SD15()
	for _, c := range []struct {
		sched string
		steps int
	}{{"nope", 4}, {"normal", 0}, {"karras", -1}, {"simple", maxSteps + 1}, {"kl_optimal", 1}} {
		if _, err := Sigmas(d, c.sched, c.steps); err == nil {
			t.Errorf("Sigmas(%q, %d): no error", c.sched, c.steps)
		}
	}
	if s, err := KSamplerSigmas(d, "normal", "euler", 20, 0); err != nil || len(s) != 0 {
		t.Errorf("denoise 0: %v %v, want no sigmas", s, err)
	}
	if _, err := KSamplerSigmas(d, "normal", "euler", 20, 1e-9); err == nil {
		t.Error("denoise 1e-9: no error for 2·10^10 steps")
	}
	if _, err := NewSampler("heun", 16, 0); err == nil {
		t.Error(`NewSampler("heun"): no error`)
	}
}

func TestBasicSchedulerMatchesKSampler(t *testing.T) {
	d := SD15()
	for _, denoise := range []float64{1, 0.75, 0.5} {
		a, err1 := KSamplerSigmas(d, "karras", "euler", 8, denoise)
		b, err2 := BasicSchedulerSigmas(d, "karras", 8, denoise)
		if err1 != nil || err2 != nil || len(a) != len(b) || len(a) != 9 {
			t.Fatalf("denoise %g: %v %v %v %v", denoise, a, err1, b, err2)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("denoise %g σ[%d]: KSampler %v, BasicScheduler %v", denoise, i, a[i], b[i])
			}
		}
	}
}

func TestCalculateDenoised(t *testing.T) {
	var ref struct {
		Denoised []struct {
			Sigma    float64   `json:"sigma"`
			X        []float32 `json:"x"`
			ModelOut []float32 `json:"model_out"`
			Eps      []float32 `json:"eps"`
			V        []float32 `json:"v"`
		} `json:"denoised"`
	}
	loadJSON(t, "samplers.json", &ref)
	for _, c := range ref.Denoised {
		for _, p := range []struct {
			pred Prediction
			want []float32
		}{{Eps, c.Eps}, {V, c.V}} {
			d := SD15()
			d.Prediction = p.pred
			got := make([]float32, len(c.X))
			d.CalculateDenoised(c.Sigma, c.ModelOut, c.X, got)
			checkLatent(t, fmt.Sprintf("prediction %d σ %g", p.pred, c.Sigma), got, p.want, 1e-6)
		}
	}
}

// checkLatent compares float32 latents: |a−b| ≤ tol·max(1, |b|).
func checkLatent(t *testing.T, what string, got, want []float32, tol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, reference %d", what, len(got), len(want))
	}
	var worst float64
	bad := 0
	for i := range got {
		diff := math.Abs(float64(got[i]) - float64(want[i]))
		scale := math.Max(1, math.Abs(float64(want[i])))
		worst = math.Max(worst, diff/scale)
		if diff > tol*scale {
			if bad < 3 {
				t.Errorf("%s: [%d] = %v, reference %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values off by more than %g (worst %.3g)", what, bad, len(got), tol, worst)
	}
	return worst
}

// closedForm is the reference denoiser, D(x, σ) = m + (x − m)/(1 + σ²), in
// float32 as the script's tensors.
func closedForm(m []float32) Denoiser {
	return func(x []float32, sigma float64, out []float32) error {
		s := float32(sigma)
		k := 1 + s*s
		for i, v := range x {
			out[i] = m[i] + (v-m[i])/k
		}
		return nil
	}
}

// TestSamplersMatchReference runs each sampler as KSampler would: the
// initial noise from torchrand, noise scaling at σ₀, then every step with
// step noise from the seed+1 generator.
func TestSamplersMatchReference(t *testing.T) {
	var ref struct {
		Runs []struct {
			Sampler   string    `json:"sampler"`
			Mode      string    `json:"mode"`
			Scheduler string    `json:"scheduler"`
			Steps     int       `json:"steps"`
			Denoise   float64   `json:"denoise"`
			Seed      uint64    `json:"seed"`
			Eta       float64   `json:"eta"`
			SNoise    float64   `json:"s_noise"`
			Mean      []float32 `json:"mean"`
			Latent    []float32 `json:"latent"`
			Out       []float32 `json:"out"`
		} `json:"runs"`
	}
	loadJSON(t, "samplers.json", &ref)
	if len(ref.Runs) != 2*len(Samplers)+1 {
		t.Fatalf("%d runs in the reference, want %d", len(ref.Runs), 2*len(Samplers)+1)
	}
	d := SD15()
	for _, c := range ref.Runs {
		name := fmt.Sprintf("%s/%s/%s/eta %g/s_noise %g", c.Sampler, c.Mode, c.Scheduler, c.Eta, c.SNoise)
		sigmas, err := KSamplerSigmas(d, c.Scheduler, c.Sampler, c.Steps, c.Denoise)
		if err != nil {
			t.Fatal(err)
		}
		n := len(c.Latent)
		x := make([]float32, n)
		torchrand.New(c.Seed).Randn(x)
		d.NoiseScaling(sigmas[0], x, c.Latent, d.MaxDenoise(sigmas[0]), x)
		s, err := NewSampler(c.Sampler, n, c.Seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetAncestral(c.Eta, c.SNoise); err != nil {
			t.Fatal(err)
		}
		if err := s.Sample(closedForm(c.Mean), x, sigmas); err != nil {
			t.Fatal(err)
		}
		worst := checkLatent(t, name, x, c.Out, 2e-5)
		t.Logf("%s: %d steps, worst difference %.3g", name, len(sigmas)-1, worst)
	}
}
