#!/usr/bin/env python3
"""Reference values for comfyrt's ModelSamplingDiscrete variants.

Rederives, with PyTorch 1.13 on the CPU and without importing ComfyUI, the
formulas of ComfyUI's comfy/model_sampling.py (ModelSamplingDiscrete with
zsnr, rescale_zero_terminal_snr_sigmas, EPS, X0, IMG_TO_IMG),
comfy_extras/nodes_model_advanced.py (LCM, ModelSamplingDiscreteDistilled with
original_timesteps 50) and comfy/ldm/modules/diffusionmodules/util.py
(make_beta_schedule: linear, sqrt_linear, squaredcos_cap_v2 through
betas_for_alpha_bar), in ComfyUI's dtypes (float64 betas and cumulative
product, float32 sigma tables and latents).

Writes (default nodes/diffusion/sampling/testdata) model_sampling.json: per
case (beta schedule, zsnr, distilled) the sigma and log-sigma tables,
timestep(sigma) and sigma(t) for a few values, percent_to_sigma, and the
sgm_uniform schedule at 1 and 4 steps (the LCM workflows' scheduler); and
calculate_denoised of lcm, x0 and img_to_img (with calculate_input's c_in)
on a small latent.

Usage: /usr/bin/python3 scripts/reference/model_sampling.py [OUTDIR]
"""
import json
import math
import os
import sys

import torch


def make_beta_schedule(schedule, n, start, end):
    if schedule == "linear":
        return torch.linspace(start ** 0.5, end ** 0.5, n, dtype=torch.float64) ** 2
    if schedule == "sqrt_linear":
        return torch.linspace(start, end, n, dtype=torch.float64)
    if schedule == "squaredcos_cap_v2":
        def alpha_bar(t):
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = [min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)]
        return torch.tensor(betas, dtype=torch.float64)
    raise ValueError(schedule)


def zero_terminal_snr(sigmas):
    ac = 1 / ((sigmas * sigmas) + 1)
    s = ac.sqrt()
    s0 = s[0].clone()
    sT = s[-1].clone()
    s -= sT
    s *= s0 / (s0 - sT)
    bar = s ** 2
    bar[-1] = 4.8973451890853435e-08
    return ((1 - bar) / bar) ** 0.5


class Discrete:
    def __init__(self, schedule="linear", zsnr=False, distilled=False, n=1000, start=0.00085, end=0.012):
        betas = make_beta_schedule(schedule, n, start, end)
        ac = torch.cumprod(1.0 - betas, dim=0)
        sigmas = ((1 - ac) / ac) ** 0.5
        if zsnr:
            sigmas = zero_terminal_snr(sigmas)
        self.set(sigmas)
        self.skip = 1
        if distilled:
            orig = 50
            self.skip = n // orig
            valid = torch.zeros((orig,), dtype=torch.float32)
            for x in range(orig):
                valid[orig - 1 - x] = self.sigmas[n - 1 - x * self.skip]
            self.set(valid)

    def set(self, sigmas):
        self.sigmas = sigmas.float()
        self.log_sigmas = sigmas.log().float()

    def timestep(self, sigma):
        sigma = torch.as_tensor(sigma, dtype=torch.float32)
        dists = sigma.log() - self.log_sigmas[:, None]
        return dists.abs().argmin(dim=0).view(sigma.shape) * self.skip + (self.skip - 1)

    def sigma(self, t):
        t = torch.as_tensor(t, dtype=torch.float32)
        t = torch.clamp(((t - (self.skip - 1)) / self.skip).float(), min=0, max=len(self.sigmas) - 1)
        lo, hi, w = t.floor().long(), t.ceil().long(), t.frac()
        return ((1 - w) * self.log_sigmas[lo] + w * self.log_sigmas[hi]).exp()

    def percent_to_sigma(self, p):
        if p <= 0.0:
            return 999999999.9
        if p >= 1.0:
            return 0.0
        return self.sigma(torch.tensor((1.0 - p) * 999.0)).item()


def sgm_uniform(s, steps):
    start = s.timestep(s.sigmas[-1])
    end = s.timestep(s.sigmas[0])
    ts = torch.linspace(start, end, steps + 1)[:-1]
    sigs = [float(s.sigma(t)) for t in ts]
    sigs += [0.0]
    return sigs


def case(name, **kw):
    s = Discrete(**kw)
    probe = [float(s.sigmas[0]), 0.5, 1.0, 3.3, float(s.sigmas[-1]) if math.isfinite(float(s.sigmas[-1])) else 100.0]
    return {
        "name": name, **kw,
        "sigmas": [float(v) for v in s.sigmas], "log_sigmas": [float(v) for v in s.log_sigmas],
        "timestep": [{"sigma": p, "t": int(s.timestep(torch.tensor([p], dtype=torch.float32))[0])} for p in probe],
        "sigma": [{"t": t, "sigma": float(s.sigma(torch.tensor(t)))} for t in [0.0, 19.0, 250.5, 500.0, 998.7, 999.0]],
        "percent": [{"percent": p, "sigma": s.percent_to_sigma(p)} for p in [0.0, 0.1, 0.5, 0.77, 1.0]],
        "sgm_uniform": {str(n): sgm_uniform(s, n) for n in [1, 4]},
    }


def denoised_cases():
    torch.manual_seed(7)
    x = torch.randn(1, 4, 2, 3)
    out = torch.randn(1, 4, 2, 3)
    s = Discrete(distilled=True)
    res = []
    for sigma in [14.614641189575195, 0.9, 0.1]:
        sg = torch.tensor([sigma], dtype=torch.float32)
        t = s.timestep(sg).view(1, 1, 1, 1)
        sv = sg.view(1, 1, 1, 1)
        x0 = x - out * sv
        st = t * 10.0
        c_skip = 0.5 ** 2 / (st ** 2 + 0.5 ** 2)
        c_out = st / (st ** 2 + 0.5 ** 2) ** 0.5
        lcm = c_out * x0 + c_skip * x
        c_in = 1 / (sv ** 2 + 1.0) ** 0.5
        res.append({"sigma": sigma, "lcm": lcm.flatten().tolist(), "x0": out.flatten().tolist(),
                    "eps_c_in": float(c_in.flatten()[0]), "img_to_img_c_in": 1.0})
    return {"x": x.flatten().tolist(), "out": out.flatten().tolist(), "cases": res}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "nodes", "diffusion", "sampling", "testdata")
    data = {
        "cases": [
            case("sd15"), case("sqrt_linear", schedule="sqrt_linear"),
            case("squaredcos_cap_v2", schedule="squaredcos_cap_v2"),
            case("zsnr", zsnr=True), case("lcm", distilled=True), case("lcm_zsnr", distilled=True, zsnr=True),
        ],
        "denoised": denoised_cases(),
    }
    with open(os.path.join(out, "model_sampling.json"), "w") as f:
        json.dump({"torch": torch.__version__, "data": data}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
