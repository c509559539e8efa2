package sampling

import (
	"fmt"
	"slices"

	"comfyrt/nodes/diffusion/torchrand"
)

// PrepareNoise is ComfyUI's prepare_noise: the initial noise for a latent
// batch of len(dst)/itemSize items from torch.manual_seed(seed). Without
// batchIndex it is one randn of the whole batch. With batchIndex (a
// LATENT's batch_index: one index per item) ComfyUI draws one randn per
// item, for indices 0 … max, and item k gets draw batchIndex[k] — so an
// item's noise does not depend on the batch it is in. Draws no item uses go
// through a scratch buffer allocated here (noise is prepared once per plan).
func PrepareNoise(seed uint64, dst []float32, itemSize int, batchIndex []int) error {
	g := torchrand.New(seed)
	if batchIndex == nil {
		g.Randn(dst)
		return nil
	}
	if itemSize <= 0 || len(dst) != itemSize*len(batchIndex) {
		return fmt.Errorf("sampling: %d noise values for %d items of %d", len(dst), len(batchIndex), itemSize)
	}
	top := slices.Max(batchIndex)
	if slices.Min(batchIndex) < 0 || top > 1<<16 {
		return fmt.Errorf("sampling: batch_index %v out of range [0, %d]", batchIndex, 1<<16)
	}
	var scratch []float32
	for i := 0; i <= top; i++ {
		first := slices.Index(batchIndex, i)
		if first < 0 {
			if scratch == nil {
				scratch = make([]float32, itemSize)
			}
			g.Randn(scratch)
			continue
		}
		item := dst[first*itemSize : (first+1)*itemSize]
		g.Randn(item)
		for k := first + 1; k < len(batchIndex); k++ {
			if batchIndex[k] == i {
				copy(dst[k*itemSize:(k+1)*itemSize], item)
			}
		}
	}
	return nil
}

// LatentFormat is a model family's latent scaling: the sampler works on
// latents multiplied by ScaleFactor (process_latent_in) and hands back
// latents divided by it (process_latent_out).
type LatentFormat struct {
	ScaleFactor float32
}

// SD15Latent is SD1.x's latent format (4 channels, scale 0.18215).
var SD15Latent = LatentFormat{ScaleFactor: 0.18215}

// ProcessIn scales a VAE latent for the sampler, in place.
func (f LatentFormat) ProcessIn(x []float32) {
	for i := range x {
		x[i] *= f.ScaleFactor
	}
}

// ProcessOut scales a sampled latent back for the VAE, in place.
func (f LatentFormat) ProcessOut(x []float32) {
	for i := range x {
		x[i] /= f.ScaleFactor
	}
}
