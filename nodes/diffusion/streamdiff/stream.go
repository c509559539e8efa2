package streamdiff

import (
	"fmt"

	"comfyrt/nodes/diffusion/torchrand"
)

// CFG is StreamDiffusion's cfg_type.
type CFG int

const (
	// CFGNone: no guidance (guidance_scale taken as 1).
	CFGNone CFG = iota
	// CFGFull: the negative prompt's ε from a second UNet pass on every row.
	CFGFull
	// CFGSelf: the negative ε is delta × the stock noise (residual CFG).
	CFGSelf
	// CFGInitialize: one negative-prompt row for the newest latent feeds
	// the stock noise; otherwise as self.
	CFGInitialize
)

var cfgNames = []string{"none", "full", "self", "initialize"}

// ParseCFG reads a cfg_type.
func ParseCFG(s string) (CFG, error) {
	for i, n := range cfgNames {
		if n == s {
			return CFG(i), nil
		}
	}
	return 0, fmt.Errorf("cfg_type %q: want none, full, self or initialize", s)
}

func (c CFG) String() string {
	if c < 0 || int(c) >= len(cfgNames) {
		return fmt.Sprintf("CFG(%d)", int(c))
	}
	return cfgNames[c]
}

// Config is a stream's settings.
type Config struct {
	Schedule *Schedule
	// Latent is the number of values of one latent (4·h·w).
	Latent int
	CFG    CFG
	// Guidance is guidance_scale; Delta the residual noise's multiplier.
	Guidance, Delta float64
	// AddNoise is do_add_noise: re-noise x₀ for the next t_index.
	AddNoise bool
	// DenoisingBatch is use_denoising_batch.
	DenoisingBatch bool
	Seed           uint64
}

// Model runs the UNet on Rows() rows of x (each Config.Latent values), row
// i at timestep ts[i] and conditioned on the negative prompt where
// Negative()[i] is true, else on the prompt; it writes ε into eps.
type Model func(x []float32, ts []int, eps []float32) error

// Stream is one StreamDiffusion stream's state.
type Stream struct {
	cfg        Config
	n, l       int
	guide      bool
	rows       int
	off        int // the first prompt row
	g, delta   float32
	init       []float32 // init noise: n latents (1 when sequential)
	stock      []float32 // stock noise, as init
	buf        []float32 // the n−1 latents in flight
	x          []float32 // the batch's latents (n, or 1 when sequential)
	in, eps    []float32 // the UNet's rows
	pred, den  []float32
	ts         []int
	neg        []bool
	stepNoise  *torchrand.Generator
	alphaNext  []float32
	betaNext   []float32
	frameCalls int
}

// New sizes a stream and sets its initial state (Reset).
func New(cfg Config) (*Stream, error) {
	sc := cfg.Schedule
	if sc == nil || len(sc.T) == 0 {
		return nil, fmt.Errorf("streamdiff: no schedule")
	}
	if cfg.Latent <= 0 {
		return nil, fmt.Errorf("streamdiff: latent of %d values", cfg.Latent)
	}
	n, l := len(sc.T), cfg.Latent
	s := &Stream{cfg: cfg, n: n, l: l, g: float32(cfg.Guidance), delta: float32(cfg.Delta)}
	s.guide = cfg.CFG != CFGNone && cfg.Guidance > 1
	base := n
	if !cfg.DenoisingBatch {
		base = 1
	}
	s.rows = base
	switch {
	case s.guide && cfg.CFG == CFGFull:
		s.rows = 2 * base
	case s.guide && cfg.CFG == CFGInitialize:
		s.rows = base + 1
	}
	s.off = s.rows - base
	s.init = make([]float32, base*l)
	s.stock = make([]float32, base*l)
	s.buf = make([]float32, (n-1)*l)
	s.x = make([]float32, base*l)
	s.in = make([]float32, s.rows*l)
	s.eps = make([]float32, s.rows*l)
	s.pred = make([]float32, base*l)
	s.den = make([]float32, base*l)
	s.ts = make([]int, s.rows)
	s.neg = make([]bool, s.rows)
	for i := range s.off {
		s.neg[i] = true
	}
	s.alphaNext = append(append([]float32{}, sc.AlphaSqrt[1:]...), 1)
	s.betaNext = append(append([]float32{}, sc.BetaSqrt[1:]...), 1)
	s.stepNoise = torchrand.New(cfg.Seed + 1)
	if cfg.DenoisingBatch {
		for i := range s.rows {
			r := i - s.off
			if r < 0 {
				r = i // full: the negative rows mirror the prompt rows; initialize: the newest
			}
			s.ts[i] = sc.T[r]
		}
	}
	s.Reset()
	return s, nil
}

// Rows is the number of UNet rows of one Model call.
func (s *Stream) Rows() int { return s.rows }

// Negative says which rows take the negative prompt (fixed for a stream).
func (s *Stream) Negative() []bool { return s.neg }

// Latency is the number of calls before a frame's latent comes out: n−1
// with the denoising batch, 0 without.
func (s *Stream) Latency() int {
	if s.cfg.DenoisingBatch {
		return s.n - 1
	}
	return 0
}

// ModelCalls is the number of Model calls of one Step.
func (s *Stream) ModelCalls() int {
	if s.cfg.DenoisingBatch {
		return 1
	}
	return s.n
}

// Reset restores the state prepare leaves: the init noise of the seed,
// zero stock noise, zero latents in flight.
func (s *Stream) Reset() {
	torchrand.New(s.cfg.Seed).Randn(s.init)
	clear(s.stock)
	clear(s.buf)
	s.stepNoise.ManualSeed(s.cfg.Seed + 1)
	s.frameCalls = 0
}

// Calls is the number of Steps since Reset.
func (s *Stream) Calls() int { return s.frameCalls }

