package onnxgen

import "math"

// Tiny Stable Diffusion parts with the signatures of the Hugging Face
// Optimum ONNX export (names, element types, dynamic axes) and simple,
// known maths, so that tests can check values:
//
//   - VAE encoder: sample [B,3,H,W] → 8×8 average pool → 1×1 channel map
//     (EncW [4,3], EncB) → latent_sample [B,4,H/8,W/8];
//   - VAE decoder: latent_sample [B,4,h,w] → 1×1 channel map (DecW [3,4],
//     DecB, a left inverse of the encoder's map) → nearest 8× upsample →
//     sample [B,3,8h,8w]; so decode(encode(x)) is x's 8×8 block average;
//   - UNet: sample [B,4,H,W], timestep [B] (int64 or float32),
//     encoder_hidden_states [B,77,D] → out_sample = UNetK·sample +
//     mean(encoder_hidden_states[b]) + UNetT·timestep[b];
//   - text encoder: input_ids int64 [B,77] → embedding table Emb [V,D]
//     → last_hidden_state [B,77,D], pooler_output [B,D] its mean over the
//     tokens.

// LatentChannels and LatentScale are the latent's channels and the
// picture's side per latent pixel.
const (
	LatentChannels = 4
	LatentScale    = 8
	// Tokens is CLIP's sequence length.
	Tokens = 77
)

// VAE is a tiny autoencoder: the encoder's channel map and a left inverse.
type VAE struct {
	EncW [LatentChannels * 3]float32
	EncB [LatentChannels]float32
	DecW [3 * LatentChannels]float32
	DecB [3]float32
}

// NewVAE returns the tiny VAE: the encoder maps rgb to four latent
// channels (the first three an invertible circulant mix, the fourth the
// mean), the decoder inverts the first three and ignores the fourth.
func NewVAE() VAE {
	v := VAE{
		EncW: [12]float32{0.5, 0.25, 0, 0, 0.5, 0.25, 0.25, 0, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3},
		EncB: [4]float32{0.1, -0.1, 0.05, 0},
	}
	return v.withInverse()
}

// withInverse sets the decoder to the left inverse of the encoder's map.
func (v VAE) withInverse() VAE {
	// Invert the 3×3 block A = EncW[:9] in float64 (adjugate / det).
	var a [9]float64
	for i := range a {
		a[i] = float64(v.EncW[i])
	}
	det := a[0]*(a[4]*a[8]-a[5]*a[7]) - a[1]*(a[3]*a[8]-a[5]*a[6]) + a[2]*(a[3]*a[7]-a[4]*a[6])
	inv := [9]float64{
		(a[4]*a[8] - a[5]*a[7]) / det, (a[2]*a[7] - a[1]*a[8]) / det, (a[1]*a[5] - a[2]*a[4]) / det,
		(a[5]*a[6] - a[3]*a[8]) / det, (a[0]*a[8] - a[2]*a[6]) / det, (a[2]*a[3] - a[0]*a[5]) / det,
		(a[3]*a[7] - a[4]*a[6]) / det, (a[1]*a[6] - a[0]*a[7]) / det, (a[0]*a[4] - a[1]*a[3]) / det,
	}
	for r := range 3 {
		var b float64
		for c := range 3 {
			v.DecW[r*4+c] = float32(inv[r*3+c])
			b -= inv[r*3+c] * float64(v.EncB[c])
		}
		v.DecB[r] = float32(b)
	}
	return v
}

func elemOf(half bool) int32 {
	if half {
		return Float16
	}
	return Float32
}

// castIn adds a Cast of a float16 input to float32 (when half) and returns
// the name to read.
func castIn(b *Builder, name string, half bool) string {
	if !half {
		return name
	}
	b.Node("Cast", []string{name}, []string{name + "_f32"}, Attr{"to", int64(Float32)})
	return name + "_f32"
}

