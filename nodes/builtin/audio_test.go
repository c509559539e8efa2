package builtin

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// readF32 reads a float32 little-endian file of testdata/pitchshift.
func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pitchshift", name))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// shiftAudio runs a PitchShifter kernel on x (mono at rate).
func shiftAudio(t testing.TB, x []float32, rate int, steps float64) []float32 {
	t.Helper()
	k := kernel(t, "PitchShifter")
	in := []value.Value{value.OfAudio(value.Tensor{Shape: []int{1, 1, len(x)}, Data: x}, rate), value.OfFloat(steps)}
	specs := []value.Spec{value.AudioSpec(1, 1, len(x), rate), value.ConstSpec(value.OfFloat(steps))}
	outSpecs, err := nodes.SafePrepare(k, specs)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if len(outSpecs) != 1 || !outSpecs[0].SameShape(specs[0]) {
		t.Fatalf("out specs %v, want [%v]", outSpecs, specs[0])
	}
	out := []value.Value{value.New(outSpecs[0])}
	if err := nodes.SafeRun(k, in, out); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out[0].SampleRate() != rate {
		t.Fatalf("output rate %d, want %d", out[0].SampleRate(), rate)
	}
	return out[0].Tensor.Data
}

// TestPitchShiftReference compares the kernel with the numpy reference of
// scripts/reference/pitchshift.py (librosa's pitch_shift algorithm with FFT
// resampling), stored as float32: both compute in float64, so the
// difference is float32 rounding, well under 1e-5 of a full scale of 1.
func TestPitchShiftReference(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "pitchshift", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string
		Rate    int
		Steps   float64
		Samples int
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 5 {
		t.Fatalf("%d cases", len(cases))
	}
	const tol = 1e-5
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			x, want := readF32(t, c.Name+".in.f32"), readF32(t, c.Name+".out.f32")
			if len(x) != c.Samples || len(want) != c.Samples {
				t.Fatalf("%d and %d samples, want %d", len(x), len(want), c.Samples)
			}
			got := shiftAudio(t, x, c.Rate, c.Steps)
			worst, at, energy := 0.0, 0, 0.0
			for i := range want {
				energy += float64(want[i]) * float64(want[i])
				if d := math.Abs(float64(got[i] - want[i])); d > worst {
					worst, at = d, i
				}
			}
			if energy < 1 {
				t.Fatalf("reference has no signal (energy %g)", energy)
			}
			t.Logf("max |Go − reference| = %.3g (tolerance %g)", worst, tol)
			if worst > tol {
				t.Errorf("max |Go − reference| = %g at sample %d (got %g, want %g), tolerance %g", worst, at, got[at], want[at], tol)
			}
		})
	}
}

func sine(freq float64, rate, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return x
}

// peakHz is the frequency of the largest magnitude of the Hann-windowed
// DFT of x[from:to] (bins of rate/(to−from) Hz), searched up to 4 kHz.
func peakHz(x []float32, rate, from, to int) float64 {
	n := to - from
	best, bestK := 0.0, 0
	for k := 1; k < n*4000/rate; k++ {
		var s complex128
		for i := range n {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
			s += complex(float64(x[from+i])*w, 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(k*i)/float64(n)))
		}
		if m := cmplx.Abs(s); m > best {
			best, bestK = m, k
		}
	}
	return float64(bestK) * float64(rate) / float64(n)
}

// TestPitchShiftOctave: a 440 Hz sine shifted by 12 semitones has its
// spectral peak at 880 Hz, by 0 semitones at 440 Hz, by 7 at 659 Hz (the
// fifth, 440·2^(7/12)); the bins are 4 Hz wide.
func TestPitchShiftOctave(t *testing.T) {
	const rate, n = 48000, 24000
	x := sine(440, rate, n)
	for _, c := range []struct{ steps, want float64 }{{12, 880}, {0, 440}, {7, 440 * math.Pow(2, 7.0/12)}} {
		y := shiftAudio(t, x, rate, c.steps)
		// The middle 250 ms, away from the chunk's edges.
		if got := peakHz(y, rate, 6000, 18000); math.Abs(got-c.want) > 4 {
			t.Errorf("+%v semitones: peak at %.1f Hz, want %.1f", c.steps, got, c.want)
		}
		rms := 0.0
		for _, v := range y[6000:18000] {
			rms += float64(v) * float64(v)
		}
		if rms = math.Sqrt(rms / 12000); rms < 0.3 || rms > 0.42 { // 0.5/√2 ≈ 0.354
			t.Errorf("+%v semitones: rms %.3f, want about 0.354", c.steps, rms)
		}
	}
}

func TestFFTPlanMatchesDFT(t *testing.T) {
	for _, n := range []int{1, 2, 8, 7, 30, 1000, 1024} {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(math.Sin(float64(i)*0.7)+0.1*float64(i%5), math.Cos(float64(i)*1.3))
		}
		want := make([]complex128, n)
		for k := range n {
			for i := range n {
				want[k] += x[i] * cmplx.Exp(complex(0, -2*math.Pi*float64(k*i%n)/float64(n)))
			}
		}
		p := newFFTPlan(n)
		got := append([]complex128(nil), x...)
		p.transform(got, false)
		for k := range want {
			if cmplx.Abs(got[k]-want[k]) > 1e-9*float64(n) {
				t.Fatalf("n=%d: X[%d] = %v, want %v", n, k, got[k], want[k])
			}
		}
		p.transform(got, true)
		for i := range x {
			if cmplx.Abs(got[i]/complex(float64(n), 0)-x[i]) > 1e-9 {
				t.Fatalf("n=%d: inverse x[%d] = %v, want %v", n, i, got[i]/complex(float64(n), 0), x[i])
			}
		}
	}
}