// Encode writes the first t_index's noisy latent of a frame's (scaled)
// latent: √ᾱ₀·latent + √(1−ᾱ₀)·init₀.
func (s *Stream) Encode(latent, xt []float32) {
	a, b := s.cfg.Schedule.AlphaSqrt[0], s.cfg.Schedule.BetaSqrt[0]
	for i, v := range latent[:s.l] {
		xt[i] = a*v + b*s.init[i]
	}
}

// Noise fills dst with the stream's noise (txt2img's starting latent).
func (s *Stream) Noise(dst []float32) { s.stepNoise.Randn(dst) }

// Step advances the stream by one call on the noisy latent xt and writes
// the x₀ that comes out into out.
func (s *Stream) Step(xt []float32, m Model, out []float32) error {
	if len(xt) < s.l || len(out) < s.l {
		return fmt.Errorf("streamdiff: latents of %d and %d values, want %d", len(xt), len(out), s.l)
	}
	s.frameCalls++
	if s.cfg.DenoisingBatch {
		return s.stepBatch(xt, m, out)
	}
	return s.stepSequential(xt, m, out)
}

func (s *Stream) stepBatch(xt []float32, m Model, out []float32) error {
	n, l := s.n, s.l
	copy(s.x[:l], xt)
	copy(s.x[l:], s.buf)
	if n > 1 {
		copy(s.stock[l:], s.stock[:(n-1)*l])
		copy(s.stock[:l], s.init[:l])
	}
	if s.off == n {
		copy(s.in, s.x)
	} else if s.off == 1 {
		copy(s.in, s.x[:l])
	}
	copy(s.in[s.off*l:], s.x)
	if err := m(s.in, s.ts, s.eps); err != nil {
		return err
	}
	s.guideRows(0, n)
	sc := s.cfg.Schedule
	for r := range n {
		s.denoise(s.den[r*l:(r+1)*l], s.x[r*l:(r+1)*l], s.pred[r*l:(r+1)*l], r)
	}
	if s.cfg.CFG == CFGSelf || s.cfg.CFG == CFGInitialize {
		for r := range n {
			s.updateStock(r, (r+1)%n)
		}
	}
	copy(out[:l], s.den[(n-1)*l:])
	for r := range n - 1 {
		a, b := sc.AlphaSqrt[r+1], sc.BetaSqrt[r+1]
		d, x, z := s.den[r*l:(r+1)*l], s.buf[r*l:(r+1)*l], s.init[(r+1)*l:(r+2)*l]
		for i := range x {
			if s.cfg.AddNoise {
				x[i] = a*d[i] + b*z[i]
			} else {
				x[i] = a * d[i]
			}
		}
	}
	return nil
}

// guideRows writes the guided ε of prompt rows [from, to) (relative to the
// prompt rows) into pred; the stock noise's row 0 takes the negative ε
// first under initialize.
func (s *Stream) guideRows(from, to int) {
	l := s.l
	text := s.eps[s.off*l:]
	if !s.guide {
		copy(s.pred[from*l:to*l], text[from*l:to*l])
		return
	}
	if s.cfg.CFG == CFGInitialize {
		copy(s.stock[:l], s.eps[:l])
	}
	for i := from * l; i < to*l; i++ {
		var u float32
		if s.cfg.CFG == CFGFull {
			u = s.eps[i]
		} else {
			u = s.stock[i] * s.delta
		}
		s.pred[i] = u + s.g*(text[i]-u)
	}
}

// denoise is scheduler_step_batch for t_index r.
func (s *Stream) denoise(dst, x, pred []float32, r int) {
	sc := s.cfg.Schedule
	a, b, cs, co := sc.AlphaSqrt[r], sc.BetaSqrt[r], sc.CSkip[r], sc.COut[r]
	for i, v := range x {
		f := (v - b*pred[i]) / a
		dst[i] = co*f + cs*v
	}
}

// updateStock is the residual noise update of row r: init[next] + the x₀
// step of √(1−ᾱ)·stock, times √ᾱ_next/√(1−ᾱ_next).
func (s *Stream) updateStock(r, next int) {
	sc := s.cfg.Schedule
	l := s.l
	a, b, cs, co := sc.AlphaSqrt[r], sc.BetaSqrt[r], sc.CSkip[r], sc.COut[r]
	an, bn := s.alphaNext[r], s.betaNext[r]
	st, p, z := s.stock[r*l:(r+1)*l], s.pred[r*l:(r+1)*l], s.init[next*l:(next+1)*l]
	for i := range st {
		sn := b * st[i]
		dx := co*((sn-b*p[i])/a) + cs*sn
		dx = an * dx
		dx = dx / bn
		st[i] = z[i] + dx
	}
}

func (s *Stream) stepSequential(xt []float32, m Model, out []float32) error {
	l, sc := s.l, s.cfg.Schedule
	copy(s.init, xt[:l])
	copy(s.x, xt[:l])
	for idx := range s.n {
		for r := range s.rows {
			copy(s.in[r*l:(r+1)*l], s.x)
			s.ts[r] = sc.T[idx]
		}
		if err := m(s.in, s.ts, s.eps); err != nil {
			return err
		}
		s.guideRows(0, 1)
		s.denoise(s.den, s.x, s.pred, idx)
		if idx == s.n-1 {
			break
		}
		a, b := sc.AlphaSqrt[idx+1], sc.BetaSqrt[idx+1]
		if s.cfg.AddNoise {
			s.stepNoise.Randn(s.pred) // pred is free until the next call
		}
		for i, d := range s.den {
			if s.cfg.AddNoise {
				s.x[i] = a*d + b*s.pred[i]
			} else {
				s.x[i] = a * d
			}
		}
	}
	copy(out[:l], s.den)
	return nil
}
