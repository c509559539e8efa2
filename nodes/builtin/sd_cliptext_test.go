package builtin

import (
	"fmt"
	"strings"
	"testing"

	"comfyrt/internal/onnxgen"
	"comfyrt/internal/testkit"
	"comfyrt/nodes/diffusion/clip"
	"comfyrt/nodes/value"
)

// hiddenCLIP writes the tiny text encoder with 3 layers and hidden-state
// outputs as text_encoders/hid/ into the tiny models folder.
func hiddenCLIP(t *testing.T) (string, onnxgen.TextEncoderHidden) {
	t.Helper()
	dir := sdModels(t, onnxgen.TinySD{})
	e := onnxgen.NewTextEncoderHidden(len(onnxgen.TinyVocab()), 8, 3)
	if err := onnxgen.WriteCLIPHidden(dir, "hid", e); err != nil {
		t.Fatal(err)
	}
	return dir, e
}

// rowIDs is the prompt's first encoder row's token ids.
func rowIDs(t *testing.T, c *SDCLIP, text string) []int {
	t.Helper()
	tok, err := loadTokenizer(c)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := tok.TokenizeWithWeights(text, clip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tok.EncoderRows(chunks, clip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, tk := range rows[0] {
		ids = append(ids, int(tk.ID))
	}
	return ids
}

// TestCLIPSetLastLayerHiddenStates: with an export that has hidden-state
// outputs, stop_at_clip_layer −n gives layer −n's output with the final
// layer norm (ComfyUI's SD1.x clip skip), computed in plain Go from the
// tiny encoder's maths; −1 and −n beyond the layers give the last layer.
func TestCLIPSetLastLayerHiddenStates(t *testing.T) {
	p := needORT(t)
	dir, e := hiddenCLIP(t)
	base := runPrepared(t, modelKernel(t, "CLIPLoader", p, dir), str("hid.safetensors"), str("stable_diffusion"), str("default"))[0].Handle.(*SDCLIP)
	const text = "a cat photo"
	ids := rowIDs(t, base, text)
	for _, c := range []struct {
		layer int64
		k     int // hidden_states.k normed
	}{{-1, 3}, {-2, 2}, {-3, 1}, {-4, 3}, {-24, 3}} {
		cl := runPrepared(t, modelKernel(t, "CLIPSetLastLayer", p, dir), value.OfHandle(base), i64(c.layer))[0]
		cond := runPrepared(t, modelKernel(t, "CLIPTextEncode", p, dir), str(text), cl)[0].Handle.(*SDConditioning)
		closeTo(t, fmt.Sprint("layer ", c.layer), cond.Entries[0].Cond, e.Normed(e.Hidden(ids, c.k)), 1e-5)
	}
}

// TestCLIPSetLastLayerNeedsHiddenStates: −2 on an export with only
// last_hidden_state is refused naming the input and what export is
// needed.
func TestCLIPSetLastLayerNeedsHiddenStates(t *testing.T) {
	s := newSDSetup(t, needORT(t))
	cl := runPrepared(t, modelKernel(t, "CLIPSetLastLayer", s.p, s.dir), value.OfHandle(s.clip), i64(-2))[0]
	_, err := modelKernel(t, "CLIPTextEncode", s.p, s.dir).Prepare(specsOf([]value.Value{str("a cat"), cl}))
	if err == nil || !strings.Contains(err.Error(), "input clip: CLIPSetLastLayer -2 needs the text encoder's hidden states") ||
		!strings.Contains(err.Error(), "hidden_states.0") {
		t.Errorf("got %v", err)
	}
}

// TestCLIPTextEncodePerFrame: a text computed per frame is encoded when it
// changes only: the same text again runs nothing (the encoder's runs are
// counted: a weighted prompt is two rows), keeps Gen and allocates nothing; each conditioning equals the
// plain-Go one; a text over one chunk is refused naming the input.
func TestCLIPTextEncodePerFrame(t *testing.T) {
	cp := testkit.CountRuns(needORT(t))
	s := newSDSetup(t, cp)
	k := modelKernel(t, "CLIPTextEncode", s.p, s.dir).(*clipTextEncode)
	in := []value.Spec{{Kind: value.String}, specsOf([]value.Value{value.OfHandle(s.clip)})[0]}
	outSpecs, err := k.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	cond := outSpecs[0].Const.Handle.(*SDConditioning).Entries[0]
	out := make([]value.Value, 1)
	run := func(text string) error { return k.Run([]value.Value{str(text), value.OfHandle(s.clip)}, out) }
	before := cp.Runs("text_encoder")
	for i, c := range []struct {
		text      string
		runs, gen int
	}{{"a cat photo", 1, 1}, {"a cat photo", 1, 1}, {"the dog", 2, 2}, {"a (cat:1.5) photo", 4, 3}, {"a (cat:1.5) photo", 4, 3}} {
		if err := run(c.text); err != nil {
			t.Fatal(err)
		}
		if k.runs != c.runs || int(cond.Gen) != c.gen {
			t.Errorf("step %d %q: %d encoder runs, Gen %d; want %d, %d", i, c.text, k.runs, cond.Gen, c.runs, c.gen)
		}
		closeTo(t, c.text, cond.Cond, s.wantCond(t, c.text), 1e-6)
	}
	// A weighted prompt is two rows (the chunk and the empty prompt), one
	// run each on the tiny encoder's batch of 1 per run here.
	if got := cp.Runs("text_encoder") - before; got != 4 {
		t.Errorf("the session ran %d times, want 4", got)
	}
	if a := testing.AllocsPerRun(10, func() { _ = run("a (cat:1.5) photo") }); a != 0 {
		t.Errorf("an unchanged text allocates %v times", a)
	}
	long := strings.Repeat("cat ", 80)
	if err := run(long); err == nil || !strings.Contains(err.Error(), "input text") {
		t.Errorf("long text: %v", err)
	}
}

// TestCLIPSetLastLayerSD2Refused: on a 1024-wide (SD2, OpenCLIP-H) text
// encoder every CLIPSetLastLayer is refused, naming the input and why:
// ComfyUI numbers SD2's layers from a 24th that a diffusers export does
// not hold. The same export without the node encodes (the SD2 default).
func TestCLIPSetLastLayerSD2Refused(t *testing.T) {
	p := needORT(t)
	dir := sdModels(t, onnxgen.TinySD{D: 1024})
	clip := runPrepared(t, modelKernel(t, "CheckpointLoaderSimple", p, dir), str("tiny"))[1]
	for _, layer := range []int64{-1, -2} {
		_, err := modelKernel(t, "CLIPSetLastLayer", p, dir).Prepare(specsOf([]value.Value{clip, i64(layer)}))
		if err == nil || !strings.Contains(err.Error(), "input clip") || !strings.Contains(err.Error(), "SD2 text encoder") {
			t.Errorf("layer %d: %v", layer, err)
		}
	}
	if cond := runPrepared(t, modelKernel(t, "CLIPTextEncode", p, dir), str("a cat"), clip)[0].Handle.(*SDConditioning); len(cond.Entries) != 1 {
		t.Errorf("CLIPTextEncode without the node gave %d entries", len(cond.Entries))
	}
}

// TestCLIPTextEncodeSD2Padding: an SD2-shaped (1024-wide) text encoder's
// prompts are padded with id 0 (ComfyUI's SD2Tokenizer, diffusers' "!"),
// an SD1 encoder's with <|endoftext|>.
func TestCLIPTextEncodeSD2Padding(t *testing.T) {
	p := needORT(t)
	for _, c := range []struct {
		d    int
		zero bool
	}{{8, false}, {1024, true}} {
		dir := sdModels(t, onnxgen.TinySD{D: c.d})
		clip := runPrepared(t, modelKernel(t, "CheckpointLoaderSimple", p, dir), str("tiny"))[1]
		k := modelKernel(t, "CLIPTextEncode", p, dir)
		prepare(t, k, []value.Value{str("a cat"), clip})
		row := k.(*clipTextEncode).rows[0]
		end, pad := row[3].ID, row[len(row)-1].ID // <|startoftext|> a cat <|endoftext|> pad…
		if c.zero && pad != 0 || !c.zero && pad != end {
			t.Errorf("width %d: padded with id %d (end %d), want %s", c.d, pad, end, map[bool]string{true: "0", false: "<|endoftext|>"}[c.zero])
		}
	}
}
