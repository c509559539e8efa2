package onnxgen

// DecoderScaled is Decoder with another upsampling factor (the output is
// [B,3,f·h,f·w]): a decoder that does not match the latent's 8× pixel,
// for the tests of the checks that refuse one.
func (v VAE) DecoderScaled(in, out string, factor int) *Builder {
	f := float32(factor)
	b := New("vae_decoder").
		InputOf(in, Float32, -2, LatentChannels, -3, -4).
		OutputOf(out, Float32, -2, 3, -5, -6).
		Float("dec_w", v.DecW[:], 3, LatentChannels, 1, 1).Float("dec_b", v.DecB[:], 3).
		Float("scales", []float32{1, 1, f, f}, 4)
	return b.Node("Conv", []string{in, "dec_w", "dec_b"}, []string{"mapped"}, Attr{"kernel_shape", []int64{1, 1}}).
		Node("Resize", []string{"mapped", "", "scales"}, []string{out}, Attr{"mode", "nearest"})
}
