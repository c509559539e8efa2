#!/usr/bin/env python3
"""Reference values for comfyrt's nodes/diffusion/streamdiff.

Rederives, with PyTorch 1.13 on the CPU and without importing diffusers or
StreamDiffusion, the published formulas of:
  - diffusers 0.24 LCMScheduler: set_timesteps (k = 1000 // original steps,
    training timesteps k*i - 1, every (original // steps)-th from the last,
    the first `steps`), alphas_cumprod of SD1.5's scaled-linear betas in
    float32, get_scalings_for_boundary_condition_discrete (timestep_scaling
    10, sigma_data 0.5);
  - StreamDiffusion (pipeline.py): prepare's init noise
    (torch.randn((n,4,h,w)) of a generator seeded with the seed), the
    denoising batch's predict_x0_batch / unet_step / scheduler_step_batch
    for a frame buffer of one with cfg_type none, full, self and initialize,
    do_add_noise on and off, and the sequential mode (its re-noise drawn
    from a generator seeded seed + 1 instead of the global one);
  - SimilarImageFilter's cosine similarity and skip probability.

The UNet is a closed-form epsilon model, eps(x, t, negative) =
0.5 x + 0.001 t + (-0.1 if negative else 0.2), elementwise.

Writes (default nodes/diffusion/streamdiff/testdata) streamdiff.json.

Usage: /usr/bin/python3 scripts/reference/streamdiff.py [OUTDIR]
"""
import json
import os
import sys

import torch


def lcm_timesteps(train, original, steps):
    k = train // original
    origin = [i * k - 1 for i in range(1, original + 1)]
    skip = len(origin) // steps
    return origin[::-skip][:steps]


def alphas_cumprod(train=1000, start=0.00085, end=0.012):
    betas = torch.linspace(start ** 0.5, end ** 0.5, train, dtype=torch.float32) ** 2
    return torch.cumprod(1.0 - betas, dim=0)


def schedule(steps, t_index):
    ts = lcm_timesteps(1000, 50, steps)
    ac = alphas_cumprod()
    t = [ts[i] for i in t_index]
    out = {"steps": steps, "t_index": t_index, "timesteps": ts, "t": t,
           "alpha_sqrt": [], "beta_sqrt": [], "c_skip": [], "c_out": []}
    for v in t:
        a = ac[v]
        out["alpha_sqrt"].append(float(a.sqrt()))
        out["beta_sqrt"].append(float((1 - a).sqrt()))
        st = torch.tensor(float(v) * 10.0, dtype=torch.float32)
        out["c_skip"].append(float(0.25 / (st ** 2 + 0.25)))
        out["c_out"].append(float(st / (st ** 2 + 0.25) ** 0.5))
    return out


def eps_model(x, ts, neg):
    rows = []
    for i in range(x.shape[0]):
        rows.append(0.5 * x[i] + 0.001 * float(ts[i]) + (-0.1 if neg[i] else 0.2))
    return torch.stack(rows)


