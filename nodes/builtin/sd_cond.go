package builtin

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"comfyrt/nodes"
	"comfyrt/nodes/diffusion/clip"
	"comfyrt/nodes/engine"
	"comfyrt/nodes/value"
)

// The prompt nodes, as ComfyUI's nodes.py CLIPTextEncode,
// ConditioningConcat, ConditioningCombine and ConditioningZeroOut.
//
// A CONDITIONING is a handle (*SDConditioning): a list of entries, each a
// [1, tokens, D] text embedding and its pooled output, as ComfyUI's list
// of [cond, {"pooled_output": …}]. Each node makes its handle, with its
// buffers sized, in Prepare (so the sampler binds its UNet for the right
// shapes when the plan is built) and fills the buffers in Run: with a
// constant text the steps are static and run once, at warm-up.
//
//   - CLIPTextEncode: the prompt is tokenized with ComfyUI's weighting and
//     77-token chunking (nodes/diffusion/clip) in Prepare, refused over
//     MaxPromptChunks chunks before anything is allocated; Run runs the
//     text encoder on the rows (the chunks, plus the empty prompt when a
//     weight differs from 1) and weighs them (clip.Conditioning). A text
//     computed per frame (e.g. a ComfyUI_RealTimeNodes StringControl) is
//     one 77-token chunk, tokenized and encoded in Run only when it
//     differs from the last frame's (else the conditioning is kept:
//     nothing runs, nothing is allocated). CLIPSetLastLayer −n (n > 1)
//     needs an export with hidden-state outputs (see pickLayer): layer
//     −n's output with the final layer norm (clip.FinalLayerNorm), as
//     ComfyUI's SD1.x clip skip.
//   - ConditioningConcat: each entry of conditioning_to with the first
//     entry of conditioning_from appended along the tokens; the entry keeps
//     conditioning_to's control (ComfyUI copies its dict: a control of
//     conditioning_from is dropped).
//   - ConditioningCombine: the two lists, one after the other (the sampler
//     averages the entries' predictions, as ComfyUI without areas).
//   - ConditioningZeroOut: the same shapes, zeros (controls kept).

// MaxPromptChunks bounds a prompt's 77-token chunks (ComfyUI has no
// limit; 32 chunks are 2,400 tokens).
const MaxPromptChunks = 32

// SDConditioning is the CONDITIONING handle.
type SDConditioning struct {
	Entries []*SDCondEntry
}

// SDCondEntry is one conditioning: [1, Tokens, Dim] and the pooled output.
type SDCondEntry struct {
	Tokens, Dim int
	Cond        []float32 // Tokens·Dim values, filled by the producing step's Run
	Pooled      []float32 // the pooled output (nil when the encoder has none)
	// Gen counts the producing step's Runs, so that a consumer that
	// copied Cond knows when to copy again.
	Gen uint64
	// Control is the ControlNet ControlNetApplyAdvanced attached (nil:
	// none).
	Control *SDControl
}

func newCondEntry(tokens, dim, pooled int) *SDCondEntry {
	e := &SDCondEntry{Tokens: tokens, Dim: dim, Cond: make([]float32, tokens*dim)}
	if pooled > 0 {
		e.Pooled = make([]float32, pooled)
	}
	return e
}

// condHandle reads the CONDITIONING handle of slot i.
func condHandle(a *args, i int) *SDConditioning {
	s := a.spec(i)
	if s.Kind != value.Handle || s.Const == nil {
		a.errorf(i, "want a CONDITIONING (from CLIPTextEncode or a Conditioning node)")
		return nil
	}
	c, _ := s.Const.Handle.(*SDConditioning)
	if c == nil || len(c.Entries) == 0 {
		a.errorf(i, "want a CONDITIONING from CLIPTextEncode or a Conditioning node, got %T", s.Const.Handle)
		return nil
	}
	return c
}

