package compiler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/nodes"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// ErrClosed is returned by a plan's Run methods after Close.
var ErrClosed = errors.New("plan closed")

// StepError is a kernel error (or recovered panic) of one step at run time.
type StepError struct {
	NodeID, Class string
	Err           error
}

func (e *StepError) Error() string {
	return "node " + e.NodeID + " (" + e.Class + "): " + e.Err.Error()
}

// Unwrap returns the kernel's error.
func (e *StepError) Unwrap() error { return e.Err }

// Output is one frame output of a plan.
type Output struct {
	NodeID, Class, Title string
	// Value is the buffer the output reads (IMAGE [B,H,W,3]). It is the
	// plan's own storage: read it, do not keep or modify it across runs.
	Value value.Value
}

// StepInfo describes one step of a plan (a copy).
type StepInfo struct {
	NodeID, Class, Title string
	Static               bool
	FrameInput           bool
	In, Out              []value.Spec
}

// kref owns a kernel; plans hand kernels over to the plans built from
// them (Rebuild), and only the owner closes it.
type kref struct {
	k     nodes.Kernel
	mu    sync.Mutex
	owner *Plan
}

// link feeds input slot of a step from output out of step from.
type link struct {
	slot int
	from *step
	out  int
}

type step struct {
	node     *Node
	kernel   *kref
	static   bool
	frameIn  bool
	frameOut bool
	adopted  bool
	sig      string
	reason   string
	inSpecs  []value.Spec
	outSpecs []value.Spec
	in, out  []value.Value
	links    []link
	outBuf   []int // per-frame buffer per tensor output, -1 otherwise
	done     *atomic.Bool
	// shared is the Config.Static entry holding out, referenced by this
	// plan: out is then read only, and kernel is nil when another plan
	// ran the step. Set by RunStatic when it publishes (Rebuild may read
	// it meanwhile).
	shared atomic.Pointer[staticEntry]
	cached bool // its results come from a StaticCache; no kernel
	// timeOnly: per-frame because of a time-varying class, not the frame.
	timeOnly bool
	stateful bool          // its class is nodes.Traits Stateful
	clock    nodes.Clocked // its kernel reads the frame's time

	// audioIn and audioOut are the audio roles; audio marks the steps
	// that run per audio chunk (compiler/audio.go).
	audioIn, audioOut, audio bool
}

// Plan is a compiled workflow. Its structure (steps, order, buffers,
// kernels) never changes; see the package documentation for running it.
type Plan struct {
	prompt    *graph.Prompt
	cfg       Config
	typed     *Typed
	warnings  diag.List
	steps     []*step // static steps, then per-frame steps, in run order
	nStatic   int
	frameRun  []*step // per-frame steps that run (frame outputs excluded)
	staticRun []*step
	outs      []*step // frame-output steps, node id order
	outSrc    []link  // the value each frame output reads
	hasFrame  bool
	frameSpec value.Spec
	frameVal  value.Value
	frameBuf  value.Tensor // FrameBuffer's, once asked for
	slots     [][]float32
	slotCap   []int
	closed    atomic.Bool
	audioRun  []*step // audio steps (audio.go), audioIn first
	audioIn   *step
	audioOut  *step
	audioSpec value.Spec
	mu        sync.Mutex // guards kernel ownership during Rebuild and Close
	bytes     int64      // MemoryBytes
	measure   bool       // Measure: build sizes the plan, then discards its kernels

	rt planTime // frame times, text outputs, pass-throughs (time.go)
}

// Compile checks p and builds its plan. The error, when not nil, is a
// diag.List with every problem (errors.As finds it).
func Compile(p *graph.Prompt, cfg Config) (*Plan, error) {
	return Rebuild(p, cfg, nil)
}

// Rebuild compiles p like Compile and adopts from prev (which may be nil)
// every static step whose class, literal inputs and upstream static steps
// are unchanged: the new plan reuses its kernel and results, so it does not
// run again. Adopted kernels belong to the new plan from then on (prev's
// Close leaves them open); prev keeps working for frames meanwhile.
func Rebuild(p *graph.Prompt, cfg Config, prev *Plan) (*Plan, error) {
	if cfg.Registry == nil {
		return nil, diag.List{{Code: diag.PrepareFailed, Message: "compiler: Config.Registry is nil"}}
	}
	t, diags := Check(p, cfg)
	if diags.HasErrors() {
		return nil, diags
	}
	pl := &Plan{prompt: copyPrompt(p), cfg: cfg, typed: t, warnings: diags}
	if err := pl.build(prev); err != nil {
		return nil, err
	}
	return pl, nil
}

