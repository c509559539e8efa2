package builtin

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/sampling"
	"comfyrt/nodes/diffusion/torchrand"
	"comfyrt/nodes/value"
)

// StreamScheduler: the normal schedule's sigmas at the indexes, highest
// index first, then 0; out-of-range indexes dropped; a bad list is 32,45.
func TestStreamSchedulerSigmas(t *testing.T) {
	full, err := sampling.Sigmas(sampling.SD15(), "normal", 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		list string
		want []int
	}{{"0,16,32", []int{32, 16, 0}}, {" 32, 45 ", []int{45, 32}}, {"49,-1,50,3,3", []int{49, 3, 3}}, {"a,1", []int{45, 32}}, {"", []int{45, 32}}} {
		got := StreamSchedulerSigmas(full, c.list)
		want := []float64{}
		for _, i := range c.want {
			want = append(want, full[i])
		}
		want = append(want, 0)
		if !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", c.list, got, want)
		}
	}
	if !(full[32] < full[16] && full[16] < full[0]) {
		t.Errorf("normal schedule not descending: %v", full[:3])
	}
}

// StreamFrameBuffer: the first frame fills the ring, later frames are
// written at the position, which advances; the output is the ring in slot
// order; no allocation per frame.
func TestStreamFrameBuffer(t *testing.T) {
	k := kernel(t, "StreamFrameBuffer")
	lat := value.New(value.LatentSpec(1, 1, 1, 2))
	in := []value.Value{lat, i64(3)}
	out := prepare(t, k, in)
	if !slices.Equal(out[0].Tensor.Shape, []int{3, 1, 1, 2}) {
		t.Fatalf("shape %v", out[0].Tensor.Shape)
	}
	want := [][]float32{{1, 1, 1, 1, 1, 1}, {2, 2, 1, 1, 1, 1}, {2, 2, 3, 3, 1, 1}, {2, 2, 3, 3, 4, 4}, {5, 5, 3, 3, 4, 4}}
	for f, w := range want {
		lat.Tensor.Data[0], lat.Tensor.Data[1] = float32(f+1), float32(f+1)
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out[0].Tensor.Data, w) {
			t.Errorf("frame %d: %v, want %v", f, out[0].Tensor.Data, w)
		}
	}
	if a := testing.AllocsPerRun(5, func() { _ = k.Run(in, out) }); a != 0 {
		t.Errorf("Run allocates %v times", a)
	}
	_, err := nodes.SafePrepare(kernel(t, "StreamFrameBuffer"), specsOf([]value.Value{value.New(value.LatentSpec(2, 1, 1, 2)), i64(3)}))
	if err == nil || !strings.Contains(err.Error(), "input latent") {
		t.Errorf("a batch of 2: %v", err)
	}
}

// batchRef is the pack's sample in plain Go, on the tiny UNet's maths:
// its state (stock noise, x_t_latent_buffer) kept across frames.
type batchRef struct {
	s      *sdSetup
	sigmas []float64
	cfg    float64
	noise  []float32
	stock  []float32
	xt     []float32
}

func newBatchRef(s *sdSetup, seed uint64, sigmas []float64, cfg float64, n int) *batchRef {
	g := torchrand.New(seed)
	r := &batchRef{s: s, sigmas: sigmas, cfg: cfg, noise: make([]float32, (len(sigmas)-1)*n), stock: make([]float32, n)}
	g.Randn(r.noise)
	g.Randn(r.stock)
	return r
}