// castOut names the float32 result of the graph and adds a Cast to the
// float16 output when half.
func castOut(b *Builder, name string, half bool) string {
	if !half {
		return name
	}
	b.Node("Cast", []string{name + "_f32"}, []string{name}, Attr{"to", int64(Float16)})
	return name + "_f32"
}

// Encoder returns the VAE encoder graph with the given input and output
// names (Optimum: sample → latent_sample); half makes both float16.
func (v VAE) Encoder(in, out string, half bool) *Builder {
	b := New("vae_encoder").
		InputOf(in, elemOf(half), -2, 3, -3, -4).
		OutputOf(out, elemOf(half), -2, LatentChannels, -5, -6).
		Float("enc_w", v.EncW[:], LatentChannels, 3, 1, 1).Float("enc_b", v.EncB[:], LatentChannels)
	x := castIn(b, in, half)
	y := castOut(b, out, half)
	return b.Node("AveragePool", []string{x}, []string{"pooled"},
		Attr{"kernel_shape", []int64{LatentScale, LatentScale}}, Attr{"strides", []int64{LatentScale, LatentScale}}).
		Node("Conv", []string{"pooled", "enc_w", "enc_b"}, []string{y}, Attr{"kernel_shape", []int64{1, 1}})
}

// Decoder returns the VAE decoder graph (Optimum: latent_sample →
// sample); half makes both float16.
func (v VAE) Decoder(in, out string, half bool) *Builder {
	b := New("vae_decoder").
		InputOf(in, elemOf(half), -2, LatentChannels, -3, -4).
		OutputOf(out, elemOf(half), -2, 3, -5, -6).
		Float("dec_w", v.DecW[:], 3, LatentChannels, 1, 1).Float("dec_b", v.DecB[:], 3).
		Float("scales", []float32{1, 1, LatentScale, LatentScale}, 4)
	x := castIn(b, in, half)
	y := castOut(b, out, half)
	return b.Node("Conv", []string{x, "dec_w", "dec_b"}, []string{"mapped"}, Attr{"kernel_shape", []int64{1, 1}}).
		Node("Resize", []string{"mapped", "", "scales"}, []string{y}, Attr{"mode", "nearest"})
}

// Encode computes the encoder on x [n,3,h,w] (h, w multiples of 8) in
// float64 accumulation.
func (v VAE) Encode(x []float32, n, h, w int) []float32 {
	y := make([]float32, n*LatentChannels*(h/LatentScale)*(w/LatentScale))
	v.EncodeTo(y, x, n, h, w)
	return y
}

// EncodeTo is Encode into y [n,4,h/8,w/8], without allocating.
func (v VAE) EncodeTo(y, x []float32, n, h, w int) {
	lh, lw := h/LatentScale, w/LatentScale
	var px [3]float64
	for b := range n {
		for i := range lh {
			for j := range lw {
				for c := range 3 {
					s := 0.0
					for di := range LatentScale {
						for dj := range LatentScale {
							s += float64(x[((b*3+c)*h+i*LatentScale+di)*w+j*LatentScale+dj])
						}
					}
					px[c] = s / (LatentScale * LatentScale)
				}
				for o := range LatentChannels {
					s := float64(v.EncB[o])
					for c := range 3 {
						s += float64(v.EncW[o*3+c]) * px[c]
					}
					y[((b*LatentChannels+o)*lh+i)*lw+j] = float32(s)
				}
			}
		}
	}
}

// Decode computes the decoder on z [n,4,h,w] into [n,3,8h,8w].
func (v VAE) Decode(z []float32, n, h, w int) []float32 {
	y := make([]float32, n*3*h*LatentScale*w*LatentScale)
	v.DecodeTo(y, z, n, h, w)
	return y
}