// clipHandle reads the CLIP handle of slot i.
func clipHandle(a *args, i int) *SDCLIP {
	s := a.spec(i)
	if s.Kind != value.Handle || s.Const == nil {
		a.errorf(i, "want a CLIP known when the plan is built (from CheckpointLoaderSimple or CLIPLoader)")
		return nil
	}
	c, _ := s.Const.Handle.(*SDCLIP)
	if c == nil {
		a.errorf(i, "want a CLIP from CheckpointLoaderSimple or CLIPLoader, got %T", s.Const.Handle)
	}
	return c
}

func condSpec(c *SDConditioning) []value.Spec { return handleSpecs(c) }

type clipTextEncode struct {
	base
	sess     engine.Session
	sessPath string
	in, out  []engine.Tensor
	hi, pi   int // outputs: last_hidden_state, pooler_output (−1: none)
	li, ti   int // CLIPSetLastLayer: the hidden_states output used and the last layer's (−1: last_hidden_state)
	mb       int // rows per run
	rows     []clip.Chunk
	chunks   []clip.Chunk
	dim, pd  int
	hidden   []float32 // all rows' hidden states
	pooled   []float32
	lnWB     []float64 // clip.FinalLayerNorm's scratch
	cond     *SDConditioning
	// A text computed per frame: the tokenizer, and the text last
	// encoded (its conditioning is kept until the text changes).
	perFrame bool
	tok      *clip.Tokenizer
	tokOpts  clip.Options
	text     string
	has      bool
	runs     int // encoder runs so far (for tests)
}

func newCLIPTextEncode(cfg nodes.Config) (nodes.Kernel, error) {
	return &clipTextEncode{base: base{cfg}}, nil
}

// loadTokenizer reads the CLIP handle's vocab.json and merges.txt.
func loadTokenizer(c *SDCLIP) (*clip.Tokenizer, error) {
	v, err := os.Open(c.Vocab)
	if err != nil {
		return nil, fmt.Errorf("clip %q tokenizer: %w", c.Name, err)
	}
	defer v.Close()
	m, err := os.Open(c.Merges)
	if err != nil {
		return nil, fmt.Errorf("clip %q tokenizer: %w", c.Name, err)
	}
	defer m.Close()
	t, err := clip.New(v, m)
	if err != nil {
		return nil, fmt.Errorf("clip %q tokenizer: %w", c.Name, err)
	}
	return t, nil
}

// clipArgs checks the inputs: the CLIP handle, and the text when it is
// known when the plan is built (perFrame when it comes per frame).
func clipArgs(in []value.Spec) (c *SDCLIP, text string, perFrame bool, err error) {
	a := newArgs(in, "text", "clip")
	if s := a.spec(0); s.Kind == value.String && s.Const == nil {
		perFrame = true
	} else {
		text = a.str(0)
	}
	c = clipHandle(a, 1)
	return c, text, perFrame, a.Err()
}

// tokenize returns the prompt's chunks and encoder rows.
func tokenize(tok *clip.Tokenizer, text string, o clip.Options) (chunks, rows []clip.Chunk, err error) {
	if chunks, err = tok.TokenizeWithWeights(text, o); err != nil {
		return nil, nil, fmt.Errorf("input text: %w", err)
	}
	if len(chunks) > MaxPromptChunks {
		return nil, nil, fmt.Errorf("input text: the prompt makes %d chunks of 77 tokens; at most %d (%d tokens) are encoded", len(chunks), MaxPromptChunks, MaxPromptChunks*75)
	}
	if rows, err = tok.EncoderRows(chunks, o); err != nil {
		return nil, nil, fmt.Errorf("input text: %w", err)
	}
	return chunks, rows, nil
}

