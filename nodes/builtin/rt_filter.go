package builtin

import (
	"fmt"
	"math"
	"math/rand/v2"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// similarityFilter is ComfyUI_RealTimeNodes' SimilarityFilter: it compares
// each frame with the last frame it let through by cosine similarity (over
// all values, eps 1e-6 as torch's CosineSimilarity) and skips it with
// probability max(0, 1 − (1 − cos)/(1 − threshold)) (never for a threshold
// of 1), outputting the last frame let through and should_execute false;
// the first two frames and every frame after max_skip_frames skipped ones
// go through. The draw comes from a generator seeded by the node id, so
// that a run is reproducible (the pack uses Python's unseeded random). As
// in the pack, the filter inside (which compares) and the node (which
// outputs) each keep their own previous frame and skip count.
type similarityFilter struct {
	base
	threshold float64
	maxSkip   int64
	n         int
	// The node's state: the frame it last output as executed.
	prevOut  []float32
	started  bool
	skipNode int64
	// The inner filter's state: the frame it last let through.
	prevCmp  []float32
	cmpReady bool
	skipCmp  int64
	rng      *rand.Rand
}

func newSimilarityFilter(cfg nodes.Config) (nodes.Kernel, error) {
	return &similarityFilter{base: base{cfg}, rng: rand.New(rand.NewPCG(seedOf(cfg.NodeID), 0x73696d696c6172))}, nil
}

func (k *similarityFilter) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "always_execute", "threshold", "max_skip_frames")
	b, h, w, c := a.image(0)
	th := a.float(2)
	ms := a.int(3)
	if err := a.Err(); err != nil {
		return nil, err
	}
	n := b * h * w * c
	if n != k.n { // a new size: the state starts over
		k.prevOut, k.prevCmp = make([]float32, n), make([]float32, n)
		k.started, k.cmpReady, k.skipNode, k.skipCmp = false, false, 0, 0
	}
	k.n, k.threshold, k.maxSkip = n, th, ms
	return []value.Spec{specOf(in[0]), {Kind: value.Bool}}, nil
}

func (k *similarityFilter) Run(in, out []value.Value) error {
	x := in[0].Tensor.Data
	if len(x) != k.n || len(out[0].Tensor.Data) != k.n {
		return fmt.Errorf("input image: %d values, prepared for %d", len(x), k.n)
	}
	pass := true
	if k.started {
		pass = k.filter(x)
		if !pass && k.skipNode >= k.maxSkip {
			pass = true
		}
	}
	if pass {
		k.started, k.skipNode = true, 0
		copy(k.prevOut, x)
		copy(out[0].Tensor.Data, x)
	} else {
		k.skipNode++
		copy(out[0].Tensor.Data, k.prevOut)
	}
	out[1] = value.OfBool(pass)
	return nil
}

// filter is the pack's SimilarImageFilter: whether x goes through.
func (k *similarityFilter) filter(x []float32) bool {
	if !k.cmpReady {
		k.cmpReady = true
		copy(k.prevCmp, x)
		return true
	}
	cos := cosine(k.prevCmp, x)
	sample := k.rng.Float64()
	skipProb := 0.0
	if k.threshold < 1 {
		skipProb = max(0, 1-(1-cos)/(1-k.threshold))
	}
	if skipProb < sample {
		copy(k.prevCmp, x)
		return true
	}
	if k.skipCmp > k.maxSkip {
		k.skipCmp = 0
		copy(k.prevCmp, x)
		return true
	}
	k.skipCmp++
	return false
}

// cosine is torch's cosine similarity of a and b with eps 1e-6.
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	return dot / (max(math.Sqrt(na), 1e-6) * max(math.Sqrt(nb), 1e-6))
}

// lazyCondition is ComfyUI_RealTimeNodes' LazyCondition: if_true when the
// condition is truthy (remembered), else fallback when use_fallback is set
// or nothing was remembered yet, else the last if_true. comfyrt runs the
// if_true branch on every frame (the pack skips it when the condition is
// false): the outputs are the same, only the cost differs. if_true and
// fallback must have the same type and shape.
type lazyCondition struct {
	base
	useFallback bool
	kind        value.Kind
	prev        value.Value // the remembered if_true (its own storage)
	havePrev    bool
}

func newLazyCondition(cfg nodes.Config) (nodes.Kernel, error) {
	return &lazyCondition{base: base{cfg}}, nil
}

func (k *lazyCondition) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "condition", "if_true", "fallback", "use_fallback")
	if a.spec(0).Kind == value.None {
		a.errorf(0, "required input is missing")
	}
	t, f := a.spec(1), a.spec(2)
	switch {
	case t.Kind == value.None || f.Kind == value.None:
		a.errorf(1, "if_true and fallback are both required")
	case !t.SameShape(f):
		a.errorf(2, "fallback %s differs from if_true %s", f, t)
	}
	k.useFallback = a.present(3) && a.bool(3)
	if err := a.Err(); err != nil {
		return nil, err
	}
	if t.Kind != k.kind || (t.Kind.IsTensor() && !value.EqualShapes(k.prev.Tensor.Shape, t.Shape)) {
		k.prev, k.havePrev = value.New(specOf(t)), false
	}
	k.kind = t.Kind
	return []value.Spec{specOf(t)}, nil
}

// truthy is Python's truth of a value: non-zero numbers, non-empty
// strings, true; any tensor or handle counts as true.
func truthy(v value.Value) bool {
	switch v.Kind {
	case value.Bool:
		return v.Bool
	case value.Int:
		return v.Int != 0
	case value.Float:
		return v.Float != 0
	case value.String:
		return v.Str != ""
	case value.None:
		return false
	}
	return true
}

func (k *lazyCondition) Run(in, out []value.Value) error {
	src := in[2]
	if truthy(in[0]) {
		src = in[1]
		setValue(&k.prev, src)
		k.havePrev = true
	} else if !k.useFallback && k.havePrev {
		src = k.prev
	}
	setValue(&out[0], src)
	return nil
}

// setValue copies v into *dst: a tensor's values into dst's storage (the
// same shape), anything else by value.
func setValue(dst *value.Value, v value.Value) {
	if v.Kind.IsTensor() && dst.Kind == v.Kind && len(dst.Tensor.Data) == len(v.Tensor.Data) {
		copy(dst.Tensor.Data, v.Tensor.Data)
		return
	}
	if v.Kind.IsTensor() {
		*dst = value.OfTensor(v.Kind, value.Tensor{Shape: v.Tensor.Shape, Data: append([]float32(nil), v.Tensor.Data...)})
		return
	}
	*dst = v
}

// specOf is s without its constant: the shape of a value computed per frame.
func specOf(s value.Spec) value.Spec {
	return value.Spec{Kind: s.Kind, Shape: append([]int(nil), s.Shape...)}
}