func (r *kref) ownedBy(p *Plan) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owner == p
}

func (pl *Plan) prepareDiag(n *Node, input, msg string) *diag.Diagnostic {
	return &diag.Diagnostic{Code: diag.PrepareFailed, NodeID: n.ID, ClassType: n.Class, NodeTitle: n.Title, Input: input,
		Pointer: n.Pointer, Message: "Kernel rejected its inputs", Details: pl.scrubFolders(msg, pl.clientStrings(n)...)}
}

// EngineUnavailable is the Message of the prepare_failed diagnostic of a
// model node whose inference engine cannot be loaded (engine.ErrUnavailable).
const EngineUnavailable = "Inference engine unavailable"

// prepareErrDiag is the diagnostic of a kernel's factory or Prepare error:
// a nodes.FileError keeps its own code, message and input; an unavailable
// inference engine says so (engineDetails).
func (pl *Plan) prepareErrDiag(n *Node, err error) *diag.Diagnostic {
	if errors.Is(err, engine.ErrUnavailable) {
		d := pl.prepareDiag(n, "", pl.engineDetails(err))
		d.Message = EngineUnavailable
		return d
	}
	d := pl.prepareDiag(n, "", err.Error())
	var fe *nodes.FileError
	if errors.As(err, &fe) && fe.Code != "" {
		d.Code, d.Message, d.Input = fe.Code, fe.Summary, fe.Input
	}
	return d
}

// engineDetails says why the inference engine (ONNX Runtime) cannot be
// loaded. A local workflow gets the engine's own text: the library's path
// and how to get it. A confined (network) one gets a fixed sentence: the
// text names the server's files (where the library was looked for), and
// a client can do nothing about them.
func (pl *Plan) engineDetails(err error) string {
	if pl.cfg.Confined {
		if errors.Is(err, engine.ErrNoLibrary) {
			return "the ONNX Runtime library was not found on the server"
		}
		return "ONNX Runtime cannot be loaded on the server"
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, engine.ErrUnavailable.Error()+": "); ok {
		msg = rest
	}
	return "ONNX Runtime cannot be loaded: " + msg
}

// clientStrings are the string literals the workflow gave node n, quoted
// as kernels quote names in their messages (%q).
func (pl *Plan) clientStrings(n *Node) []string {
	if pl.typed == nil {
		return nil
	}
	var out []string
	for _, v := range pl.typed.widgetVals[n.ID] {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, strconv.Quote(s))
		}
	}
	return out
}