func TestLoadAudioTensorChunk(t *testing.T) {
	for _, c := range []struct {
		ms   float64
		want int
	}{{500, 24000}, {500.5, 24024}, {20, 960}} {
		k := kernel(t, "LoadAudioTensor")
		if _, ok := k.(nodes.AudioInput); !ok {
			t.Fatal("LoadAudioTensor is not a nodes.AudioInput")
		}
		out, err := k.Prepare([]value.Spec{value.ConstSpec(value.OfFloat(c.ms)), {}})
		if err != nil {
			t.Fatal(err)
		}
		if want := value.AudioSpec(1, 1, c.want, 48000); len(out) != 1 || !out[0].SameShape(want) {
			t.Fatalf("buffer_size %v: %v, want %v", c.ms, out, want)
		}
		chunk := value.New(out[0])
		for i := range chunk.Tensor.Data {
			chunk.Tensor.Data[i] = float32(i%100) / 100
		}
		res := []value.Value{value.New(out[0])}
		if err := k.Run([]value.Value{value.OfFloat(c.ms), {}, chunk}, res); err != nil {
			t.Fatal(err)
		}
		if res[0].Tensor.Data[99] != chunk.Tensor.Data[99] || res[0].SampleRate() != 48000 {
			t.Fatalf("chunk not passed through: %v", res[0])
		}
		bad := value.OfAudio(value.NewTensor(1, 1, 10), 48000)
		if err := k.Run([]value.Value{value.OfFloat(c.ms), {}, bad}, res); err == nil {
			t.Fatal("a chunk of the wrong size was accepted")
		}
	}
	for _, ms := range []float64{0, -5, 1e9, 0.001, math.NaN()} {
		_, err := kernel(t, "LoadAudioTensor").Prepare([]value.Spec{value.ConstSpec(value.OfFloat(ms))})
		if err == nil || !strings.Contains(err.Error(), "buffer_size") {
			t.Errorf("buffer_size %v: err %v, want one naming buffer_size", ms, err)
		}
	}
}

func TestAudioKernelsRejectNonAudio(t *testing.T) {
	img := value.ImageSpec(1, 8, 8)
	if _, err := kernel(t, "SaveAudioTensor").Prepare([]value.Spec{img}); err == nil || !strings.Contains(err.Error(), "input audio: want AUDIO, got IMAGE") {
		t.Errorf("SaveAudioTensor on IMAGE: %v", err)
	}
	if _, ok := kernel(t, "SaveAudioTensor").(nodes.AudioOutput); !ok {
		t.Error("SaveAudioTensor is not a nodes.AudioOutput")
	}
	k := kernel(t, "PitchShifter")
	if _, err := k.Prepare([]value.Spec{img, value.ConstSpec(value.OfFloat(4))}); err == nil || !strings.Contains(err.Error(), "input audio") {
		t.Errorf("PitchShifter on IMAGE: %v", err)
	}
	a := value.AudioSpec(1, 1, 100, 48000)
	if _, err := k.Prepare([]value.Spec{a, value.ConstSpec(value.OfFloat(math.NaN()))}); err == nil || !strings.Contains(err.Error(), "input pitch_shift") {
		t.Errorf("PitchShifter with NaN: %v", err)
	}
	noRate := value.Spec{Kind: value.Audio, Shape: []int{1, 1, 100}}
	if _, err := k.Prepare([]value.Spec{noRate, value.ConstSpec(value.OfFloat(4))}); err == nil || !strings.Contains(err.Error(), "sample rate") {
		t.Errorf("PitchShifter without a rate: %v", err)
	}
}

// TestPitchShiftLinkedSteps: a pitch_shift known only per run is read then
// (a change rebuilds the buffers) and gives what the constant gives.
func TestPitchShiftLinkedSteps(t *testing.T) {
	x := sine(440, 48000, 4800)
	want := shiftAudio(t, x, 48000, 12)
	k := kernel(t, "PitchShifter")
	specs := []value.Spec{value.AudioSpec(1, 1, len(x), 48000), {Kind: value.Float}}
	outSpecs, err := k.Prepare(specs)
	if err != nil {
		t.Fatal(err)
	}
	out := []value.Value{value.New(outSpecs[0])}
	in := []value.Value{value.OfAudio(value.Tensor{Shape: []int{1, 1, len(x)}, Data: x}, 48000), value.OfFloat(12)}
	if err := k.Run(in, out); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if out[0].Tensor.Data[i] != want[i] {
			t.Fatalf("sample %d: %g, want %g", i, out[0].Tensor.Data[i], want[i])
		}
	}
	in[1] = value.OfFloat(math.Inf(1))
	if err := k.Run(in, out); err == nil || !strings.Contains(err.Error(), "pitch_shift") {
		t.Errorf("infinite pitch_shift: %v", err)
	}
}

// BenchmarkPitchShift shifts one 500 ms chunk at 48 kHz (ComfyStream's
// default buffer) by 4 semitones; real time needs well under 500 ms.
func BenchmarkPitchShift(b *testing.B) {
	x := sine(440, 48000, 24000)
	k := kernel(b, "PitchShifter")
	specs := []value.Spec{value.AudioSpec(1, 1, len(x), 48000), value.ConstSpec(value.OfFloat(4))}
	outSpecs, err := k.Prepare(specs)
	if err != nil {
		b.Fatal(err)
	}
	in := []value.Value{value.OfAudio(value.Tensor{Shape: []int{1, 1, len(x)}, Data: x}, 48000), value.OfFloat(4)}
	out := []value.Value{value.New(outSpecs[0])}
	b.ReportAllocs()
	b.SetBytes(int64(len(x) * 4))
	for b.Loop() {
		if err := k.Run(in, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/500*100, "%realtime")
}
