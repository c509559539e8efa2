#!/usr/bin/env python3
"""Reference values for comfyrt's nodes/diffusion/torchrand (PyTorch's CPU generator).

Runs PyTorch (Debian's python3-torch, 1.13) on the CPU and writes what
torch.manual_seed + torch.randn / torch.rand draw, as float32 bit patterns
(uint32, so the comparison is exact), for several seeds and shapes:

  - seeds 0, 1, 42, 2**32 + 5 (torch's engine takes the low 32 bits),
    a large 64-bit one, -1 (Python's negative seeds), ComfyUI's default
    KSampler seed 156680208700286 and torch's default seed;
  - shapes with fewer than 16 elements (the double Box-Muller path), exactly
    16, 17 (the recomputed last block), 31, and the latent shapes
    [2, 4, 8, 8] and (seeds 0 and ComfyUI's default only) [1, 4, 64, 64];
  - successive draws from one generator (state carried across calls,
    including the cached normal of the scalar path), and from a generator
    never seeded (torch's default seed);
  - ComfyUI's noise: prepare_noise (torch.manual_seed(seed), one randn of the
    latent's size) then default_noise_sampler's step noise (a generator
    seeded with seed + 1 on the CPU, one randn per step).

Each case is run twice: with the CPU capability torch picks here (AVX2 on
x86-64) and with ATEN_CPU_CAPABILITY=default (the scalar libm transform),
in a subprocess each.

Usage: /usr/bin/python3 scripts/reference/torchrand.py [OUTDIR]
(default nodes/diffusion/torchrand/testdata). Writes randn_avx2.json and
randn_default.json.
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch

SEEDS = [0, 1, 42, 2**32 + 5, 0xDEADBEEFCAFEF00D, -1, 156680208700286, 67280421310721]
SHAPES = [[1], [3], [15], [16], [17], [31], [2, 4, 8, 8], [1, 4, 64, 64]]


def bits(t):
    return t.contiguous().view(-1).numpy().astype(np.float32).view(np.uint32).tolist()


def draw(seed, fn, shape):
    g = torch.Generator()
    g.manual_seed(seed)
    return fn(shape, generator=g, dtype=torch.float32)


def cases():
    out = []
    for seed in SEEDS:
        for shape in SHAPES:
            if shape == [1, 4, 64, 64] and seed not in (0, 156680208700286):
                continue
            out.append({"name": "randn", "seed": seed, "shapes": [shape],
                        "draws": [bits(draw(seed, torch.randn, shape))]})
    for seed in [0, 42]:
        out.append({"name": "rand", "seed": seed, "shapes": [[20]],
                    "draws": [bits(draw(seed, torch.rand, [20]))]})
    # successive draws on one generator: scalar path with a cached value,
    # then the vector path, then scalar again, and a latent twice.
    for seed, shapes in [(7, [[3], [1], [17], [2], [16]]), (42, [[1, 4, 8, 8], [1, 4, 8, 8]])]:
        g = torch.Generator()
        g.manual_seed(seed)
        draws = [bits(torch.randn(s, generator=g)) for s in shapes]
        out.append({"name": "successive", "seed": seed, "shapes": shapes, "draws": draws})
    # a generator never seeded starts from torch's default seed.
    g = torch.Generator()
    out.append({"name": "unseeded", "seed": g.initial_seed(), "shapes": [[5], [40]],
                "draws": [bits(torch.randn([5], generator=g)), bits(torch.randn([40], generator=g))]})
    # torch.manual_seed (the global generator, as ComfyUI's prepare_noise).
    torch.manual_seed(5)
    out.append({"name": "global", "seed": 5, "shapes": [[2, 3]], "draws": [bits(torch.randn([2, 3]))]})
    # ComfyUI: initial noise, then step noise from a CPU generator seeded seed+1.
    seed, shape = 156680208700286, [1, 4, 8, 8]
    g = torch.manual_seed(seed)
    noise = torch.randn(shape, generator=g)
    steps = torch.Generator()
    steps.manual_seed(seed + 1)
    out.append({"name": "comfyui_noise", "seed": seed, "shapes": [shape] * 3,
                "draws": [bits(noise)] + [bits(torch.randn(shape, generator=steps)) for _ in range(2)]})
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        json.dump(cases(), sys.stdout)
        return
    outdir = sys.argv[1] if len(sys.argv) > 1 else "nodes/diffusion/torchrand/testdata"
    os.makedirs(outdir, exist_ok=True)
    for name, cap in [("avx2", None), ("default", "default")]:
        env = dict(os.environ)
        if cap:
            env["ATEN_CPU_CAPABILITY"] = cap
        got = subprocess.run([sys.executable, __file__, "--child"], env=env, check=True,
                             capture_output=True, text=True).stdout
        doc = {"torch": torch.__version__, "capability": name, "cases": json.loads(got)}
        with open(os.path.join(outdir, "randn_%s.json" % name), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
