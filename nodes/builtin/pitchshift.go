package builtin

import (
	"math"
	"math/cmplx"
)

// Pitch shifting as librosa.effects.pitch_shift, which ComfyStream's
// PitchShifter calls: a phase-vocoder time stretch by rate = 2^(−steps/12)
// followed by a resampling from sr/rate back to sr, the result cut (or
// zero-padded) to the input's length. The stretch is librosa's defaults:
// STFT with n_fft 2048, hop 512, a periodic Hann window, frames centred
// (the signal zero-padded by n_fft/2 on both sides); the phase vocoder
// interpolates magnitudes linearly between frames and accumulates phase
// from the measured phase advance; the inverse STFT overlap-adds the
// windowed frames and divides by the summed squared window. The
// resampling is the band-limited FFT method (librosa's res_type "fft",
// scipy.signal.resample), where librosa's default is soxr's "HQ"
// polyphase filter: the two differ near the new Nyquist frequency only.
// Everything is computed in float64. scripts/reference/pitchshift.py is
// the same algorithm in numpy and writes the test's reference values.
const (
	psFFT = 2048
	psHop = psFFT / 4
	psBin = psFFT/2 + 1
)

// shifter pitch-shifts signals of n samples by steps semitones, with every
// buffer allocated once.
type shifter struct {
	n, rate   int // samples, sample rate
	steps     float64
	stretch   float64 // librosa's rate
	frames    int     // STFT frames of the input
	outFrames int     // phase-vocoder frames
	lenStr    int     // stretched length
	resN      int     // resampled length (0: no resampling)
	win       []float64
	fft       *fftPlan
	buf       []complex128
	spec      []complex128 // frames+2 columns of psBin, the last two zero
	out       []complex128 // outFrames columns of psBin
	phase     []float64
	ola, wss  []float64
	y         []float64 // stretched signal
	rsIn      *fftPlan  // lenStr
	rsOut     *fftPlan  // resN
	rsBuf     []complex128
	rsRes     []complex128
}

// shifterBytes is about what newShifter(n, steps) allocates.
func shifterBytes(n int, steps float64) int64 {
	st := math.Pow(2, -steps/12)
	frames := 1 + n/psHop
	out := int(math.Ceil(float64(frames)/st)) + 1
	lenStr := int(float64(n)/st) + 1
	m := int64(1)
	for m < int64(2*lenStr) {
		m <<= 1
	}
	b := int64(frames+2+out)*psBin*16 + int64(psFFT)*40 + int64(out*psHop+psFFT)*16 + int64(lenStr)*8
	return b + 2*(3*m*16+int64(lenStr)*16) + int64(lenStr)*32
}

func newShifter(n, rate int, steps float64) *shifter {
	s := &shifter{n: n, rate: rate, steps: steps, stretch: math.Pow(2, -steps/12)}
	s.frames = 1 + n/psHop
	s.outFrames = int(math.Ceil(float64(s.frames) / s.stretch))
	s.lenStr = int(math.RoundToEven(float64(n) / s.stretch))
	s.win = make([]float64, psFFT)
	for i := range s.win {
		s.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/psFFT)
	}
	s.fft = newFFTPlan(psFFT)
	s.buf = make([]complex128, psFFT)
	s.spec = make([]complex128, (s.frames+2)*psBin)
	s.out = make([]complex128, s.outFrames*psBin)
	s.phase = make([]float64, psBin)
	olaLen := psFFT + psHop*(s.istftFrames()-1)
	s.ola, s.wss = make([]float64, olaLen), make([]float64, olaLen)
	s.y = make([]float64, s.lenStr)
	if orig := float64(rate) / s.stretch; orig != float64(rate) {
		s.resN = int(math.Ceil(float64(s.lenStr) * (float64(rate) / orig)))
		s.rsIn, s.rsOut = newFFTPlan(s.lenStr), newFFTPlan(s.resN)
		s.rsBuf, s.rsRes = make([]complex128, s.lenStr), make([]complex128, s.resN)
	}
	return s
}

// istftFrames is how many stretched frames reach the output (librosa trims
// those past the requested length).
func (s *shifter) istftFrames() int {
	return min(s.outFrames, (s.lenStr+2*(psFFT/2)+psHop-1)/psHop)
}

// run writes the pitch-shifted x (n samples) to dst (n samples).
func (s *shifter) run(dst, x []float32) {
	s.stft(x)
	s.vocode()
	s.istft()
	if s.resN == 0 {
		for i := range dst {
			dst[i] = 0
			if i < len(s.y) {
				dst[i] = float32(s.y[i])
			}
		}
		return
	}
	s.resample(dst)
}

