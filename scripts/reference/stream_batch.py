#!/usr/bin/env python3
"""Reference values for comfyrt's Stream-Pack batched denoising
(nodes/builtin/sd_stream_batch.go).

Rederives, with PyTorch 1.13 on the CPU and without importing ComfyUI or
the pack, the published lines of:
  - livepeer/ComfyUI-Stream-Pack, branch add_batched_denoising @4e883d8,
    src/batched_denoising/batched_denoising.py: StreamScheduler.update (the
    normal schedule's sigmas at sorted(t_index_list, reverse=True), indexes
    outside [0, steps) dropped, 0 appended, a FloatTensor) and
    StreamBatchSampler.sample (txt2img mode when sum|noise| < 1e-5: fresh
    normal_() draws; the stock noise drawn once per item shape and added
    x sigma to each item outside txt2img mode; with more than one item,
    item 0 replaced by x_t_latent_buffer, which is set from item 0 on the
    first frame and in txt2img mode and becomes item 0's denoised latent;
    with one item the output is the denoised batch and the buffer is
    dropped);
  - ComfyUI's SamplerCustom around it: prepare_noise (torch.manual_seed
    (seed), randn of the batch) or zeros with add_noise off,
    process_latent_in (x 0.18215 when any value is non-zero), EPS
    noise_scaling at sigmas[0] (x sqrt(1 + sigma^2) when sigmas[0] is
    sigma_max), the model call per row (c_in = 1/sqrt(sigma^2 + 1), the
    timestep of each row's sigma, denoised = x - eps * sigma, cfg on the
    denoised predictions) and process_latent_out (/ 0.18215).

The draws (txt2img mode's, the stock noise) come from torch's default
generator, which is seeded with the seed when a run starts (ComfyUI leaves
it in whatever state; comfyrt assumes that seed) and reseeded by
prepare_noise on each frame with add_noise on.

The UNet is a closed-form epsilon model, eps(x, t, negative) =
0.5 x + 0.001 t + (-0.1 if negative else 0.2), elementwise.

Writes (default nodes/builtin/testdata) stream_batch.json.

Usage: /usr/bin/python3 scripts/reference/stream_batch.py [OUTDIR]
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sampling import Discrete, normal  # noqa: E402

SCALE = 0.18215
SHAPE = (4, 4, 4)


def stream_scheduler(s, t_index_list, steps):
    try:
        idx = [int(t.strip()) for t in t_index_list.split(",")]
    except ValueError:
        idx = [32, 45]
    full = normal(s, steps)
    out = [float(full[t]) for t in sorted(idx, reverse=True) if 0 <= t < steps]
    return torch.FloatTensor(out + [0.0])


def eps_model(x, t, neg):
    return 0.5 * x + 0.001 * t + (-0.1 if neg else 0.2)


def model(s, x, sigmas, cfg):
    """ComfyUI's CFG-guided model call on a batch, one sigma per row."""
    rows = []
    for r in range(x.shape[0]):
        sg = sigmas[r]
        xin = x[r] / (sg ** 2 + 1.0) ** 0.5
        t = float(s.timestep(sg))
        cond = x[r] - eps_model(xin, t, False) * sg
        unc = x[r] - eps_model(xin, t, True) * sg
        rows.append(unc + (cond - unc) * cfg)
    return torch.stack(rows)