// Prepare tokenizes a constant prompt and sizes the conditioning for it;
// a prompt computed per frame gets one 77-token chunk (its rows: the chunk
// and, when weighted, the empty prompt), encoded in Run.
func (k *clipTextEncode) Prepare(in []value.Spec) ([]value.Spec, error) {
	c, text, perFrame, err := clipArgs(in)
	if err != nil {
		return nil, err
	}
	tok, err := loadTokenizer(c)
	if err != nil {
		return nil, fmt.Errorf("input clip: %w", err)
	}
	nrows, nchunks := 2, 1
	var chunks, rows []clip.Chunk
	if !perFrame {
		if chunks, rows, err = tokenize(tok, text, c.tokenOptions()); err != nil {
			return nil, err
		}
		nrows, nchunks = len(rows), len(chunks)
	}
	if err := k.open(c, len(rows)+boolInt(perFrame)); err != nil {
		return nil, fmt.Errorf("clip %q text encoder: %w", c.Name, err)
	}
	if err := k.pickLayer(c); err != nil {
		k.closeSession()
		return nil, err
	}
	k.chunks, k.rows, k.perFrame, k.tok, k.tokOpts, k.has = chunks, rows, perFrame, tok, c.tokenOptions(), false
	k.hidden = make([]float32, nrows*77*k.dim)
	if k.pi >= 0 {
		k.pooled = make([]float32, nrows*k.pd)
	} else {
		k.pd, k.pooled = 0, nil
	}
	if k.li >= 0 {
		k.lnWB = make([]float64, clip.FinalLayerNormScratch(77, k.dim))
	}
	e := newCondEntry(nchunks*77, k.dim, k.pd)
	k.cond = &SDConditioning{Entries: []*SDCondEntry{e}}
	return condSpec(k.cond), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// open opens the text encoder for n rows (one row per run when its batch
// is fixed at 1).
func (k *clipTextEncode) open(c *SDCLIP, n int) error {
	if k.cfg.Engines == nil {
		return errNoEngine
	}
	mb, err := partBatch(c.IO, n)
	if err != nil {
		return err
	}
	shape := []int{mb, 77}
	if k.sess != nil && k.sessPath == c.Path && value.EqualShapes(k.sess.Inputs()[0].Shape, shape) {
		return nil
	}
	k.closeSession()
	opts := c.Opts
	opts.Shapes = map[string][]int{c.IO.Inputs[0].Name: shape}
	sess, err := k.cfg.Engines.Open(c.Path, opts)
	if err != nil {
		return err
	}
	k.sess, k.sessPath, k.mb, k.hi, k.pi = sess, c.Path, mb, -1, -1
	for i, o := range sess.Outputs() {
		switch o.Name {
		case "last_hidden_state":
			k.hi = i
		case "pooler_output":
			k.pi = i
		}
	}
	outs := sess.Outputs()
	if k.hi < 0 || len(outs[k.hi].Shape) != 3 || outs[k.hi].Shape[0] != mb || outs[k.hi].Shape[1] != 77 {
		k.closeSession()
		return fmt.Errorf("want output last_hidden_state [%d,77,D], the model gives %v", mb, outs)
	}
	k.dim = outs[k.hi].Shape[2]
	if k.pi >= 0 {
		if p := outs[k.pi].Shape; len(p) != 2 || p[0] != mb {
			k.pi = -1
		} else {
			k.pd = p[1]
		}
	}
	if bs, ok := sess.(engine.Buffers); ok {
		k.in, k.out = bs.InputBuffers(), bs.OutputBuffers()
	} else {
		k.in, k.out = engine.NewBuffers(sess.Inputs()), engine.NewBuffers(sess.Outputs())
	}
	return nil
}

// pickLayer finds the outputs CLIPSetLastLayer needs. ComfyUI (SD1.x,
// comfy/sd1_clip.py) takes, for stop_at_clip_layer −n with n at most the
// encoder's L layers, the output of layer L−n (0-based) with the final
// layer norm applied (layer_norm_hidden_state), and the last layer for
// −n beyond L; an export with hidden states gives layer L−n's output as
// hidden_states.(L−n+1) (hidden_states.0 being the embeddings), and −1
// is last_hidden_state itself.
func (k *clipTextEncode) pickLayer(c *SDCLIP) error {
	k.li, k.ti = -1, -1
	if c.LastLayer == -1 {
		return nil
	}
	outs := k.sess.Outputs()
	byLayer, top := map[int]int{}, -1
	for i, o := range outs {
		if n, ok := strings.CutPrefix(o.Name, "hidden_states."); ok {
			if v, err := strconv.Atoi(n); err == nil && v >= 0 && value.EqualShapes(o.Shape, outs[k.hi].Shape) {
				byLayer[v], top = i, max(top, v)
			}
		}
	}
	if top < 1 {
		return fmt.Errorf("input clip: CLIPSetLastLayer %d needs the text encoder's hidden states, and %s gives only its last layer: "+
			"export the text encoder with its hidden-state outputs (hidden_states.0 … hidden_states.N [batch,77,D], as Optimum "+
			"writes them for a model exported with output_hidden_states)", c.LastLayer, c.Name)
	}
	if -c.LastLayer > top {
		return nil
	}
	li, ok := byLayer[top+c.LastLayer+1]
	if !ok {
		return fmt.Errorf("input clip: CLIPSetLastLayer %d: the text encoder has no output hidden_states.%d", c.LastLayer, top+c.LastLayer+1)
	}
	k.li, k.ti = li, byLayer[top]
	return nil
}

func (k *clipTextEncode) closeSession() {
	if k.sess != nil {
		k.sess.Close()
		k.sess = nil
	}
}

// Run encodes the prompt: every time for a constant one (a static step
// runs once), and for a per-frame one only when the text changed (else
// the kept conditioning is passed on, Gen unchanged: nothing allocated).
func (k *clipTextEncode) Run(in, out []value.Value) error {
	if k.sess == nil || k.cond == nil {
		return errNotPrepared
	}
	if k.perFrame {
		if in[0].Kind != value.String {
			return fmt.Errorf("input text: want STRING, got %s", in[0].Kind)
		}
		if k.has && in[0].Str == k.text {
			out[0] = value.OfHandle(k.cond)
			return nil
		}
		chunks, rows, err := tokenize(k.tok, in[0].Str, k.tokOpts)
		if err != nil {
			return err
		}
		if len(chunks) != 1 {
			return fmt.Errorf("input text: the prompt makes %d chunks of 77 tokens; a prompt that changes per frame is encoded into one chunk (75 tokens)", len(chunks))
		}
		k.chunks, k.rows, k.has = chunks, rows, false
	}
	if err := k.encode(); err != nil {
		return err
	}
	if k.perFrame {
		k.text, k.has = in[0].Str, true
	}
	out[0] = value.OfHandle(k.cond)
	return nil
}

// encode runs the text encoder on the rows and weighs them.
func (k *clipTextEncode) encode() error {
	tokens := len(k.rows[0])
	row := tokens * k.dim
	for r0 := 0; r0 < len(k.rows); r0 += k.mb {
		ids := k.in[0].Int64
		for j := range k.mb {
			for t, tk := range k.rows[min(r0+j, len(k.rows)-1)] {
				ids[j*tokens+t] = int64(tk.ID)
			}
		}
		if err := k.sess.Run(k.in, k.out); err != nil {
			return err
		}
		k.runs++
		for j := range min(k.mb, len(k.rows)-r0) {
			dst := k.hidden[(r0+j)*row : (r0+j+1)*row]
			if k.li < 0 {
				copy(dst, k.out[k.hi].Data[j*row:(j+1)*row])
				continue
			}
			err := clip.FinalLayerNorm(dst, k.out[k.li].Data[j*row:(j+1)*row], k.out[k.ti].Data[j*row:(j+1)*row],
				k.out[k.hi].Data[j*row:(j+1)*row], tokens, k.dim, k.lnWB)
			if err != nil {
				return fmt.Errorf("input clip: %w", err)
			}
		}
		if k.pi >= 0 {
			n := min(k.mb, len(k.rows)-r0) * k.pd
			copy(k.pooled[r0*k.pd:r0*k.pd+n], k.out[k.pi].Data[:n])
		}
	}
	e := k.cond.Entries[0]
	if err := clip.Conditioning(e.Cond, e.Pooled, k.hidden[:len(k.rows)*row], k.pooled[:len(k.rows)*k.pd], k.chunks, k.dim); err != nil {
		return err
	}
	e.Gen++
	return nil
}

// Close releases the session.
func (k *clipTextEncode) Close() error {
	k.closeSession()
	return nil
}

// Scratch is the conditioning and hidden states Prepare allocates for
// the prompt (its tokens counted there), bounded by MaxPromptChunks.
func (k *clipTextEncode) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, "text", "clip")
	c := clipHandle(a, 1)
	if a.Err() != nil || c == nil || len(c.IO.Outputs) == 0 {
		return 0, nil
	}
	d := c.IO.Outputs[0].Shape
	if len(d) != 3 || d[2] <= 0 {
		return 0, nil
	}
	// Rows ≤ chunks + 1; the session holds ids, hidden states and pooled.
	return vaeScratch(int64(MaxPromptChunks+1)*77, int64(MaxPromptChunks+1)*78*int64(d[2])), nil
}