// scrubFolders keeps the server's folders out of the messages of a
// confined (network) workflow: a kernel's or an engine's text naming a
// path in the input or models folder names it relative to that folder.
// Text the client sent, as kept (each a quoted name such as "/x/in/a.png"),
// is left as it is, so that a name is echoed as the client wrote it: only
// paths the server added are rewritten.
func (pl *Plan) scrubFolders(msg string, keep ...string) string {
	if !pl.cfg.Confined {
		return msg
	}
	type span struct{ from, to int }
	var kept []span
	for _, k := range keep {
		for i := 0; k != "" && i <= len(msg)-len(k); {
			j := strings.Index(msg[i:], k)
			if j < 0 {
				break
			}
			kept = append(kept, span{i + j, i + j + len(k)})
			i += j + len(k)
		}
	}
	slices.SortFunc(kept, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	at := 0
	for _, k := range kept {
		if k.from < at { // overlaps the previous one
			if k.to > at {
				b.WriteString(msg[at:k.to])
				at = k.to
			}
			continue
		}
		b.WriteString(pl.scrubText(msg[at:k.from]))
		b.WriteString(msg[k.from:k.to])
		at = k.to
	}
	b.WriteString(pl.scrubText(msg[at:]))
	return b.String()
}

// scrubText rewrites the input and models folders in msg as "input" and
// "models".
func (pl *Plan) scrubText(msg string) string {
	for _, f := range []struct{ dir, as string }{{pl.cfg.InputDir, "input/"}, {pl.cfg.ModelDir, "models/"}} {
		if f.dir == "" {
			continue
		}
		dirs := []string{filepath.Clean(f.dir)}
		if abs, err := filepath.Abs(f.dir); err == nil && abs != dirs[0] {
			dirs = append(dirs, abs)
		}
		if real, err := filepath.EvalSymlinks(f.dir); err == nil && !slices.Contains(dirs, real) {
			dirs = append(dirs, real)
		}
		for _, d := range dirs {
			if d == "." || d == string(filepath.Separator) {
				continue
			}
			msg = strings.ReplaceAll(msg, d+string(filepath.Separator), f.as)
			msg = strings.ReplaceAll(msg, d, strings.TrimSuffix(f.as, "/"))
		}
	}
	return msg
}

// assignBuffers gives static tensor outputs their own storage and
// per-frame tensor outputs slots of a shared pool, reused when lifetimes
// do not overlap. A buffer read by a frame output lives to the end of the
// frame; an output nobody reads is freed right after its step.
func (pl *Plan) assignBuffers() {
	var run []*step // per-frame steps in run order
	for _, s := range pl.steps[pl.nStatic:] {
		if s.audio { // own buffers (audio.go)
			s.outBuf = slices.Repeat([]int{-1}, len(s.outSpecs))
			continue
		}
		run = append(run, s)
	}
	lastUse, keep := pl.liveness(run)
	var free []int
	for i, s := range run {
		s.outBuf = make([]int, len(s.outSpecs))
		var dead []int
		for j, sp := range s.outSpecs {
			s.outBuf[j] = -1
			if !sp.Kind.IsTensor() {
				continue
			}
			b := pl.takeSlot(&free, sp.Elems())
			s.outBuf[j] = b
			k := bufKey{s, j}
			if _, used := lastUse[k]; !used && !keep[k] {
				dead = append(dead, b)
			}
		}
		// Free the inputs whose last reader is this step.
		for _, l := range s.links {
			k := bufKey{l.from, l.out}
			if l.from.static || keep[k] || lastUse[k] != i || l.from.outBuf[l.out] < 0 {
				continue
			}
			if b := l.from.outBuf[l.out]; !slices.Contains(free, b) {
				free = append(free, b)
			}
		}
		free = append(free, dead...)
	}
	pl.allocOutputs()
}

// bufKey is one output of a step.
type bufKey struct {
	s   *step
	out int
}

// liveness returns, for each output the per-frame steps run reads, the
// index in run of its last reader, and the outputs that must keep their
// buffer to the frame's end (what frame outputs read).
func (pl *Plan) liveness(run []*step) (lastUse map[bufKey]int, keep map[bufKey]bool) {
	lastUse, keep = map[bufKey]int{}, map[bufKey]bool{}
	for i, s := range run {
		for _, l := range s.links {
			k := bufKey{l.from, l.out}
			if s.frameOut {
				keep[k] = true
			}
			if cur, ok := lastUse[k]; !ok || i > cur {
				lastUse[k] = i
			}
		}
	}
	for _, o := range pl.outSrc {
		if o.from != nil {
			keep[bufKey{o.from, o.out}] = true
		}
	}
	return lastUse, keep
}

// takeSlot takes a buffer slot for n elements: the smallest free slot
// that holds n, else the largest free slot (grown), else a new one.
func (pl *Plan) takeSlot(free *[]int, n int) int {
	best := -1
	for fi, b := range *free {
		if pl.slotCap[b] >= n && (best < 0 || pl.slotCap[b] < pl.slotCap[(*free)[best]]) {
			best = fi
		}
	}
	if best < 0 {
		for fi, b := range *free {
			if best < 0 || pl.slotCap[b] > pl.slotCap[(*free)[best]] {
				best = fi
			}
		}
	}
	if best < 0 {
		pl.slotCap = append(pl.slotCap, n)
		return len(pl.slotCap) - 1
	}
	b := (*free)[best]
	*free = slices.Delete(*free, best, best+1)
	pl.slotCap[b] = max(pl.slotCap[b], n)
	return b
}

// allocOutputs allocates the slots and gives every step its output
// values: per-frame tensors in their slots, the rest their own.
func (pl *Plan) allocOutputs() {
	pl.slots = make([][]float32, len(pl.slotCap))
	for b, c := range pl.slotCap {
		pl.slots[b] = make([]float32, c)
	}
	for _, s := range pl.steps {
		if (s.adopted && s.static) || s.cached {
			continue // the results come with the step
		}
		s.out = make([]value.Value, len(s.outSpecs))
		for j, sp := range s.outSpecs {
			if !s.static && s.outBuf[j] >= 0 {
				n := sp.Elems()
				s.out[j] = value.OfTensor(sp.Kind, value.Tensor{Shape: slices.Clone(sp.Shape), Data: pl.slots[s.outBuf[j]][:n:n]})
			} else {
				s.out[j] = value.New(sp)
			}
		}
	}
}

// topoOrder returns the nodes in a topological order, ties broken by node
// id (Kahn's algorithm with the smallest ready id first).
func topoOrder(t *Typed) []*Node {
	indeg := map[string]int{}
	users := map[string][]string{}
	for _, n := range t.nodes {
		seen := map[string]bool{}
		for _, in := range n.inputs {
			if in.Linked && t.byID[in.From] != nil && !seen[in.From] {
				seen[in.From] = true
				indeg[n.ID]++
				users[in.From] = append(users[in.From], n.ID)
			}
		}
	}
	var ready []string
	for _, n := range t.nodes {
		if indeg[n.ID] == 0 {
			ready = append(ready, n.ID)
		}
	}
	var out []*Node
	for len(ready) > 0 {
		slices.SortFunc(ready, compareIDs)
		id := ready[0]
		ready = ready[1:]
		out = append(out, t.byID[id])
		for _, u := range users[id] {
			if indeg[u]--; indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return out // validation rejected cycles
}

// signature is the cache key of a node, as ComfyUI's input signature: the
// class, the literal inputs and the signatures of the linked producers.
func signature(n *Node, memo map[string]string, inputDir string) string {
	if s, ok := memo[n.ID]; ok {
		return s
	}
	var b strings.Builder
	b.WriteString(n.Class)
	b.WriteString("\x00")
	b.WriteString(inputDir)
	for _, in := range n.inputs {
		b.WriteString("\x00")
		b.WriteString(in.Name)
		switch {
		case in.Linked:
			b.WriteString("<-")
			b.WriteString(memo[in.From])
			b.WriteString(":")
			b.WriteString(strconv.Itoa(in.Slot))
		case in.Literal != nil:
			fmt.Fprintf(&b, "=%T:%v", in.Literal, in.Literal)
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	s := hex.EncodeToString(sum[:16])
	memo[n.ID] = s
	return s
}

func specsEqual(a, b []value.Spec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].SameShape(b[i]) || (a[i].Const == nil) != (b[i].Const == nil) {
			return false
		}
		if a[i].Const != nil && a[i].Const.String() != b[i].Const.String() {
			return false
		}
	}
	return true
}

func cloneSpecs(in []value.Spec) []value.Spec {
	out := make([]value.Spec, len(in))
	for i, s := range in {
		out[i] = value.Spec{Kind: s.Kind, Shape: slices.Clone(s.Shape), Rate: s.Rate}
		if s.Const != nil {
			c := *s.Const
			out[i].Const = &c
		}
	}
	return out
}

func cloneWidgets(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func closeKernel(k nodes.Kernel) error {
	if c, ok := k.(nodes.Closer); ok {
		return c.Close()
	}
	return nil
}

// HasFrameInput reports whether the plan reads the stream's frame.
func (pl *Plan) HasFrameInput() bool { return pl.hasFrame }

// FrameSpec is the frame the plan was prepared for (IMAGE [1,H,W,3]), or
// the zero Spec when it has no frame input.
func (pl *Plan) FrameSpec() value.Spec {
	if !pl.hasFrame {
		return value.Spec{}
	}
	return cloneSpecs([]value.Spec{pl.frameSpec})[0]
}

// Warnings returns the warnings found while checking the workflow.
func (pl *Plan) Warnings() diag.List { return slices.Clone(pl.warnings) }

// Typed returns the typed graph the plan was built from.
func (pl *Plan) Typed() *Typed { return pl.typed }

// Steps describes the steps in run order (static first); frame-output
// steps, which do not run, come last among the per-frame ones in order.
func (pl *Plan) Steps() []StepInfo {
	out := make([]StepInfo, len(pl.steps))
	for i, s := range pl.steps {
		out[i] = StepInfo{NodeID: s.node.ID, Class: s.node.Class, Title: s.node.Title, Static: s.static, FrameInput: s.frameIn,
			In: cloneSpecs(s.inSpecs), Out: cloneSpecs(s.outSpecs)}
	}
	return out
}

// RunStatic runs the static steps whose results are not there yet (all of
// them the first time, none after; adopted steps keep their results). A
// failed step is retried on the next call.
func (pl *Plan) RunStatic() error {
	if pl.closed.Load() {
		return ErrClosed
	}
	for _, s := range pl.staticRun {
		if s.done.Load() {
			continue
		}
		for _, l := range s.links {
			s.in[l.slot] = l.from.out[l.out]
		}
		if err := nodes.SafeRun(s.kernel.k, s.in, s.out); err != nil {
			return &StepError{NodeID: s.node.ID, Class: s.node.Class, Err: err}
		}
		s.done.Store(true)
		if c := pl.cfg.Static; c != nil && s.shared.Load() == nil && !s.frameIn && shareable(s.outSpecs) {
			pl.publish(c, s)
		}
	}
	return nil
}

// publish offers s's results to c, under the lock Close takes, so that a
// plan closed meanwhile publishes nothing (its reference would never be
// released).
func (pl *Plan) publish(c *StaticCache, s *step) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.closed.Load() {
		return
	}
	if e := c.publish(pl.staticKey(s), s.outSpecs, s.out); e != nil {
		s.shared.Store(e)
	}
}

// useShared makes s take its results from e (a reference already taken).
func (pl *Plan) useShared(s *step, e *staticEntry) {
	s.kernel, s.cached = nil, true
	s.shared.Store(e)
	s.outSpecs, s.out = e.outSpecs, e.out
	s.in = make([]value.Value, len(s.inSpecs))
	s.done = new(atomic.Bool)
	s.done.Store(true)
}

func (pl *Plan) staticDone() bool {
	for _, s := range pl.staticRun {
		if !s.done.Load() {
			return false
		}
	}
	return true
}

// RunFrame runs the per-frame steps on frame (IMAGE [1,H,W,3] of the
// plan's FrameSpec; ignored when the plan has no frame input), after
// RunStatic when the static results are not there yet. The frame is read,
// never kept or written. In steady state it does not allocate.
func (pl *Plan) RunFrame(frame value.Tensor) error {
	if pl.closed.Load() {
		return ErrClosed
	}
	if !pl.staticDone() {
		if err := pl.RunStatic(); err != nil {
			return err
		}
	}
	if pl.hasFrame {
		if !value.EqualShapes(frame.Shape, pl.frameSpec.Shape) || len(frame.Data) != pl.frameSpec.Elems() {
			return fmt.Errorf("frame %s does not match the plan's %s: Resize the plan", value.ShapeString(frame.Shape), value.ShapeString(pl.frameSpec.Shape))
		}
		pl.frameVal = value.Value{Kind: value.Image, Tensor: frame}
	}
	ft := pl.takeFrameTime()
	for _, s := range pl.frameRun {
		if s.stateful && ft.Warmup {
			continue
		}
		if s.clock != nil {
			s.clock.SetFrameTime(ft)
		}
		if s.frameIn {
			s.in[0] = pl.frameVal
		} else {
			for _, l := range s.links {
				s.in[l.slot] = l.from.out[l.out]
			}
		}
		if err := nodes.SafeRun(s.kernel.k, s.in, s.out); err != nil {
			return &StepError{NodeID: s.node.ID, Class: s.node.Class, Err: err}
		}
	}
	pl.frameVal = value.Value{}
	if pl.hasFrame {
		for _, s := range pl.frameRun {
			if s.frameIn {
				s.in[0] = value.Value{}
			}
		}
	}
	return nil
}

// FrameBuffer returns the plan's own frame tensor (IMAGE [1,H,W,3] of
// FrameSpec), for callers that produce frames in place: write a whole
// frame into it, then call RunFrameInPlace. When the plan has a single
// frame-input step the buffer is that step's frame output (the frame, per
// nodes.FrameInput), so the frame is not first built in a tensor of the
// caller's and then copied in; otherwise it is a tensor the plan keeps for
// the purpose. Its contents are undefined after a run (later steps may
// reuse the memory). It stays the same for the plan's life; a plan from
// Resize or Update has its own. It is the zero Tensor when the plan has no
// frame input.
func (pl *Plan) FrameBuffer() value.Tensor {
	if !pl.hasFrame {
		return value.Tensor{}
	}
	if pl.frameBuf.Data == nil {
		pl.frameBuf = pl.frameInputBuffer()
	}
	return pl.frameBuf
}

// frameInputBuffer is the output frame of the only frame-input step when
// there is one and its first output is the frame's size, else a new tensor.
func (pl *Plan) frameInputBuffer() value.Tensor {
	var fin *step
	for _, s := range pl.frameRun {
		if s.frameIn {
			if fin != nil {
				fin = nil // several: a step between them may reuse the first's buffer
				break
			}
			fin = s
		}
	}
	n := pl.frameSpec.Elems()
	if fin != nil && len(fin.out) > 0 && fin.outBuf[0] >= 0 {
		if t := fin.out[0].Tensor; fin.out[0].Kind == value.Image && value.EqualShapes(t.Shape, pl.frameSpec.Shape) && len(t.Data) == n {
			return t
		}
	}
	return value.NewTensor(pl.frameSpec.Shape...)
}

// RunFrameInPlace is RunFrame on FrameBuffer(): it runs the per-frame steps
// on the frame the caller wrote there. It does not allocate in steady
// state.
func (pl *Plan) RunFrameInPlace() error {
	return pl.RunFrame(pl.FrameBuffer())
}

// NumOutputs is the number of frame outputs.
func (pl *Plan) NumOutputs() int { return len(pl.outs) }

// Output returns the value of frame output i (node id order) without
// allocating; see Output.Value for the rules.
func (pl *Plan) Output(i int) value.Value {
	l := pl.outSrc[i]
	if l.from == nil {
		return value.Value{}
	}
	return l.from.out[l.out]
}

// Outputs returns every frame output, in node id order.
func (pl *Plan) Outputs() []Output {
	out := make([]Output, len(pl.outs))
	for i, s := range pl.outs {
		out[i] = Output{NodeID: s.node.ID, Class: s.node.Class, Title: s.node.Title, Value: pl.Output(i)}
	}
	return out
}

// Resize returns a plan prepared for frames of w×h, adopting the static
// steps of pl (static steps do not depend on the frame).
func (pl *Plan) Resize(w, h int) (*Plan, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("resize to %d×%d: sizes must be positive", w, h)
	}
	cfg := pl.cfg
	cfg.Width, cfg.Height = w, h
	return Rebuild(pl.prompt, cfg, pl)
}

// Update returns a plan in which the literal input of a node is v (int,
// int64, float64, string or bool), adopting the static steps of pl that do
// not depend on it. pl is unchanged.
func (pl *Plan) Update(nodeID, input string, v any) (*Plan, error) {
	p := copyPrompt(pl.prompt)
	n := p.Node(nodeID)
	if n == nil {
		return nil, fmt.Errorf("update: no node %s", nodeID)
	}
	var j any
	switch x := v.(type) {
	case int:
		j = json.Number(strconv.Itoa(x))
	case int64:
		j = json.Number(strconv.FormatInt(x, 10))
	case float64:
		j = json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case string, bool:
		j = x
	default:
		return nil, fmt.Errorf("update %s.%s: unsupported value %T", nodeID, input, v)
	}
	n.SetInput(input, j)
	return Rebuild(p, pl.cfg, pl)
}

// Close closes the kernels the plan owns (those handed to a newer plan
// stay open). Run methods fail with ErrClosed afterwards.
func (pl *Plan) Close() error {
	if pl.closed.Swap(true) {
		return nil
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var errs []error
	for _, s := range pl.steps {
		if s.kernel != nil && s.kernel.ownedBy(pl) {
			if err := closeKernel(s.kernel.k); err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", s.node, err))
			}
		}
		if e := s.shared.Load(); e != nil {
			e.release()
		}
	}
	return errors.Join(errs...)
}
