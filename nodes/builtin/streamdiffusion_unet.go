package builtin

import (
	"fmt"

	"comfyrt/nodes"
)

// streamUNet is StreamDiffusionSampler's UNet call (a streamdiff.Model):
// the stream's rows, each at its own timestep and with its own text
// (the prompt, or the negative prompt for the guidance rows), in one
// session run when the UNet's batch axis is dynamic or fixed at the row
// count, else one run per row. The session and its tensors are bound
// once; run does not allocate.
type streamUNet struct {
	unetSession
	rows, mb int // rows per Model call, rows per session run
	l        int // latent values per row
	seq, dim int
	ehs      []float32 // every row's encoder_hidden_states
	calls    int       // session runs so far (tests, benchmarks)
}

// openStreamUNet opens u for rows latents [4,lh,lw] and text [seq,dim].
func openStreamUNet(cfg nodes.Config, u *SDUNet, rows, lh, lw, seq, dim int) (*streamUNet, error) {
	if cfg.Engines == nil {
		return nil, errNoEngine
	}
	s := &streamUNet{rows: rows, l: 4 * lh * lw, seq: seq, dim: dim}
	sample, _ := u.IO.Input("sample")
	ts, _ := u.IO.Input("timestep")
	ehs, _ := u.IO.Input("encoder_hidden_states")
	if w := ehs.Shape[2]; w > 0 && w != dim {
		return nil, fmt.Errorf("the UNet takes text %d wide; the text encoder gives %d (another CLIP model?)", w, dim)
	}
	switch bd := sample.Shape[0]; {
	case len(ts.Shape) == 0 || bd == 1:
		s.mb = 1
	case bd <= 0 || bd == rows:
		s.mb = rows
	default:
		return nil, fmt.Errorf("the UNet's batch is fixed at %d; this stream runs %d rows a step (t_index_list, and the guidance rows of cfg_type full or initialize): export it with a dynamic batch", bd, rows)
	}
	refuse := func(string) ([]int, bool) { return nil, false }
	us, err := openUNetSession(cfg, u, []int{s.mb, 4, lh, lw}, seq, dim, refuse, "StreamDiffusion")
	if err != nil {
		return nil, err
	}
	s.unetSession = us
	s.ehs = make([]float32, rows*seq*dim)
	return s, nil
}

// bindText fills each row's text: the first seq tokens of neg where
// negative[r], else of pos.
func (s *streamUNet) bindText(negative []bool, pos, neg []float32) {
	row := s.seq * s.dim
	for r := range s.rows {
		src := pos
		if negative[r] {
			src = neg
		}
		copy(s.ehs[r*row:(r+1)*row], src[:row])
	}
	if s.mb == s.rows {
		copy(s.in[s.ei].Data, s.ehs)
	}
}

// run is the streamdiff.Model.
func (s *streamUNet) run(x []float32, ts []int, eps []float32) error {
	row := s.seq * s.dim
	for r0 := 0; r0 < s.rows; r0 += s.mb {
		copy(s.in[s.si].Data, x[r0*s.l:(r0+s.mb)*s.l])
		if s.ti >= 0 {
			t := &s.in[s.ti]
			for i := range t.Int64 {
				t.Int64[i] = int64(ts[r0+i])
			}
			for i := range t.Data {
				t.Data[i] = float32(ts[r0+i])
			}
		}
		if s.mb < s.rows {
			copy(s.in[s.ei].Data, s.ehs[r0*row:(r0+s.mb)*row])
		}
		if err := s.sess.Run(s.in, s.out); err != nil {
			return err
		}
		s.calls++
		copy(eps[r0*s.l:(r0+s.mb)*s.l], s.out[s.oi].Data)
	}
	return nil
}

func (s *streamUNet) close() {
	if s != nil {
		s.unetSession.close()
	}
}