// DecodeTo is Decode into y [n,3,8h,8w], without allocating.
func (v VAE) DecodeTo(y, z []float32, n, h, w int) {
	H, W := h*LatentScale, w*LatentScale
	for b := range n {
		for o := range 3 {
			for i := range H {
				for j := range W {
					s := float64(v.DecB[o])
					for c := range LatentChannels {
						s += float64(v.DecW[o*LatentChannels+c]) * float64(z[((b*LatentChannels+c)*h+i/LatentScale)*w+j/LatentScale])
					}
					y[((b*3+o)*H+i)*W+j] = float32(s)
				}
			}
		}
	}
}

// UNet is the tiny UNet: out_sample = K·sample (a 1×1 map of the latent
// channels) + mean(encoder_hidden_states[b]) + T·timestep[b].
type UNet struct {
	K [LatentChannels * LatentChannels]float32
	T float32
	// D is the text embedding width.
	D int
}

// NewUNet returns the tiny UNet for text width d.
func NewUNet(d int) UNet {
	u := UNet{T: 0.001, D: d}
	for i := range u.K {
		u.K[i] = float32(math.Sin(float64(i)*0.9+0.2)) * 0.3
	}
	for i := range LatentChannels {
		u.K[i*LatentChannels+i] += 0.5
	}
	return u
}

// Model returns the graph with Optimum's names; intTimestep makes
// timestep int64 (else float32).
func (u UNet) Model(intTimestep bool) *Builder {
	ts := Float32
	if intTimestep {
		ts = Int64
	}
	b := New("unet").
		InputOf("sample", Float32, -2, LatentChannels, -3, -4).
		InputOf("timestep", ts, -7).
		InputOf("encoder_hidden_states", Float32, -2, -8, u.D).
		OutputOf("out_sample", Float32, -2, LatentChannels, -3, -4).
		Float("k", u.K[:], LatentChannels, LatentChannels, 1, 1).
		Float("t_scale", []float32{u.T}, 1).
		Int64("col", []int64{-1, 1, 1, 1}, 4)
	t := "timestep"
	if intTimestep {
		b.Node("Cast", []string{"timestep"}, []string{"t_f32"}, Attr{"to", int64(Float32)})
		t = "t_f32"
	}
	return b.Node("Conv", []string{"sample", "k"}, []string{"mixed"}, Attr{"kernel_shape", []int64{1, 1}}).
		Node("ReduceMean", []string{"encoder_hidden_states"}, []string{"text"}, Attr{"axes", []int64{1, 2}}, Attr{"keepdims", int64(0)}).
		Node("Mul", []string{t, "t_scale"}, []string{"tt"}).
		Node("Add", []string{"text", "tt"}, []string{"shift"}).
		Node("Reshape", []string{"shift", "col"}, []string{"shift4"}).
		Node("Add", []string{"mixed", "shift4"}, []string{"out_sample"})
}

// Reference computes out_sample for sample [n,4,h,w], timestep [n] and
// encoder_hidden_states [n,s,D].
func (u UNet) Reference(sample []float32, timestep []float64, ehs []float32, n, h, w, s int) []float32 {
	out := make([]float32, len(sample))
	hw := h * w
	for b := range n {
		m := 0.0
		for _, v := range ehs[b*s*u.D : (b+1)*s*u.D] {
			m += float64(v)
		}
		shift := m/float64(s*u.D) + float64(u.T)*timestep[b]
		for o := range LatentChannels {
			for p := range hw {
				acc := shift
				for c := range LatentChannels {
					acc += float64(u.K[o*LatentChannels+c]) * float64(sample[(b*LatentChannels+c)*hw+p])
				}
				out[(b*LatentChannels+o)*hw+p] = float32(acc)
			}
		}
	}
	return out
}

// TextEncoder is the tiny text encoder: a token embedding table.
type TextEncoder struct {
	Emb  []float32 // [V,D]
	V, D int
}

// NewTextEncoder returns a text encoder for a vocabulary of v tokens and
// width d, with fixed pseudo-random embeddings.
func NewTextEncoder(v, d int) TextEncoder {
	e := TextEncoder{Emb: make([]float32, v*d), V: v, D: d}
	for i := range e.Emb {
		e.Emb[i] = float32(math.Sin(float64(i)*0.37 + 1))
	}
	return e
}

