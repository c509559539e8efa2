#!/usr/bin/env python3
"""Reference values for comfyrt's nodes/diffusion/sampling.

Rederives, with PyTorch 1.13 on the CPU and without importing ComfyUI, the
formulas of ComfyUI's comfy/model_sampling.py (ModelSamplingDiscrete, EPS,
V_PREDICTION), comfy/samplers.py (the schedulers, calculate_sigmas,
KSampler.set_steps' denoise tail) and comfy/k_diffusion/sampling.py (euler,
euler_ancestral, lcm, dpmpp_2m; ComfyUI's ddim is euler), in the dtypes
ComfyUI uses (float64 betas and cumulative product, float32 sigma tables,
float32 latents).

Writes (default nodes/diffusion/sampling/testdata):
  - discrete.json: the SD1.5 sigma and log-sigma tables, sigma_min/max,
    timestep(sigma) and sigma(t) for a few values, percent_to_sigma;
  - schedules.json: every scheduler at 1, 4 and 20 steps with denoise 1.0 and
    0.5 (KSampler.set_steps), and the dpm_2 variant (one step more, the
    penultimate sigma discarded); beta also at 7, 50 and 333 steps (its
    quantiles from scipy.stats.beta.ppf, as ComfyUI);
  - samplers.json: full runs of each sampler on a closed-form denoiser,
    D(x, sigma) = m + (x - m) / (1 + sigma^2) (the posterior mean for data
    ~ N(m, 1)), latent [1, 4, 8, 8], txt2img (zero latent, max_denoise noise
    scaling) and img2img (a fixed latent, denoise 0.5), initial noise from
    torch.manual_seed(seed) and torch.randn, step noise from a generator
    seeded seed + 1 (default_noise_sampler on the CPU); and calculate_denoised
    for eps and v prediction.

Usage: /usr/bin/python3 scripts/reference/sampling.py [OUTDIR]
"""
import json
import math
import os
import sys

import numpy
import scipy.stats
import torch


class Discrete:
    def __init__(self, timesteps=1000, start=0.00085, end=0.012):
        betas = torch.linspace(start ** 0.5, end ** 0.5, timesteps, dtype=torch.float64) ** 2
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        sigmas = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
        self.sigmas = sigmas.float()
        self.log_sigmas = sigmas.log().float()
        self.sigma_data = 1.0

    @property
    def sigma_min(self):
        return self.sigmas[0]

    @property
    def sigma_max(self):
        return self.sigmas[-1]

    def timestep(self, sigma):
        sigma = torch.as_tensor(sigma, dtype=torch.float32)
        dists = sigma.log() - self.log_sigmas[:, None]
        return dists.abs().argmin(dim=0).view(sigma.shape)

    def sigma(self, timestep):
        t = torch.clamp(torch.as_tensor(timestep).float(), min=0, max=(len(self.sigmas) - 1))
        low, high = t.floor().long(), t.ceil().long()
        w = t.frac()
        return ((1 - w) * self.log_sigmas[low] + w * self.log_sigmas[high]).exp()

    def percent_to_sigma(self, percent):
        if percent <= 0.0:
            return 999999999.9
        if percent >= 1.0:
            return 0.0
        return self.sigma(torch.tensor((1.0 - percent) * 999.0)).item()


def simple(s, steps):
    ss = len(s.sigmas) / steps
    return torch.FloatTensor([float(s.sigmas[-(1 + int(x * ss))]) for x in range(steps)] + [0.0])


