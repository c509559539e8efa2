package clip

import (
	"fmt"
	"math"
)

// LayerNormEps is CLIP's final layer norm epsilon (layer_norm_eps 1e-5).
const LayerNormEps = 1e-5

// FinalLayerNorm applies the text encoder's final layer norm to an earlier
// layer's hidden states, as ComfyUI's SD1.x clip skip does
// (layer_norm_hidden_state: CLIPSetLastLayer −2 is final_layer_norm of
// layer −2's output). ONNX exports do not output the norm's weight and
// bias, so they are recovered from the same run: last (the encoder's
// last_hidden_state) is final_layer_norm(top) (top being its last layer's
// output, hidden_states.N), so for each feature j, last[t,j] =
// w_j·n[t,j] + b_j over the tokens t, with n the normalized top; w_j and b_j
// are the least-squares solution (exact up to rounding for a layer norm).
// A row where that does not hold (a feature whose largest residual is over
// 1e-2 of its RMS plus 1e-4 of the row's, or a feature constant over the
// tokens) is an error: last is not a layer norm of top.
//
// layer, top and last hold tokens × dim values (one encoder row); dst
// receives the normalized layer (it may alias layer); wb is scratch of
// 2·dim + 2·tokens values (FinalLayerNormScratch). Nothing is allocated.
func FinalLayerNorm(dst, layer, top, last []float32, tokens, dim int, wb []float64) error {
	n := tokens * dim
	if tokens < 2 || dim < 1 || len(layer) != n || len(top) != n || len(last) != n || len(dst) != n || len(wb) < FinalLayerNormScratch(tokens, dim) {
		return fmt.Errorf("clip final layer norm: want %d tokens × %d values in each (%d, %d, %d, %d) and %d scratch", tokens, dim,
			len(layer), len(top), len(last), len(dst), FinalLayerNormScratch(tokens, dim))
	}
	w, b := wb[:dim], wb[dim:2*dim]
	stats := wb[2*dim : 2*dim+2*tokens]
	for t := range tokens {
		stats[2*t], stats[2*t+1] = meanRstd(top[t*dim : (t+1)*dim])
	}
	if err := fitLayerNorm(w, b, stats, top, last, tokens, dim); err != nil {
		return err
	}
	for t := range tokens {
		row := layer[t*dim : (t+1)*dim]
		mean, rstd := meanRstd(row)
		for j, v := range row {
			dst[t*dim+j] = float32((float64(v)-mean)*rstd*w[j] + b[j])
		}
	}
	return nil
}

// FinalLayerNormScratch is the scratch FinalLayerNorm needs.
func FinalLayerNormScratch(tokens, dim int) int { return 2*dim + 2*tokens }

// fitLayerNorm solves last = w·norm(top) + b per feature and checks the
// fit; stats holds each token's mean and 1/std of top.
func fitLayerNorm(w, b, stats []float64, top, last []float32, tokens, dim int) error {
	for j := range dim {
		var sn, sy, snn, sny float64
		for t := range tokens {
			mean, rstd := stats[2*t], stats[2*t+1]
			nv := (float64(top[t*dim+j]) - mean) * rstd
			y := float64(last[t*dim+j])
			sn += nv
			sy += y
			snn += nv * nv
			sny += nv * y
		}
		k := float64(tokens)
		v := snn - sn*sn/k
		if !(v > 1e-12*k) {
			return fmt.Errorf("clip final layer norm: feature %d of the last layer is the same for every token; cannot recover the layer norm", j)
		}
		w[j] = (sny - sn*sy/k) / v
		b[j] = (sy - w[j]*sn) / k
	}
	return checkFit(w, b, stats, top, last, tokens, dim)
}

// checkFit checks each feature's fit: its largest residual over the
// tokens within 1e-2 of the feature's RMS plus 1e-4 of the whole row's
// RMS. A float16 export rounds both outputs to about 4.9e-4 of their size,
// and one dominant token (BOS) can make a feature's largest value 8.8×
// (√77) its RMS: about 4.3e-3 of the RMS at worst, inside the bound. An
// outlier token or a few-percent error in one feature fails, where a bound
// on the row's largest value (the BOS token's, tens) would not.
func checkFit(w, b, stats []float64, top, last []float32, tokens, dim int) error {
	var all float64
	for _, v := range last[:tokens*dim] {
		all += float64(v) * float64(v)
	}
	all = math.Sqrt(all / float64(tokens*dim))
	for j := range dim {
		var ss, maxR float64
		for t := range tokens {
			mean, rstd := stats[2*t], stats[2*t+1]
			y := float64(last[t*dim+j])
			ss += y * y
			maxR = math.Max(maxR, math.Abs((float64(top[t*dim+j])-mean)*rstd*w[j]+b[j]-y))
		}
		rms := math.Sqrt(ss / float64(tokens))
		if !(maxR <= 1e-2*rms+1e-4*all) {
			return fmt.Errorf("clip final layer norm: last_hidden_state is not a layer norm of the last hidden_states output "+
				"(feature %d: residual %.3g, RMS %.3g)", j, maxR, rms)
		}
	}
	return nil
}

// meanRstd is a row's mean and 1/√(var + eps) (biased variance, as
// torch's layer_norm), in float64.
func meanRstd(row []float32) (mean, rstd float64) {
	for _, v := range row {
		mean += float64(v)
	}
	mean /= float64(len(row))
	var v2 float64
	for _, v := range row {
		d := float64(v) - mean
		v2 += d * d
	}
	return mean, 1 / math.Sqrt(v2/float64(len(row))+LayerNormEps)
}
