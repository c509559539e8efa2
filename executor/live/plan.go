package live

import (
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/media"
	"comfyrt/nodes/value"
)

// livePlan is what the stream's executor runs: a compiled plan, or none
// (p == nil), which passes the input frames through unchanged, or shows a
// loading frame (loading set). The stream starts with none or a loading
// frame while its first workflow loads, so that the output flows from the
// first input frame on.
type livePlan struct {
	p       *compiler.Plan
	loading value.Value // the loading frame (IMAGE), when Kind is Image
}

// loadingGrey is the loading frame's level (a flat mid grey).
const loadingGrey = 0.5

// loadingPlan shows a flat grey w×h frame for every input frame.
func loadingPlan(w, h int) *livePlan {
	t := value.NewTensor(1, h, w, 3)
	for i := range t.Data {
		t.Data[i] = loadingGrey
	}
	return &livePlan{loading: value.Value{Kind: value.Image, Tensor: t}}
}

func (l *livePlan) isLoading() bool { return l.p == nil && l.loading.Kind == value.Image }

func (l *livePlan) RunStatic() error {
	if l.p == nil {
		return nil
	}
	return l.p.RunStatic()
}

func (l *livePlan) RunFrame(frame value.Tensor) error {
	if l.p == nil {
		return nil
	}
	return l.p.RunFrame(frame)
}

func (l *livePlan) NumOutputs() int {
	if l.isLoading() {
		return 1
	}
	if l.p == nil {
		return 0 // the executor passes the input through
	}
	return l.p.NumOutputs()
}

func (l *livePlan) Output(i int) value.Value {
	if l.p == nil {
		return l.loading
	}
	return l.p.Output(i)
}

func (l *livePlan) HasFrameInput() bool { return l.p != nil && l.p.HasFrameInput() }

func (l *livePlan) FrameSpec() value.Spec {
	if l.p == nil {
		return value.Spec{}
	}
	return l.p.FrameSpec()
}

func (l *livePlan) Resize(w, h int) (*livePlan, error) {
	if l.p == nil {
		return &livePlan{loading: l.loading}, nil
	}
	np, err := l.p.Resize(w, h)
	if err != nil {
		return nil, err
	}
	return &livePlan{p: np}, nil
}

func (l *livePlan) Close() error {
	if l.p == nil {
		return nil
	}
	return l.p.Close()
}

// keySink forces a keyframe on the first frame and then every interval of
// PTS, so that the output splits into segments of about that length, each
// starting with an IDR.
type keySink struct {
	media.Sink
	force    func()
	interval time.Duration
	next     time.Duration
	started  bool
	frames   int64
}

func (k *keySink) WriteFrame(f *media.Frame) error {
	t := time.Duration(float64(f.PTS) * float64(f.TimeBase.Num) / float64(max(f.TimeBase.Den, 1)) * float64(time.Second))
	if !k.started || t >= k.next || t < k.next-2*k.interval {
		k.force()
		k.started = true
		k.next = t + k.interval
	}
	k.frames++
	return k.Sink.WriteFrame(f)
}
