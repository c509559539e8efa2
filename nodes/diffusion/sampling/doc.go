// Package sampling is ComfyUI's sampling math in Go, for the diffusion
// sampler nodes (KSampler, KSamplerAdvanced, SamplerCustom with
// KSamplerSelect and BasicScheduler):
//
//   - Discrete: ComfyUI's ModelSamplingDiscrete (comfy/model_sampling.py) —
//     the 1000-step noise table of SD1.x/SD2.x (scaled-linear betas
//     0.00085 → 0.012: linspace of the square roots, squared, in float64;
//     ᾱ the cumulative product; σ = √((1−ᾱ)/ᾱ) stored as float32, log σ too),
//     timestep ↔ sigma (argmin of |log σ − log σ_t|; linear interpolation of
//     log σ between the two nearest timesteps), percent_to_sigma, and the
//     eps and v-prediction formulas: calculate_input (c_in = 1/√(σ²+σ_data²)),
//     calculate_denoised, noise_scaling (σ·noise + latent; √(1+σ²)·noise
//     for a full-strength start: max_denoise) and MaxDenoise. The
//     ModelSamplingDiscrete node's variants (modelsampling.go): the beta
//     schedules of make_beta_schedule (linear, sqrt_linear,
//     squaredcos_cap_v2), zero terminal SNR, the x0, img_to_img and LCM
//     predictions, and ModelSamplingDiscreteDistilled's 50-entry table
//     (timestep = index·20 + 19), checked against
//     scripts/reference/model_sampling.py.
//   - Schedulers (comfy/samplers.py calculate_sigmas): normal, karras,
//     exponential, sgm_uniform, simple, ddim_uniform, beta (Beta(0.6, 0.6)
//     quantiles: bisection of the regularized incomplete beta function),
//     linear_quadratic and kl_optimal, each a descending table ending in 0,
//     as float32 values
//     (ComfyUI builds them as FloatTensor); KSamplerSigmas adds the denoise
//     < 1 tail exactly as KSampler.set_steps (steps/denoise total steps, the
//     last steps+1 kept; none for denoise ≤ 0) and the extra step the
//     dpm_2/uni_pc samplers discard; BasicSchedulerSigmas is the
//     BasicScheduler node's variant.
//   - Samplers (comfy/k_diffusion/sampling.py): euler, euler_ancestral, lcm,
//     dpmpp_2m and ddim (ComfyUI runs ddim as euler; the difference is only
//     in inpainting noise) as step functions over a flat []float32 latent and
//     a Denoiser callback, the model call with cfg already applied, which
//     returns the denoised latent (calculate_denoised's output). The step
//     noise of euler_ancestral and lcm comes from a torchrand generator
//     seeded seed+1, as ComfyUI's default_noise_sampler does on the CPU, one
//     randn of the latent's size per step; PrecomputeNoise draws them once
//     ahead (NoiseDraws of the schedule, up to MaxNoiseTable values) and
//     each run reset with the same seed reads them back, bit for bit the
//     same. A Sampler allocates its buffers once (NewSampler,
//     PrecomputeNoise) and its steps do not allocate.
//   - StepRange: KSamplerAdvanced's start/end steps and leftover noise on a
//     sigma table (KSampler.sample's slicing); ApplyCFG: cfg_function.
//   - PrepareNoise: ComfyUI's prepare_noise (the initial noise of a seed,
//     per item when the latent has a batch_index), and LatentFormat's
//     process_latent_in/out scaling (SD1.x: 0.18215).
//
// Latent arithmetic is float32 as ComfyUI's tensors; the per-step scalars
// (σ, Δt, σ_up, …) are float64 rounded to float32 where ComfyUI holds them in
// float32 tensors. The reference values in testdata come from
// scripts/reference/sampling.py, which rederives ComfyUI's formulas with
// PyTorch 1.13.
package sampling