func (r *batchRef) frame(t *testing.T, latent []float32) []float32 {
	ms, err := r.s.unet.modelSampling()
	if err != nil {
		t.Fatal(err)
	}
	b := len(r.sigmas) - 1
	n := len(latent) / b
	x := make([]float32, len(latent))
	s0 := float32(r.sigmas[0])
	for i, v := range latent {
		x[i] = v*0.18215 + r.noise[i]*s0 // not at σ_max: noise × σ₀
		x[i] += r.stock[i%n] * float32(r.sigmas[i/n])
	}
	if b > 1 {
		if r.xt == nil {
			r.xt = slices.Clone(x[:n])
		}
		copy(x, r.xt)
	}
	pos, neg := r.s.pos.Handle.(*SDConditioning).Entries[0].Cond, r.s.neg.Handle.(*SDConditioning).Entries[0].Cond
	den := make([]float32, len(x))
	for row := range b {
		sg := r.sigmas[row]
		xr := x[row*n : (row+1)*n]
		in := make([]float32, n)
		for i, v := range xr {
			in[i] = v * ms.InputScale(sg)
		}
		ts := []float64{float64(ms.Timestep(sg))}
		c := r.s.un.Reference(in, ts, pos, 1, 4, 5, 77)
		ms.CalculateDenoised(sg, c, xr, c)
		u := r.s.un.Reference(in, ts, neg, 1, 4, 5, 77)
		ms.CalculateDenoised(sg, u, xr, u)
		sampling.ApplyCFG(c, u, r.cfg, den[row*n:(row+1)*n])
	}
	if b > 1 {
		copy(r.xt, den[:n])
	}
	out := slices.Clone(den[(b-1)*n:])
	for i := range out {
		out[i] /= 0.18215
	}
	return out
}

// streamSamplerIn are SamplerCustom's inputs with StreamBatchSampler and
// StreamScheduler (t_index_list list at 50 steps).
func streamSamplerIn(t *testing.T, s *sdSetup, list string, lat value.Value) ([]value.Value, []float64) {
	smp := runPrepared(t, modelKernel(t, "StreamBatchSampler", s.p, s.dir), i64(3))[0]
	sg := runPrepared(t, modelKernel(t, "StreamScheduler", s.p, s.dir), value.OfHandle(s.unet), str(list), i64(50))[0]
	return []value.Value{value.OfHandle(s.unet), boolean(true), i64(977567268563782), f64(2.5), s.pos, s.neg, smp, sg, lat},
		sg.Handle.(*SDSigmas).Sigmas
}

// SamplerCustom with StreamBatchSampler equals the plain-Go loop of the
// pack's sample frame after frame (its state carried), and allocates
// nothing per frame; a warm-up run leaves the state as it was.
func TestStreamBatchSamplerValues(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := value.New(value.LatentSpec(3, 4, 4, 5))
	in, sigmas := streamSamplerIn(t, s, "0,16,32", lat)
	if len(sigmas) != 4 || !(sigmas[0] < sigmas[1] && sigmas[1] < sigmas[2]) {
		t.Fatalf("sigmas %v", sigmas)
	}
	k := modelKernel(t, "SamplerCustom", s.p, s.dir)
	out := prepare(t, k, in)
	if !slices.Equal(out[0].Tensor.Shape, []int{1, 4, 4, 5}) || !slices.Equal(out[1].Tensor.Shape, []int{1, 4, 4, 5}) {
		t.Fatalf("outputs %v %v, want [1 4 4 5]", out[0].Tensor.Shape, out[1].Tensor.Shape)
	}
	ref := newBatchRef(s, 977567268563782, sigmas, 2.5, 80)
	var prev []float32
	for f := range 4 {
		for i := range lat.Tensor.Data {
			lat.Tensor.Data[i] = float32(math.Sin(float64(i*(f+2))*0.3)) * 2
		}
		if f == 2 { // a warm-up between frames changes nothing
			k.(nodes.Clocked).SetFrameTime(nodes.FrameTime{Warmup: true})
			if err := nodes.SafeRun(k, in, out); err != nil {
				t.Fatal(err)
			}
			k.(nodes.Clocked).SetFrameTime(nodes.FrameTime{Index: int64(f)})
		}
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		want := ref.frame(t, lat.Tensor.Data)
		// The output item runs at σ_max (14.6): x − σ·ε cancels large
		// values and ÷0.18215 scales the float32 rounding up.
		closeTo(t, fmt.Sprintf("frame %d", f), out[0].Tensor.Data, want, 1e-4)
		closeTo(t, fmt.Sprintf("frame %d x_t_latent_buffer", f), k.(*kSampler).stream.st.xt, ref.xt, 2e-5)
		if !slices.Equal(out[0].Tensor.Data, out[1].Tensor.Data) {
			t.Errorf("frame %d: denoised_output differs from output", f)
		}
		if prev != nil && slices.Equal(prev, out[0].Tensor.Data) {
			t.Errorf("frame %d: the same output as the last frame", f)
		}
		prev = slices.Clone(out[0].Tensor.Data)
	}
	if a := testing.AllocsPerRun(3, func() { _ = k.Run(in, out) }); a != 0 {
		t.Errorf("Run allocates %v times per frame", a)
	}
}

