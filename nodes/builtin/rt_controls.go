package builtin

import (
	"math"
	"math/rand/v2"
	"strings"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// The value controllers of ComfyUI_RealTimeNodes (FloatControl, IntControl,
// StringControl). Each run (each frame) is one step of a cycle of
// steps_per_cycle steps, as in the pack, whose controllers advance once per
// execution: the phase goes 1/steps_per_cycle, 2/steps_per_cycle, … modulo
// 1, summed the same way, and the value is the movement pattern at that
// phase between minimum_value and maximum_value. FloatControl and
// IntControl output starting_value on their first frame; StringControl
// starts at phase 1/steps_per_cycle. With always_execute false ComfyUI
// caches the node's first result, so the value stays that of the first
// frame. The phase is the kernel's state: it survives a parameter swap
// that leaves the node unchanged.

// movements are the pack's movement patterns, in its order.
var movements = []string{"static", "sine", "triangle", "sawtooth", "square", "bounce", "exponential",
	"logarithmic", "pulse", "random_walk", "smooth_noise"}

const (
	moveStatic = iota
	moveSine
	moveTriangle
	moveSawtooth
	moveSquare
	moveBounce
	moveExponential
	moveLogarithmic
	movePulse
	moveRandomWalk
	moveSmoothNoise
)

// pattern evaluates one movement pattern; random_walk keeps its walk.
type pattern struct {
	kind      int
	rng       *rand.Rand
	pos, last float64
}

// newPattern makes pattern kind; random_walk draws from a generator seeded
// by the node id, so that a run is reproducible (the pack uses Python's
// unseeded random).
func newPattern(kind int, nodeID string) pattern {
	p := pattern{kind: kind, pos: 0.5}
	if kind == moveRandomWalk {
		p.rng = rand.New(rand.NewPCG(seedOf(nodeID), 0x636f6d667972740a))
	}
	return p
}

// seedOf hashes s (FNV-1a) into a generator seed.
func seedOf(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// at returns the pattern's value at phase (0 ≤ phase < 1) between lo and hi.
func (p *pattern) at(phase, lo, hi float64) float64 {
	span := hi - lo
	switch p.kind {
	case moveSine:
		amp := span / 2
		return lo + amp + amp*math.Sin(2*math.Pi*phase)
	case moveTriangle:
		if phase < 0.5 {
			return lo + span*(2*phase)
		}
		return hi - span*(2*(phase-0.5))
	case moveSawtooth:
		return lo + span*phase
	case moveSquare:
		if phase < 0.5 {
			return hi
		}
		return lo
	case moveBounce:
		return lo + span*math.Abs(math.Sin(math.Pi*phase))
	case moveExponential:
		return lo + span*((math.Exp(4*phase)-1)/(math.Exp(4)-1))
	case moveLogarithmic:
		return lo + span*(math.Log(1+99*phase)/math.Log(100))
	case movePulse:
		return lo + span*math.Exp(-10*(phase-0.5)*(phase-0.5))
	case moveRandomWalk:
		p.last = 0.7*p.last + (2*p.rng.Float64()-1)*0.1
		p.pos = min(1, max(0, p.pos+p.last))
		return lo + span*p.pos
	case moveSmoothNoise:
		t := phase * 10
		n := (math.Sin(t) + math.Sin(2.2*t+5.52) + math.Sin(3.6*t+4.12)) / 3
		return lo + span*(n+1)/2
	}
	return lo // static
}

// valueControl is FloatControl (integer false) and IntControl.
type valueControl struct {
	base
	integer        bool
	always         bool
	last           float64
	steps          int64
	lo, hi, start  float64
	move           pattern
	started        bool
	phase          float64
	moveKind       int
	preparedParams bool
}

func newValueControl(integer bool) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		return &valueControl{base: base{cfg}, integer: integer}, nil
	}
}

func (k *valueControl) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "always_execute", "steps_per_cycle", "movement_type", "maximum_value", "minimum_value", "starting_value")
	always := a.bool(0)
	steps := a.int(1)
	a.positive(1, steps)
	kind := a.choice(2, movements...)
	hi, lo, start := a.float(3), a.float(4), a.float(5)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.always = always
	k.steps, k.hi, k.lo, k.start = steps, hi, lo, start
	if !k.preparedParams || kind != k.moveKind {
		k.move = newPattern(kind, k.cfg.NodeID)
	}
	k.moveKind, k.preparedParams = kind, true
	if k.integer {
		return []value.Spec{{Kind: value.Int}}, nil
	}
	return []value.Spec{{Kind: value.Float}}, nil
}

// next advances one step and returns the value.
func (k *valueControl) next() float64 {
	switch {
	case !k.started:
		k.started, k.last = true, k.start
	case k.always:
		k.phase = math.Mod(k.phase+1/float64(k.steps), 1)
		k.last = k.move.at(k.phase, k.lo, k.hi)
	}
	return k.last
}

func (k *valueControl) Run(_, out []value.Value) error {
	v := k.next()
	if k.integer {
		out[0] = value.OfInt(int64(math.RoundToEven(v))) // Python's round
		return nil
	}
	out[0] = value.OfFloat(v)
	return nil
}

// stringControl is StringControl: the index into the non-empty lines of
// strings follows the pattern between 0 and len-1, rounded half to even.
type stringControl struct {
	base
	lines    []string
	always   bool
	last     int // the line output last, -1 before the first frame
	steps    int64
	move     pattern
	moveKind int
	phase    float64
	prepared bool
}

func newStringControl(cfg nodes.Config) (nodes.Kernel, error) {
	return &stringControl{base: base{cfg}}, nil
}

func (k *stringControl) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "always_execute", "strings", "steps_per_cycle", "movement_type")
	always := a.bool(0)
	text := a.str(1)
	steps := a.int(2)
	a.positive(2, steps)
	kind := a.choice(3, movements...)
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.lines = k.lines[:0]
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			k.lines = append(k.lines, l)
		}
	}
	k.steps, k.always = steps, always
	if !k.prepared {
		k.last = -1
	}
	if !k.prepared || kind != k.moveKind {
		k.move = newPattern(kind, k.cfg.NodeID)
	}
	k.moveKind, k.prepared = kind, true
	return []value.Spec{{Kind: value.String}}, nil
}

func (k *stringControl) Run(_, out []value.Value) error {
	if len(k.lines) == 0 {
		out[0] = value.OfString("")
		return nil
	}
	if k.last < 0 || k.always {
		k.phase = math.Mod(k.phase+1/float64(k.steps), 1)
		f := k.move.at(k.phase, 0, float64(len(k.lines)-1))
		i := int(math.RoundToEven(f)) % len(k.lines)
		if i < 0 {
			i += len(k.lines)
		}
		k.last = i
	}
	out[0] = value.OfString(k.lines[min(k.last, len(k.lines)-1)])
	return nil
}
