package onnxgen

import (
	"math"
	"path/filepath"
	"strconv"
)

// TextEncoderHidden is a tiny text encoder exported with its hidden
// states, as Optimum writes a CLIP text model with output_hidden_states:
// outputs last_hidden_state, pooler_output and hidden_states.0 …
// hidden_states.L (hidden_states.0 the token embeddings, hidden_states.k
// the output of layer k), with last_hidden_state the final layer norm of
// hidden_states.L. Its layers are elementwise: h_k = tanh(h_{k−1}·S_k +
// T_k) with per-feature S_k, T_k; the final layer norm has weight LNW and
// bias LNB (epsilon 1e-5).
type TextEncoderHidden struct {
	TextEncoder
	Layers   int
	S, T     [][]float32 // [Layers][D]
	LNW, LNB []float32   // [D]
}

// NewTextEncoderHidden returns the encoder for a vocabulary of v tokens,
// width d and the given number of layers.
func NewTextEncoderHidden(v, d, layers int) TextEncoderHidden {
	e := TextEncoderHidden{TextEncoder: NewTextEncoder(v, d), Layers: layers, LNW: make([]float32, d), LNB: make([]float32, d)}
	for k := range layers {
		s, t := make([]float32, d), make([]float32, d)
		for j := range d {
			s[j] = float32(0.8 + 0.1*math.Sin(float64(k*d+j)))
			t[j] = float32(0.2 * math.Cos(float64(k*d+j)*0.7))
		}
		e.S, e.T = append(e.S, s), append(e.T, t)
	}
	for j := range d {
		e.LNW[j] = float32(1 + 0.25*math.Sin(float64(j)*1.3))
		e.LNB[j] = float32(0.1 * math.Cos(float64(j)))
	}
	return e
}

// Model returns the graph with Optimum's names.
func (e TextEncoderHidden) Model() *Builder {
	hs := func(k int) string { return "hidden_states." + strconv.Itoa(k) }
	b := New("text_encoder").
		InputOf("input_ids", Int64, -2, -3).
		OutputOf("last_hidden_state", Float32, -2, -3, e.D).
		OutputOf("pooler_output", Float32, -2, e.D)
	for k := 0; k <= e.Layers; k++ {
		b.OutputOf(hs(k), Float32, -2, -3, e.D)
	}
	b.Float("emb", e.Emb, e.V, e.D).
		Float("lnw", e.LNW, e.D).Float("lnb", e.LNB, e.D).Float("eps", []float32{1e-5}, 1).
		Node("Gather", []string{"emb", "input_ids"}, []string{hs(0)}, Attr{"axis", int64(0)})
	for k := 1; k <= e.Layers; k++ {
		s, t := "s"+strconv.Itoa(k), "t"+strconv.Itoa(k)
		b.Float(s, e.S[k-1], e.D).Float(t, e.T[k-1], e.D).
			Node("Mul", []string{hs(k - 1), s}, []string{"m" + strconv.Itoa(k)}).
			Node("Add", []string{"m" + strconv.Itoa(k), t}, []string{"a" + strconv.Itoa(k)}).
			Node("Tanh", []string{"a" + strconv.Itoa(k)}, []string{hs(k)})
	}
	axes := Attr{"axes", []int64{-1}}
	return b.Node("ReduceMean", []string{hs(e.Layers)}, []string{"mean"}, axes, Attr{"keepdims", int64(1)}).
		Node("Sub", []string{hs(e.Layers), "mean"}, []string{"c"}).
		Node("Mul", []string{"c", "c"}, []string{"c2"}).
		Node("ReduceMean", []string{"c2"}, []string{"var"}, axes, Attr{"keepdims", int64(1)}).
		Node("Add", []string{"var", "eps"}, []string{"ve"}).
		Node("Sqrt", []string{"ve"}, []string{"sd"}).
		Node("Div", []string{"c", "sd"}, []string{"n"}).
		Node("Mul", []string{"n", "lnw"}, []string{"nw"}).
		Node("Add", []string{"nw", "lnb"}, []string{"last_hidden_state"}).
		Node("ReduceMean", []string{"last_hidden_state"}, []string{"pooler_output"}, Attr{"axes", []int64{1}}, Attr{"keepdims", int64(0)})
}

// Hidden computes hidden_states.k for the token ids of one row (float64
// maths, float32 results).
func (e TextEncoderHidden) Hidden(ids []int, k int) []float32 {
	out := make([]float32, len(ids)*e.D)
	for i, id := range ids {
		copy(out[i*e.D:], e.Emb[id*e.D:(id+1)*e.D])
	}
	for l := 0; l < k; l++ {
		for i := range out {
			j := i % e.D
			out[i] = float32(math.Tanh(float64(out[i]*e.S[l][j]) + float64(e.T[l][j])))
		}
	}
	return out
}

// Normed is the final layer norm (LNW, LNB, eps 1e-5) of hidden states
// [tokens, D].
func (e TextEncoderHidden) Normed(h []float32) []float32 {
	out := make([]float32, len(h))
	for t := 0; t < len(h)/e.D; t++ {
		row := h[t*e.D : (t+1)*e.D]
		var m, v float64
		for _, x := range row {
			m += float64(x)
		}
		m /= float64(e.D)
		for _, x := range row {
			v += (float64(x) - m) * (float64(x) - m)
		}
		r := 1 / math.Sqrt(v/float64(e.D)+1e-5)
		for j, x := range row {
			out[t*e.D+j] = float32((float64(x)-m)*r*float64(e.LNW[j]) + float64(e.LNB[j]))
		}
	}
	return out
}

// WriteCLIPHidden writes the encoder with the tiny tokenizer where
// CLIPLoader looks for clip_name stem (text_encoders/<stem>/ under the
// models folder dir).
func WriteCLIPHidden(dir, stem string, e TextEncoderHidden) error {
	if err := WriteCLIP(dir, stem, e.D); err != nil {
		return err
	}
	return e.Model().WriteFile(filepath.Join(dir, "text_encoders", filepath.FromSlash(stem), "model.onnx"))
}
