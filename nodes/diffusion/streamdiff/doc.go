// Package streamdiff is StreamDiffusion's per-frame denoising in Go: the
// stream's LCM schedule, the denoising batch, residual classifier-free
// guidance and the stochastic similar-image filter, over []float32 latents
// and a Model callback (the UNet), for the StreamDiffusion nodes of
// pschroedl/ComfyUI-StreamDiffusion. It imports only torchrand.
//
//   - Schedule (NewSchedule): diffusers' LCMScheduler.set_timesteps as
//     StreamDiffusion pins it (diffusers 0.24): k = train steps ÷
//     original_inference_steps (50), the training timesteps k·i − 1 for i
//     = 1…original, every (original ÷ steps)-th from the last, the first
//     steps of them; the t_index_list picks timesteps from that list. Per
//     t_index: √ᾱ_t, √(1−ᾱ_t) (ᾱ the cumulative product of 1 − β of the
//     export's scheduler config, in float32 as diffusers' tensors) and the
//     boundary condition c_skip = σ_d²/((10t)² + σ_d²), c_out =
//     10t/√((10t)² + σ_d²), σ_d = 0.5 (get_scalings_for_boundary_condition_discrete,
//     timestep_scaling 10).
//   - Stream (New): StreamDiffusion.prepare and predict_x0_batch for a
//     frame buffer of one. The init noise is torch.randn((n,4,h,w)) of a
//     generator seeded with the seed (n = len(t_index_list)); the stock
//     noise starts at zero. Encode adds the first t_index's noise to a
//     frame's latent (√ᾱ₀·x + √(1−ᾱ₀)·init₀). With the denoising batch, Step
//     runs the UNet once on the new latent and the n−1 latents in flight
//     (each at its own t_index), turns each ε into x₀ with the LCM boundary
//     condition (c_out·(x − √(1−ᾱ)·ε)/√ᾱ + c_skip·x), outputs the x₀ of the
//     oldest (so a frame's picture comes out n−1 calls later) and re-noises
//     the others for their next t_index (with the init noise, or not when
//     do_add_noise is off). Without it (sequential), Step runs the n
//     t_indexes one after another on the one latent, re-noised with fresh
//     noise between steps (from a generator seeded seed+1: StreamDiffusion
//     draws torch.randn_like from the global generator), and replaces the
//     init noise by the frame's noised latent, as predict_x0_batch does.
//   - Guidance (cfg_type, guidance_scale > 1; "none" forces 1): full runs
//     the UNet on the negative prompt too (2n rows) and mixes ε_u +
//     g·(ε_c − ε_u); self takes ε_u = delta·stock noise, the stock noise
//     being StreamDiffusion's residual estimate updated after every step
//     (init noise of the next row + the x₀ step of √(1−ᾱ)·stock, scaled by
//     √ᾱ_next/√(1−ᾱ_next)); initialize adds one negative-prompt row for the
//     newest latent whose ε replaces the stock noise's first row each step,
//     then goes on as self.
//   - Filter: SimilarImageFilter — the cosine similarity (torch's, eps
//     1e-6) of a frame to the last kept one, skip probability
//     max(0, 1 − (1 − cos)/(1 − threshold)) (0 for threshold ≥ 1), a
//     uniform sample (Python's random.uniform in StreamDiffusion; here a
//     PCG seeded with the seed, so that runs are reproducible), and at most
//     max_skip_frame + 1 skips in a row. It is sized for the frames it
//     compares (the picture as StreamDiffusion preprocesses it: resized to
//     the stream's size, 2x−1); a frame of another length is an error.
//
// Steps do not allocate: New sizes every buffer. Latent arithmetic is
// float32 (StreamDiffusion runs the dtype of the pipe).
//
// Sources read (facts only, no code copied): cumulo-autumn/StreamDiffusion
// @b623251 src/streamdiffusion/pipeline.py, image_filter.py, setup.py
// (diffusers==0.24.0); pschroedl/ComfyUI-StreamDiffusion @e639495 nodes.py
// and streamdiffusionwrapper.py; diffusers' scheduling_lcm.py
// (set_timesteps, get_scalings_for_boundary_condition_discrete) of that
// era. The reference values in testdata come from
// scripts/reference/streamdiff.py (PyTorch 1.13, the published formulas).
package streamdiff