// condOp is ConditioningConcat, ConditioningCombine and
// ConditioningZeroOut.
type condOp struct {
	base
	op   string
	srcs []*SDConditioning
	cond *SDConditioning
}

func newCondOp(op string) nodes.Factory {
	return func(cfg nodes.Config) (nodes.Kernel, error) { return &condOp{base: base{cfg}, op: op}, nil }
}

func (k *condOp) Prepare(in []value.Spec) ([]value.Spec, error) {
	var a *args
	switch k.op {
	case "concat":
		a = newArgs(in, "conditioning_to", "conditioning_from")
	case "combine":
		a = newArgs(in, "conditioning_1", "conditioning_2")
	default:
		a = newArgs(in, "conditioning")
	}
	srcs := make([]*SDConditioning, len(a.names))
	for i := range srcs {
		srcs[i] = condHandle(a, i)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	out := &SDConditioning{}
	switch k.op {
	case "concat":
		from := srcs[1].Entries[0]
		for _, e := range srcs[0].Entries {
			if e.Dim != from.Dim {
				return nil, fmt.Errorf("input conditioning_from: width %d, conditioning_to has %d", from.Dim, e.Dim)
			}
			if e.Tokens+from.Tokens > MaxPromptChunks*77 {
				return nil, fmt.Errorf("input conditioning_from: %d + %d tokens; at most %d", e.Tokens, from.Tokens, MaxPromptChunks*77)
			}
			d := newCondEntry(e.Tokens+from.Tokens, e.Dim, len(e.Pooled))
			d.Control = e.Control // conditioning_to's dict is kept (its control too)
			out.Entries = append(out.Entries, d)
		}
	case "combine":
		out.Entries = slices.Concat(srcs[0].Entries, srcs[1].Entries)
	default:
		for _, e := range srcs[0].Entries {
			d := newCondEntry(e.Tokens, e.Dim, len(e.Pooled))
			d.Control = e.Control // the dict is kept, only the tensors zeroed
			out.Entries = append(out.Entries, d)
		}
	}
	k.srcs, k.cond = srcs, out
	return condSpec(out), nil
}

func (k *condOp) Run(_, out []value.Value) error {
	if k.cond == nil {
		return errNotPrepared
	}
	switch k.op {
	case "concat":
		from := k.srcs[1].Entries[0]
		for i, e := range k.srcs[0].Entries {
			d := k.cond.Entries[i]
			copy(d.Cond, e.Cond)
			copy(d.Cond[len(e.Cond):], from.Cond)
			copy(d.Pooled, e.Pooled)
			d.Gen++
		}
	case "zero":
		for _, d := range k.cond.Entries {
			clear(d.Cond)
			clear(d.Pooled)
			d.Gen++
		}
	}
	out[0] = value.OfHandle(k.cond)
	return nil
}

// Note is compile --explain's note on a prompt computed per frame.
func (k *clipTextEncode) Note() string {
	if !k.perFrame {
		return ""
	}
	return "the text changes per frame: it is tokenized and encoded again only when it differs from the last frame's (one 77-token chunk)"
}
