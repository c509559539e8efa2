package builtin

import (
	"fmt"
	"os"
	"slices"

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
//     weight differs from 1) and weighs them (clip.Conditioning). The text
//     encoder export gives its last layer: CLIPSetLastLayer other than −1
//     is refused.
//   - ConditioningConcat: each entry of conditioning_to with the first
//     entry of conditioning_from appended along the tokens.
//   - ConditioningCombine: the two lists, one after the other (the sampler
//     averages the entries' predictions, as ComfyUI without areas).
//   - ConditioningZeroOut: the same shapes, zeros.

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
	mb       int // rows per run
	rows     []clip.Chunk
	chunks   []clip.Chunk
	dim, pd  int
	hidden   []float32 // all rows' hidden states
	pooled   []float32
	cond     *SDConditioning
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

// tokenize checks the inputs and returns the chunks and encoder rows.
func tokenize(in []value.Spec) (c *SDCLIP, chunks, rows []clip.Chunk, err error) {
	a := newArgs(in, "text", "clip")
	text := a.str(0)
	c = clipHandle(a, 1)
	if err = a.Err(); err != nil {
		return nil, nil, nil, err
	}
	if c.LastLayer != -1 {
		return nil, nil, nil, fmt.Errorf("input clip: CLIPSetLastLayer %d is not supported: the text encoder export gives its last layer only (last_hidden_state); use -1", c.LastLayer)
	}
	tok, err := loadTokenizer(c)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("input clip: %w", err)
	}
	if chunks, err = tok.TokenizeWithWeights(text, clip.Options{}); err != nil {
		return nil, nil, nil, fmt.Errorf("input text: %w", err)
	}
	if len(chunks) > MaxPromptChunks {
		return nil, nil, nil, fmt.Errorf("input text: the prompt makes %d chunks of 77 tokens; at most %d (%d tokens) are encoded", len(chunks), MaxPromptChunks, MaxPromptChunks*75)
	}
	if rows, err = tok.EncoderRows(chunks, clip.Options{}); err != nil {
		return nil, nil, nil, fmt.Errorf("input text: %w", err)
	}
	return c, chunks, rows, nil
}

func (k *clipTextEncode) Prepare(in []value.Spec) ([]value.Spec, error) {
	c, chunks, rows, err := tokenize(in)
	if err != nil {
		return nil, err
	}
	if err := k.open(c, len(rows)); err != nil {
		return nil, fmt.Errorf("clip %q text encoder: %w", c.Name, err)
	}
	k.chunks, k.rows = chunks, rows
	tokens := len(rows[0])
	k.hidden = make([]float32, len(rows)*tokens*k.dim)
	if k.pi >= 0 {
		k.pooled = make([]float32, len(rows)*k.pd)
	} else {
		k.pd, k.pooled = 0, nil
	}
	e := newCondEntry(len(chunks)*tokens, k.dim, k.pd)
	k.cond = &SDConditioning{Entries: []*SDCondEntry{e}}
	return condSpec(k.cond), nil
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

func (k *clipTextEncode) closeSession() {
	if k.sess != nil {
		k.sess.Close()
		k.sess = nil
	}
}

func (k *clipTextEncode) Run(_, out []value.Value) error {
	if k.sess == nil || k.cond == nil {
		return errNotPrepared
	}
	tokens := len(k.rows[0])
	row := tokens * k.dim
	for r0 := 0; r0 < len(k.rows); r0 += k.mb {
		ids := k.in[0].Int64
		for j := range k.mb {
			for t, tk := range k.rows[r0+j] {
				ids[j*tokens+t] = int64(tk.ID)
			}
		}
		if err := k.sess.Run(k.in, k.out); err != nil {
			return err
		}
		copy(k.hidden[r0*row:(r0+k.mb)*row], k.out[k.hi].Data)
		if k.pi >= 0 {
			copy(k.pooled[r0*k.pd:(r0+k.mb)*k.pd], k.out[k.pi].Data)
		}
	}
	e := k.cond.Entries[0]
	if err := clip.Conditioning(e.Cond, e.Pooled, k.hidden, k.pooled, k.chunks, k.dim); err != nil {
		return err
	}
	e.Gen++
	out[0] = value.OfHandle(k.cond)
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
			out.Entries = append(out.Entries, newCondEntry(e.Tokens+from.Tokens, e.Dim, len(e.Pooled)))
		}
	case "combine":
		out.Entries = slices.Concat(srcs[0].Entries, srcs[1].Entries)
	default:
		for _, e := range srcs[0].Entries {
			out.Entries = append(out.Entries, newCondEntry(e.Tokens, e.Dim, len(e.Pooled)))
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