class Stream:
    def __init__(self, sch, shape, cfg, g, delta, add_noise, batch, seed):
        n = len(sch["t"])
        self.n, self.cfg, self.add_noise, self.batch = n, cfg, add_noise, batch
        self.g = g if cfg != "none" else 1.0
        self.delta = delta
        col = lambda k: torch.tensor(sch[k], dtype=torch.float32).view(n, 1, 1, 1)
        self.a, self.b, self.cs, self.co = col("alpha_sqrt"), col("beta_sqrt"), col("c_skip"), col("c_out")
        self.t = list(sch["t"])
        rows = n if batch else 1
        gen = torch.Generator()
        gen.manual_seed(seed)
        self.init = torch.randn((rows,) + shape, generator=gen)
        self.stock = torch.zeros_like(self.init)
        self.buf = torch.zeros((n - 1,) + shape)
        self.step_gen = torch.Generator()
        self.step_gen.manual_seed(seed + 1)
        self.shape = shape

    def encode(self, latent):
        return self.a[0] * latent + self.b[0] * self.init[0]

    def guided(self, x, ts):
        guide = self.g > 1.0
        if guide and self.cfg == "initialize":
            xin, tin, neg = torch.cat([x[0:1], x]), [ts[0]] + ts, [True] + [False] * len(ts)
        elif guide and self.cfg == "full":
            xin, tin, neg = torch.cat([x, x]), ts + ts, [True] * len(ts) + [False] * len(ts)
        else:
            xin, tin, neg = x, ts, [False] * len(ts)
        e = eps_model(xin, tin, neg)
        if guide and self.cfg == "initialize":
            text = e[1:]
            self.stock = torch.cat([e[0:1], self.stock[1:]])
        elif guide and self.cfg == "full":
            unc, text = e.chunk(2)
        else:
            text = e
        if guide and self.cfg in ("self", "initialize"):
            unc = self.stock * self.delta
        if guide:
            return unc + self.g * (text - unc)
        return text

    def step_x0(self, pred, x, a, b, cs, co):
        return co * ((x - b * pred) / a) + cs * x

    def __call__(self, xt):
        if self.batch:
            return self.call_batch(xt)
        return self.call_seq(xt)

    def call_batch(self, xt):
        n = self.n
        x = torch.cat([xt.unsqueeze(0), self.buf]) if n > 1 else xt.unsqueeze(0)
        if n > 1:
            self.stock = torch.cat([self.init[0:1], self.stock[:-1]])
        pred = self.guided(x, list(self.t))
        den = self.step_x0(pred, x, self.a, self.b, self.cs, self.co)
        if self.cfg in ("self", "initialize"):
            sn = self.b * self.stock
            dx = self.step_x0(pred, sn, self.a, self.b, self.cs, self.co)
            an = torch.cat([self.a[1:], torch.ones_like(self.a[0:1])])
            bn = torch.cat([self.b[1:], torch.ones_like(self.b[0:1])])
            dx = an * dx
            dx = dx / bn
            self.stock = torch.cat([self.init[1:], self.init[0:1]]) + dx
        if n > 1:
            if self.add_noise:
                self.buf = self.a[1:] * den[:-1] + self.b[1:] * self.init[1:]
            else:
                self.buf = self.a[1:] * den[:-1]
        return den[-1]

    def call_seq(self, xt):
        self.init = xt.unsqueeze(0).clone()
        x = xt.unsqueeze(0)
        for idx in range(self.n):
            pred = self.guided(x, [self.t[idx]])
            x0 = self.step_x0(pred, x, self.a[idx], self.b[idx], self.cs[idx], self.co[idx])
            if idx < self.n - 1:
                if self.add_noise:
                    z = torch.randn((1,) + self.shape, generator=self.step_gen)
                    x = self.a[idx + 1] * x0 + self.b[idx + 1] * z
                else:
                    x = self.a[idx + 1] * x0
        return x0[0]


def streams():
    shape = (4, 4, 4)
    size = 4 * 4 * 4
    frames = [torch.linspace(-1.0, 1.0, size).view(shape) * (k + 1) / 4 + 0.1 * k for k in range(5)]
    cases = []
    for cfg in ("none", "full", "self", "initialize"):
        for add_noise in (True, False):
            cases.append((cfg, 1.2, 1.0, add_noise, True, [39, 35, 30]))
    cases += [("self", 1.5, 0.5, True, True, [32, 45]), ("self", 1.2, 1.0, True, True, [20]),
              ("none", 1.2, 1.0, True, False, [39, 35, 30]), ("full", 2.0, 1.0, False, False, [39, 35, 30]),
              ("initialize", 1.4, 0.8, True, False, [10, 40])]
    out = []
    for cfg, g, delta, add_noise, batch, t_index in cases:
        sch = schedule(50, t_index)
        s = Stream(sch, shape, cfg, g, delta, add_noise, batch, 7)
        res = {"cfg": cfg, "guidance": g, "delta": delta, "add_noise": add_noise, "batch": batch,
               "seed": 7, "steps": 50, "t_index": t_index, "shape": list(shape),
               "frames": [f.flatten().tolist() for f in frames], "outputs": []}
        for f in frames:
            res["outputs"].append(s(s.encode(f)).flatten().tolist())
        out.append(res)
    return out


def filters():
    cos = torch.nn.CosineSimilarity(dim=0, eps=1e-6)
    base = torch.linspace(-1, 1, 48)
    out = []
    for k, thr in enumerate([0.98, 0.9, 0.5, 1.0]):
        other = base + 0.05 * (k + 1) * torch.sin(torch.arange(48, dtype=torch.float32))
        c = cos(base, other).item()
        prob = 0.0 if thr >= 1 else max(0.0, 1 - (1 - c) / (1 - thr))
        out.append({"threshold": thr, "x": base.tolist(), "y": other.tolist(), "cos": c, "prob": prob})
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "nodes/diffusion/streamdiff/testdata"
    os.makedirs(outdir, exist_ok=True)
    data = {"schedules": [schedule(50, [39, 35, 30]), schedule(50, [32, 45]), schedule(4, [0, 1, 2, 3]),
                          schedule(8, [3, 5]), schedule(1, [0]), schedule(7, [6])],
            "streams": streams(), "filters": filters()}
    with open(os.path.join(outdir, "streamdiff.json"), "w") as f:
        json.dump(data, f)


if __name__ == "__main__":
    main()