class Pack:
    """StreamBatchSampler's instance state and sample."""

    def __init__(self):
        self.x_t_latent_buffer = None
        self.stock_noise = None

    def sample(self, s, noise, sigmas, cfg):
        n = len(sigmas) - 1
        txt2img = torch.abs(noise).sum() < 1e-5
        if txt2img:
            x = torch.empty_like(noise)
            x.normal_()
        else:
            x = noise
        if self.stock_noise is None or self.stock_noise.shape != noise[0].shape:
            self.stock_noise = torch.empty_like(noise[0])
            self.stock_noise.normal_()
        if not txt2img:
            x = noise + self.stock_noise.expand(noise.shape[0], *self.stock_noise.shape) * sigmas[:-1].view(-1, 1, 1, 1)
        if (self.x_t_latent_buffer is None or txt2img) and n > 1:
            self.x_t_latent_buffer = x[0].clone()
        if n > 1:
            x[0].copy_(self.x_t_latent_buffer)
        den = model(s, x, sigmas[:-1], cfg)
        if n > 1:
            self.x_t_latent_buffer = den[0].clone()
            return den[-1:]
        self.x_t_latent_buffer = None
        return den


def sampler_custom(s, pack, latent, seed, add_noise, cfg, sigmas):
    if add_noise:
        g = torch.manual_seed(seed)
        noise = torch.randn(latent.size(), generator=g)
    else:
        noise = torch.zeros_like(latent)
    if torch.count_nonzero(latent) > 0:
        latent = latent * SCALE
    s0 = sigmas[0]
    smax = float(s.sigma_max)
    if math.isclose(smax, float(s0), rel_tol=1e-05) or float(s0) > smax:
        noise = noise * torch.sqrt(1.0 + s0 ** 2.0)
    else:
        noise = noise * s0
    noise = noise + latent
    return pack.sample(s, noise, sigmas, cfg) / SCALE


def frame_latent(b, k, zero):
    n = b * SHAPE[0] * SHAPE[1] * SHAPE[2]
    if zero:
        return torch.zeros((b,) + SHAPE)
    return (torch.linspace(-1.0, 1.0, n) * (k + 1) / 4 + 0.1 * k).view((b,) + SHAPE)


def run_case(s, name, seed, add_noise, cfg, plan):
    """plan: one (t_index_list, zero latent) per frame, on one instance."""
    torch.manual_seed(seed)
    pack = Pack()
    frames = []
    for k, (t_index, zero) in enumerate(plan):
        sigmas = stream_scheduler(s, t_index, 50)
        lat = frame_latent(len(sigmas) - 1, k, zero)
        out = sampler_custom(s, pack, lat, seed, add_noise, cfg, sigmas)
        xt = pack.x_t_latent_buffer
        frames.append({"t_index": t_index, "sigmas": [float(v) for v in sigmas],
                       "latent": lat.flatten().tolist(), "output": out.flatten().tolist(),
                       "xt": None if xt is None else xt.flatten().tolist()})
    return {"name": name, "seed": seed, "add_noise": add_noise, "cfg": cfg, "shape": list(SHAPE), "frames": frames}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "nodes/builtin/testdata"
    os.makedirs(outdir, exist_ok=True)
    s = Discrete()
    b3, b2 = "0,16,32", "10,30"
    cases = [
        run_case(s, "add_noise B=3", 977567268563782, True, 2.5, [(b3, False)] * 4),
        run_case(s, "add_noise off B=3", 42, False, 2.5, [(b3, False)] * 4),
        run_case(s, "txt2img B=3", 7, False, 2.0, [(b3, True), (b3, True), (b3, False), (b3, True)]),
        run_case(s, "B=1 max denoise", 11, True, 2.5, [("0", False)] * 3),
        run_case(s, "add_noise off B=1", 5, False, 1.5, [("20", False)] * 3),
        run_case(s, "B=2 then 1 then 2", 3, True, 2.5, [(b2, False), (b2, False), ("20", False), (b2, False)]),
    ]
    sched = [{"t_index": t, "steps": 50, "sigmas": [float(v) for v in stream_scheduler(s, t, 50)]}
             for t in (b3, b2, "0", "20", "49,-1,50,3,3", "a,1")]
    with open(os.path.join(outdir, "stream_batch.json"), "w") as f:
        json.dump({"sigma_max": float(s.sigma_max), "schedulers": sched, "cases": cases}, f)


if __name__ == "__main__":
    main()