// The state is the StreamBatchSampler handle's: a second SamplerCustom on
// the same handle goes on from it (as the pack's node instance, which
// ComfyUI keeps while the node stays), a new handle starts afresh. Per the
// pack's lines the buffer feeds item 0 only, whose result only refills
// it: the output (the last item) does not depend on it.
func TestStreamBatchSamplerState(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := value.New(value.LatentSpec(2, 4, 4, 5))
	for i := range lat.Tensor.Data {
		lat.Tensor.Data[i] = float32(i%7) / 7
	}
	in, _ := streamSamplerIn(t, s, "10,30", lat)
	run := func(k nodes.Kernel, out []value.Value) []float32 {
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(k.(*kSampler).stream.st.xt)
	}
	a := modelKernel(t, "SamplerCustom", s.p, s.dir)
	outA := prepare(t, a, in)
	first := run(a, outA)
	second := run(a, outA)
	if slices.Equal(first, second) {
		t.Fatal("the buffer did not change from frame to frame")
	}
	b := modelKernel(t, "SamplerCustom", s.p, s.dir)
	outB := prepare(t, b, in)
	if b.(*kSampler).stream.st != a.(*kSampler).stream.st {
		t.Fatal("two kernels on one handle hold different states")
	}
	if got := run(b, outB); slices.Equal(got, second) || slices.Equal(got, first) {
		t.Error("a kernel on the same handle did not go on from the state")
	}
	in[6] = runPrepared(t, modelKernel(t, "StreamBatchSampler", s.p, s.dir), i64(3))[0]
	c := modelKernel(t, "SamplerCustom", s.p, s.dir)
	if got := run(c, prepare(t, c, in)); !slices.Equal(got, first) {
		t.Error("a new StreamBatchSampler did not start afresh")
	}
}

// Errors name the input: the batch must match the timesteps, and a
// t_index_list with none in range gives no timestep.
func TestStreamBatchSamplerErrors(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	in, _ := streamSamplerIn(t, s, "0,16,32", value.New(value.LatentSpec(2, 4, 4, 5)))
	if _, err := nodes.SafePrepare(modelKernel(t, "SamplerCustom", s.p, s.dir), specsOf(in)); err == nil ||
		!strings.Contains(err.Error(), "input latent_image") || !strings.Contains(err.Error(), "buffer_size") {
		t.Errorf("batch 2 for 3 timesteps: %v", err)
	}
	in, _ = streamSamplerIn(t, s, "50,60", value.New(value.LatentSpec(1, 4, 4, 5)))
	if _, err := nodes.SafePrepare(modelKernel(t, "SamplerCustom", s.p, s.dir), specsOf(in)); err == nil || !strings.Contains(err.Error(), "input sigmas") {
		t.Errorf("no index in range: %v", err)
	}
}

// A per-frame cfg reaches the batched sampler: frame by frame the same as
// a kernel prepared with that constant, also on a kernel an earlier
// Prepare had set to skip sampling (BasicScheduler at denoise 0).
func TestStreamBatchSamplerPerFrameCFG(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	lat := value.New(value.LatentSpec(2, 4, 4, 5))
	for i := range lat.Tensor.Data {
		lat.Tensor.Data[i] = float32(i%5) / 5
	}
	in, _ := streamSamplerIn(t, s, "10,30", lat)
	k := modelKernel(t, "SamplerCustom", s.p, s.dir)
	skip := slices.Clone(in)
	skip[6] = runPrepared(t, modelKernel(t, "KSamplerSelect", s.p, s.dir), str("euler"))[0]
	skip[7] = runPrepared(t, modelKernel(t, "BasicScheduler", s.p, s.dir), value.OfHandle(s.unet), str("normal"), i64(2), f64(0))[0]
	prepareFrameScalars(t, k, skip, 3)
	if !k.(*kSampler).skip {
		t.Fatal("denoise 0 does not skip")
	}
	out := prepareFrameScalars(t, k, in, 3)
	for _, c := range []float64{2.5, 1, 4} {
		in[3] = f64(c)
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		ref := modelKernel(t, "SamplerCustom", s.p, s.dir)
		want := prepare(t, ref, in)
		if err := nodes.SafeRun(ref, in, want); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out[0].Tensor.Data, want[0].Tensor.Data) {
			t.Errorf("cfg %v per frame differs from the constant", c)
		}
	}
}