def ddim_uniform(s, steps):
    x = 1
    if math.isclose(float(s.sigmas[x]), 0, abs_tol=0.00001):
        steps += 1
        sigs = []
    else:
        sigs = [0.0]
    ss = max(len(s.sigmas) // steps, 1)
    while x < len(s.sigmas):
        sigs.append(float(s.sigmas[x]))
        x += ss
    return torch.FloatTensor(sigs[::-1])


def normal(s, steps, sgm=False):
    start, end = s.timestep(s.sigma_max), s.timestep(s.sigma_min)
    append_zero = True
    if sgm:
        ts = torch.linspace(start.item(), end.item(), steps + 1)[:-1]
    else:
        if math.isclose(float(s.sigma(end)), 0, abs_tol=0.00001):
            steps += 1
            append_zero = False
        ts = torch.linspace(start.item(), end.item(), steps)
    sigs = [float(s.sigma(t)) for t in ts]
    if append_zero:
        sigs.append(0.0)
    return torch.FloatTensor(sigs)


def karras(s, n, rho=7.0):
    ramp = torch.linspace(0, 1, n)
    min_inv, max_inv = float(s.sigma_min) ** (1 / rho), float(s.sigma_max) ** (1 / rho)
    sig = (max_inv + ramp * (min_inv - max_inv)) ** rho
    return torch.cat([sig, sig.new_zeros([1])])


def exponential(s, n):
    sig = torch.linspace(math.log(float(s.sigma_max)), math.log(float(s.sigma_min)), n).exp()
    return torch.cat([sig, sig.new_zeros([1])])


def beta(s, steps, alpha=0.6, b=0.6):
    total = len(s.sigmas) - 1
    ts = numpy.rint(scipy.stats.beta.ppf(1 - numpy.linspace(0, 1, steps, endpoint=False), alpha, b) * total)
    sigs, last = [], -1
    for t in ts:
        if t != last:
            sigs.append(float(s.sigmas[int(t)]))
        last = t
    return torch.FloatTensor(sigs + [0.0])


def linear_quadratic(s, steps, threshold=0.025):
    if steps == 1:
        sched = [1.0, 0.0]
    else:
        lin = steps // 2
        sched = [i * threshold / lin for i in range(lin)]
        diff = lin - threshold * steps
        quad = steps - lin
        qc = diff / (lin * quad ** 2)
        lc = threshold / lin - 2 * diff / (quad ** 2)
        const = qc * (lin ** 2)
        sched += [qc * (i ** 2) + lc * i + const for i in range(lin, steps)]
        sched = [1.0 - x for x in sched + [1.0]]
    return torch.FloatTensor(sched) * s.sigma_max


def kl_optimal(s, n):
    idx = torch.arange(n, dtype=torch.float).div_(n - 1)
    sig = idx.new_zeros(n + 1)
    sig[:-1] = (idx * math.atan(float(s.sigma_min)) + (1 - idx) * math.atan(float(s.sigma_max))).tan_()
    return sig


SCHEDULERS = {
    "normal": normal, "karras": karras, "exponential": exponential,
    "sgm_uniform": lambda s, n: normal(s, n, sgm=True), "simple": simple,
    "ddim_uniform": ddim_uniform, "beta": beta, "linear_quadratic": linear_quadratic, "kl_optimal": kl_optimal,
}


def ksampler_sigmas(s, scheduler, steps, denoise, discard=False):
    def calc(n):
        if discard:
            n += 1
        sig = SCHEDULERS[scheduler](s, n)
        if discard:
            sig = torch.cat([sig[:-2], sig[-1:]])
        return sig
    if denoise > 0.9999:
        return calc(steps)
    if denoise <= 0:
        return torch.FloatTensor([])
    return calc(int(steps / denoise))[-(steps + 1):]


def to_d(x, sigma, denoised):
    return (x - denoised) / sigma


def ancestral_step(sigma_from, sigma_to, eta=1.0):
    up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
    down = (sigma_to ** 2 - up ** 2) ** 0.5
    return down, up


def run(sampler, model, x, sigmas, seed, eta=1.0, s_noise=1.0):
    gen = torch.Generator()
    gen.manual_seed(seed + 1)
    noise = lambda: torch.randn(x.size(), dtype=x.dtype, generator=gen)
    old = None
    for i in range(len(sigmas) - 1):
        den = model(x, sigmas[i])
        if sampler in ("euler", "ddim"):
            x = x + to_d(x, sigmas[i], den) * (sigmas[i + 1] - sigmas[i])
        elif sampler == "euler_ancestral":
            down, up = ancestral_step(sigmas[i], sigmas[i + 1], eta)
            if down == 0:
                x = den
            else:
                x = x + to_d(x, sigmas[i], den) * (down - sigmas[i]) + noise() * s_noise * up
        elif sampler == "lcm":
            x = den
            if sigmas[i + 1] > 0:
                x = noise() * sigmas[i + 1] + x
        elif sampler == "dpmpp_2m":
            t, tn = sigmas[i].log().neg(), sigmas[i + 1].log().neg()
            h = tn - t
            if old is None or sigmas[i + 1] == 0:
                x = (tn.neg().exp() / t.neg().exp()) * x - (-h).expm1() * den
            else:
                r = (t - sigmas[i - 1].log().neg()) / h
                dd = (1 + 1 / (2 * r)) * den - (1 / (2 * r)) * old
                x = (tn.neg().exp() / t.neg().exp()) * x - (-h).expm1() * dd
            old = den
    return x


def f32(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "nodes/diffusion/sampling/testdata"
    os.makedirs(outdir, exist_ok=True)
    s = Discrete()
    probes = [0.0292, 0.1, 1.0, 3.5, 14.6146, 20.0]
    tprobes = [0.0, 0.5, 1.25, 499.5, 998.999, 999.0]
    disc = {"sigmas": f32(s.sigmas), "log_sigmas": f32(s.log_sigmas),
            "sigma_min": float(s.sigma_min), "sigma_max": float(s.sigma_max),
            "timestep": [{"sigma": p, "t": int(s.timestep(torch.tensor(p)))} for p in probes],
            "sigma": [{"t": t, "sigma": float(s.sigma(torch.tensor(t)))} for t in tprobes],
            "percent_to_sigma": [{"percent": p, "sigma": s.percent_to_sigma(p)} for p in [0.0, 0.1, 0.5, 0.9, 1.0]]}
    write(outdir, "discrete.json", disc)

    sched = []
    for name in SCHEDULERS:
        for steps in (1, 4, 20):
            for denoise in (1.0, 0.5):
                if name == "kl_optimal" and steps == 1 and denoise == 1.0:
                    continue  # 0/0 in ComfyUI: a NaN sigma
                sched.append({"scheduler": name, "steps": steps, "denoise": denoise, "sampler": "euler",
                              "sigmas": f32(ksampler_sigmas(s, name, steps, denoise))})
        sched.append({"scheduler": name, "steps": 4, "denoise": 1.0, "sampler": "dpm_2",
                      "sigmas": f32(ksampler_sigmas(s, name, 4, 1.0, discard=True))})
    write(outdir, "schedules.json", sched)
    write(outdir, "samplers.json", sampler_cases(s))


def sampler_cases(s):
    shape = [1, 4, 8, 8]
    m = torch.linspace(-1, 1, 256).reshape(shape)
    model = lambda x, sigma: m + (x - m) / (1 + sigma ** 2)
    image = torch.cos(torch.arange(256, dtype=torch.float32) * 0.37).reshape(shape) * 0.8
    cases = []
    runs = [(sampler, mode, scheduler, steps, denoise, seed, 1.0, 1.0)
            for sampler in ("euler", "euler_ancestral", "lcm", "dpmpp_2m", "ddim")
            for mode, scheduler, steps, denoise, seed in (("txt2img", "normal", 20, 1.0, 42),
                                                          ("img2img", "karras", 4, 0.5, 156680208700286))]
    runs.append(("euler_ancestral", "txt2img", "simple", 8, 1.0, 3, 0.5, 0.8))
    for sampler, mode, scheduler, steps, denoise, seed, eta, s_noise in runs:
        sigmas = ksampler_sigmas(s, scheduler, steps, denoise)
        latent = torch.zeros(shape) if mode == "txt2img" else image
        noise = torch.randn(shape, generator=torch.manual_seed(seed))
        smax, s0 = float(s.sigma_max), float(sigmas[0])
        if math.isclose(smax, s0, rel_tol=1e-05) or s0 > smax:
            x = noise * torch.sqrt(1.0 + sigmas[0] ** 2.0) + latent
        else:
            x = noise * sigmas[0] + latent
        out = run(sampler, model, x, sigmas, seed, eta, s_noise)
        cases.append({"sampler": sampler, "mode": mode, "scheduler": scheduler, "steps": steps,
                      "denoise": denoise, "seed": seed, "eta": eta, "s_noise": s_noise, "shape": shape, "mean": f32(m),
                      "latent": f32(latent), "out": f32(out)})
    x = torch.linspace(-2, 2, 16)
    model_out = torch.linspace(1, -1, 16) * 0.5
    den = []
    for sigma in (0.5, 3.0):
        eps = x - model_out * sigma
        v = x * 1.0 / (sigma ** 2 + 1.0) - model_out * sigma * 1.0 / (sigma ** 2 + 1.0) ** 0.5
        den.append({"sigma": sigma, "x": f32(x), "model_out": f32(model_out), "eps": f32(eps), "v": f32(v)})
    # prepare_noise with a batch_index: one randn per item for indices
    # 0 ... max, item k gets draw batch_index[k].
    inds, seed = [2, 0, 2, 5], 7
    gen = torch.manual_seed(seed)
    draws = [torch.randn([1, 4, 4, 4], generator=gen) for _ in range(max(inds) + 1)]
    batched = torch.cat([draws[i] for i in inds], 0)
    whole = torch.randn([2, 4, 4, 4], generator=torch.manual_seed(seed))
    noise = {"seed": seed, "batch_index": inds, "item": [1, 4, 4, 4], "out": f32(batched), "whole2": f32(whole)}
    return {"runs": cases, "denoised": den, "noise": noise}


def write(outdir, name, doc):
    with open(os.path.join(outdir, name), "w") as f:
        json.dump({"torch": torch.__version__, "data": doc}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