// stft fills spec with the centred, Hann-windowed STFT of x.
func (s *shifter) stft(x []float32) {
	for t := range s.frames {
		for i := range psFFT {
			j := t*psHop + i - psFFT/2 // index into x of the padded signal
			v := 0.0
			if j >= 0 && j < len(x) {
				v = float64(x[j]) * s.win[i]
			}
			s.buf[i] = complex(v, 0)
		}
		s.fft.transform(s.buf, false)
		copy(s.spec[t*psBin:(t+1)*psBin], s.buf[:psBin])
	}
	clear(s.spec[s.frames*psBin:])
}

// vocode is librosa's phase_vocoder: out frame t reads input time t·rate.
func (s *shifter) vocode() {
	for k := range psBin {
		s.phase[k] = cmplx.Phase(s.spec[k])
	}
	for t := range s.outFrames {
		step := float64(t) * s.stretch
		i0 := int(step)
		alpha := step - math.Floor(step)
		c0, c1 := s.spec[i0*psBin:(i0+1)*psBin], s.spec[(i0+1)*psBin:(i0+2)*psBin]
		o := s.out[t*psBin : (t+1)*psBin]
		for k := range psBin {
			mag := (1-alpha)*cmplx.Abs(c0[k]) + alpha*cmplx.Abs(c1[k])
			sn, cs := math.Sincos(s.phase[k])
			o[k] = complex(mag*cs, mag*sn)
			adv := math.Pi * psHop * float64(k) / float64(psBin-1)
			d := cmplx.Phase(c1[k]) - cmplx.Phase(c0[k]) - adv
			d -= 2 * math.Pi * math.RoundToEven(d/(2*math.Pi))
			s.phase[k] += adv + d
		}
	}
}

// istft overlap-adds the stretched frames into y (lenStr samples).
func (s *shifter) istft() {
	clear(s.ola)
	clear(s.wss)
	for t := range s.istftFrames() {
		col := s.out[t*psBin : (t+1)*psBin]
		s.buf[0] = complex(real(col[0]), 0)
		s.buf[psFFT/2] = complex(real(col[psFFT/2]), 0)
		for k := 1; k < psFFT/2; k++ {
			s.buf[k], s.buf[psFFT-k] = col[k], cmplx.Conj(col[k])
		}
		s.fft.transform(s.buf, true)
		at := t * psHop
		for i := range psFFT {
			s.ola[at+i] += real(s.buf[i]) / psFFT * s.win[i]
			s.wss[at+i] += s.win[i] * s.win[i]
		}
	}
	const tiny = 1.1754943508222875e-38 // float32's smallest normal, numpy's tiny for float32
	for j := range s.y {
		s.y[j] = 0
		if i := j + psFFT/2; i < len(s.ola) {
			s.y[j] = s.ola[i]
			if s.wss[i] > tiny {
				s.y[j] /= s.wss[i]
			}
		}
	}
}

// resample is scipy.signal.resample of y to resN samples (a real FFT, the
// spectrum cut or padded, the Nyquist bin of an even length split or
// joined), cut or padded to dst's length.
func (s *shifter) resample(dst []float32) {
	nx, num := s.lenStr, s.resN
	for i, v := range s.y {
		s.rsBuf[i] = complex(v, 0)
	}
	s.rsIn.transform(s.rsBuf, false)
	clear(s.rsRes)
	nn := min(num, nx)
	nyq := nn/2 + 1
	for k := 0; k < nyq && k <= num/2; k++ {
		s.rsRes[k] = s.rsBuf[k]
	}
	if nn%2 == 0 {
		switch {
		case num < nx:
			s.rsRes[nn/2] *= 2
		case nx < num:
			s.rsRes[nn/2] *= 0.5
		}
	}
	// irfft of the half spectrum rsRes[0..num/2] to num samples.
	s.rsRes[0] = complex(real(s.rsRes[0]), 0)
	if num%2 == 0 {
		s.rsRes[num/2] = complex(real(s.rsRes[num/2]), 0)
	}
	for k := 1; k < (num+1)/2; k++ {
		s.rsRes[num-k] = cmplx.Conj(s.rsRes[k])
	}
	s.rsOut.transform(s.rsRes, true)
	scale := 1 / float64(nx) // irfft's 1/num times scipy's num/nx
	for i := range dst {
		dst[i] = 0
		if i < num {
			dst[i] = float32(real(s.rsRes[i]) * scale)
		}
	}
}