// TestBudgetScratch_StreamBatchSampler: SamplerCustom with a
// StreamBatchSampler SAMPLER declares at least what prepareStream
// allocates (the batch buffers, the states, a one-item denoiser whose
// tensors are Go memory), plus the runtime estimate, and not more; and
// what one more item adds to the declaration is what it adds to the
// allocation (the denoiser runs one item whatever the batch).
func TestBudgetScratch_StreamBatchSampler(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	type size struct{ b, declared, got int64 }
	var sizes []size
	for _, c := range []struct {
		list string
		b    int
	}{{"20", 1}, {"0,16,32", 3}, {"0,8,16,24,32,40", 6}} {
		in, _ := streamSamplerIn(t, s, c.list, value.New(value.LatentSpec(c.b, 4, 16, 16)))
		specs := specsOf(in)
		declared, err := modelKernel(t, "SamplerCustom", s.p, s.dir).(nodes.Scratcher).Scratch(specs)
		if err != nil {
			t.Fatal(err)
		}
		got := int64(-1)
		for range 3 { // the least of three: TotalAlloc noise only adds
			if n := allocated(t, modelKernel(t, "SamplerCustom", s.p, s.dir), specs); got < 0 || n < got {
				got = n
			}
		}
		t.Logf("B=%d: declared %d B, allocated %d B", c.b, declared, got)
		if declared+4<<10 < got || declared > (modelActivationFactor+1)*got+64<<10 {
			t.Errorf("B=%d: declared %d B, Prepare allocated %d B", c.b, declared, got)
		}
		sizes = append(sizes, size{int64(c.b), declared, got})
	}
	for _, z := range sizes[1:] {
		d, g := z.declared-sizes[0].declared, z.got-sizes[0].got
		if d+4<<10 < g || d > 2*g+4<<10 {
			t.Errorf("B=%d over B=1: declared %d B more, Prepare allocated %d B more", z.b, d, g)
		}
	}
}

// The handle's state is kept per latent item shape, as the pack compares
// stock_noise.shape: another shape of as many values starts afresh.
func TestStreamBatchStateShape(t *testing.T) {
	h := &SDStreamSampler{NumSteps: 2}
	a := h.state([3]int{4, 4, 5}, 1)
	if h.state([3]int{4, 4, 5}, 1) != a {
		t.Error("the same shape made a new state")
	}
	if b := h.state([3]int{4, 5, 4}, 1); b == a || len(b.stock) != 80 {
		t.Error("a transposed shape kept the state")
	}
}

// StreamFrameBuffer's Scratch reads buffer_size as Prepare does (an INT or
// a FLOAT) and declares nothing for a size Prepare refuses.
func TestStreamFrameBufferScratch(t *testing.T) {
	lat := value.LatentSpec(1, 4, 8, 8)
	for _, c := range []struct {
		size value.Value
		want int64
	}{{i64(3), 3 * 256 * 4}, {f64(3), 3 * 256 * 4}, {f64(4.7), 4 * 256 * 4}, {i64(0), 0}, {i64(11), 0}} {
		k := kernel(t, "StreamFrameBuffer").(nodes.Scratcher)
		got, err := k.Scratch([]value.Spec{lat, value.ConstSpec(c.size)})
		if err != nil || got != c.want {
			t.Errorf("buffer_size %v: %d, %v; want %d", c.size, got, err, c.want)
		}
	}
}
