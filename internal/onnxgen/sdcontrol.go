package onnxgen

// The ControlNet-enabled tiny UNet. Optimum's Stable Diffusion export has
// no residual inputs; ONNX exports of a UNet for ControlNet pipelines add
// diffusers' UNet2DConditionModel.forward arguments, the tuple flattened:
// down_block_additional_residual_N and mid_block_additional_residual,
// matching the ControlNet's outputs down_block_res_sample_N and
// mid_block_res_sample. The tiny one takes one down residual of the
// sample's shape and the mid one at half size:
//
//	out_sample = UNet.Model's out_sample + down_block_additional_residual_0
//	             + nearest-2×-upsampled mid_block_additional_residual.

// ModelWithResiduals returns the ControlNet-enabled graph; intTimestep
// makes timestep int64.
func (u UNet) ModelWithResiduals(intTimestep bool) *Builder {
	b := u.Model(intTimestep)
	// Rename the plain graph's output node result, then add the residuals.
	last := b.g.Node[len(b.g.Node)-1]
	last.Output[0] = "base_out"
	return b.InputOf("down_block_additional_residual_0", Float32, -2, LatentChannels, -3, -4).
		InputOf("mid_block_additional_residual", Float32, -2, LatentChannels, -9, -10).
		Float("up2", []float32{1, 1, 2, 2}, 4).
		Node("Resize", []string{"mid_block_additional_residual", "", "up2"}, []string{"mid_up"}, Attr{"mode", "nearest"}).
		Node("Add", []string{"base_out", "down_block_additional_residual_0"}, []string{"with_down"}).
		Node("Add", []string{"with_down", "mid_up"}, []string{"out_sample"})
}

// ReferenceWithResiduals is Reference plus the residuals: down [n,4,h,w]
// and mid [n,4,h/2,w/2] (nil: none).
func (u UNet) ReferenceWithResiduals(sample []float32, timestep []float64, ehs, down, mid []float32, n, h, w, s int) []float32 {
	out := u.Reference(sample, timestep, ehs, n, h, w, s)
	if down == nil {
		return out
	}
	mh, mw := h/2, w/2
	for bc := range n * LatentChannels {
		for i := range h {
			for j := range w {
				p := (bc*h+i)*w + j
				out[p] = float32(float64(out[p]) + float64(down[p]) + float64(mid[(bc*mh+i/2)*mw+j/2]))
			}
		}
	}
	return out
}

// Reference computes the ControlNet's outputs (down [n,4,h,w], mid
// [n,4,h/2,w/2]) for sample, timestep, encoder_hidden_states [n,s,D],
// controlnet_cond [n,3,8h,8w] and conditioning_scale.
func (c ControlNet) Reference(sample []float32, timestep []float64, ehs, cond []float32, scale float64, n, h, w, s int) (down, mid []float32) {
	down = make([]float32, len(sample))
	mh, mw := h/2, w/2
	mid = make([]float32, n*LatentChannels*mh*mw)
	H, W := h*LatentScale, w*LatentScale
	for b := range n {
		m := 0.0
		for _, v := range ehs[b*s*c.U.D : (b+1)*s*c.U.D] {
			m += float64(v)
		}
		shift := float64(float32(m/float64(s*c.U.D))) + float64(c.U.T)*timestep[b]
		for i := range h {
			for j := range w {
				hint := 0.0
				for ch := range 3 {
					for di := range LatentScale {
						for dj := range LatentScale {
							hint += float64(cond[((b*3+ch)*H+i*LatentScale+di)*W+j*LatentScale+dj])
						}
					}
				}
				hint /= 3 * LatentScale * LatentScale
				for o := range LatentChannels {
					p := ((b*LatentChannels+o)*h+i)*w + j
					down[p] = float32((float64(sample[p]) + hint + shift) * scale)
				}
			}
		}
		for o := range LatentChannels {
			for i := range mh {
				for j := range mw {
					q := (b*LatentChannels + o) * h
					v := float64(down[(q+2*i)*w+2*j]) + float64(down[(q+2*i)*w+2*j+1]) + float64(down[(q+2*i+1)*w+2*j]) + float64(down[(q+2*i+1)*w+2*j+1])
					mid[((b*LatentChannels+o)*mh+i)*mw+j] = float32(v / 4)
				}
			}
		}
	}
	return down, mid
}

// WriteControlNetUNet writes the ControlNet-enabled tiny UNet (int64
// timestep, text width d) at path (TensorRTLoader's tensorrt/NAME.onnx).
func WriteControlNetUNet(path string, d int) error {
	return NewUNet(d).ModelWithResiduals(true).WriteFile(path)
}