// Model returns the graph with Optimum's names (input_ids →
// last_hidden_state, pooler_output).
func (e TextEncoder) Model() *Builder {
	return New("text_encoder").
		InputOf("input_ids", Int64, -2, -3).
		OutputOf("last_hidden_state", Float32, -2, -3, e.D).
		OutputOf("pooler_output", Float32, -2, e.D).
		Float("emb", e.Emb, e.V, e.D).
		Node("Gather", []string{"emb", "input_ids"}, []string{"last_hidden_state"}, Attr{"axis", int64(0)}).
		Node("ReduceMean", []string{"last_hidden_state"}, []string{"pooler_output"}, Attr{"axes", []int64{1}}, Attr{"keepdims", int64(0)})
}

// ControlNet is the tiny ControlNet: with hint = the 8×8 average of
// controlnet_cond [B,3,8H,8W] averaged over its channels [B,1,H,W] and
// shift = mean(encoder_hidden_states[b]) + UNetT·timestep[b],
// down_block_res_sample_0 = (sample + hint + shift)·conditioning_scale
// [B,4,H,W] and mid_block_res_sample its 2×2 average [B,4,H/2,W/2]: the
// UNet's additional residuals, named as diffusers' ControlNetOutput
// fields with the tuple flattened.
type ControlNet struct {
	U UNet
}

// Model returns the graph; intTimestep makes timestep int64.
func (c ControlNet) Model(intTimestep bool) *Builder {
	ts := Float32
	if intTimestep {
		ts = Int64
	}
	b := New("controlnet").
		InputOf("sample", Float32, -2, LatentChannels, -3, -4).
		InputOf("timestep", ts, -7).
		InputOf("encoder_hidden_states", Float32, -2, -8, c.U.D).
		InputOf("controlnet_cond", Float32, -2, 3, -5, -6).
		InputOf("conditioning_scale", Float32, 1).
		OutputOf("down_block_res_sample_0", Float32, -2, LatentChannels, -3, -4).
		OutputOf("mid_block_res_sample", Float32, -2, LatentChannels, -9, -10).
		Float("t_scale", []float32{c.U.T}, 1).
		Int64("col", []int64{-1, 1, 1, 1}, 4)
	t := "timestep"
	if intTimestep {
		b.Node("Cast", []string{"timestep"}, []string{"t_f32"}, Attr{"to", int64(Float32)})
		t = "t_f32"
	}
	return b.Node("AveragePool", []string{"controlnet_cond"}, []string{"pooled"},
		Attr{"kernel_shape", []int64{LatentScale, LatentScale}}, Attr{"strides", []int64{LatentScale, LatentScale}}).
		Node("ReduceMean", []string{"pooled"}, []string{"hint"}, Attr{"axes", []int64{1}}, Attr{"keepdims", int64(1)}).
		Node("ReduceMean", []string{"encoder_hidden_states"}, []string{"text"}, Attr{"axes", []int64{1, 2}}, Attr{"keepdims", int64(0)}).
		Node("Mul", []string{t, "t_scale"}, []string{"tt"}).
		Node("Add", []string{"text", "tt"}, []string{"shift"}).
		Node("Reshape", []string{"shift", "col"}, []string{"shift4"}).
		Node("Add", []string{"sample", "hint"}, []string{"s1"}).
		Node("Add", []string{"s1", "shift4"}, []string{"s2"}).
		Node("Mul", []string{"s2", "conditioning_scale"}, []string{"down_block_res_sample_0"}).
		Node("AveragePool", []string{"down_block_res_sample_0"}, []string{"mid_block_res_sample"},
			Attr{"kernel_shape", []int64{2, 2}}, Attr{"strides", []int64{2, 2}})
}
