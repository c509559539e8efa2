#!/usr/bin/env python3
"""Reference values for comfyrt's LatentUpscale and LatentUpscaleBy kernels.

Rederives, with PyTorch 1.13 on the CPU and without importing ComfyUI, what
ComfyUI's nodes.py LatentUpscale / LatentUpscaleBy and comfy.utils
common_upscale do to a LATENT [B, C, H, W] (float32):

  - the target size: LatentUpscale with width = height = 0 passes through;
    one of them 0 keeps the aspect (the other max(64, round(...)), Python's
    round), the given ones at least 64, and the latent side is size // 8;
    LatentUpscaleBy rounds side * scale_by;
  - crop "center": the window of the target's aspect, offsets rounded;
  - nearest-exact, bilinear, area, bicubic: torch.nn.functional.interpolate
    (area is adaptive average pooling);
  - bislerp: along the width, then along the height, every output pixel's
    channel vector is the spherical interpolation of its two neighbours
    taken from a bilinear resize of the index ramp (fraction = ratio,
    truncation = index; the second ramp shifted by one, its last entry
    kept), with the length interpolated linearly; a parallel pair gives
    the first vector, an opposite one the linear mix.

The input has a zero pixel, a parallel pair and an opposite pair so that
bislerp's edge cases are covered.

Writes nodes/builtin/testdata/latent_upscale.json (or OUT).
Usage: /usr/bin/python3 scripts/reference/latent_upscale.py [OUT]
"""
import json
import sys

import torch
import torch.nn.functional as F


def target(node, shape, params):
    h, w = shape[2], shape[3]
    if node == "LatentUpscaleBy":
        s = params["scale_by"]
        return round(h * s), round(w * s), False
    tw, th = params["width"], params["height"]
    if tw == 0 and th == 0:
        return None, None, False
    if tw == 0:
        th = max(64, th)
        tw = max(64, round(w * th / h))
    elif th == 0:
        tw = max(64, tw)
        th = max(64, round(h * tw / w))
    else:
        tw, th = max(64, tw), max(64, th)
    return th // 8, tw // 8, params["crop"] == "center"


def crop_window(x, oh, ow):
    h, w = x.shape[2], x.shape[3]
    old, new = w / h, ow / oh
    dx = dy = 0
    if old > new:
        dx = round((w - w * (new / old)) / 2)
    elif old < new:
        dy = round((h - h * (old / new)) / 2)
    return x[:, :, dy:h - dy, dx:w - dx]


def ramp_neighbours(n_old, n_new):
    """Ratios and the two neighbour indices along one axis."""
    ramp = torch.arange(n_old, dtype=torch.float32).view(1, 1, 1, n_old)
    first = F.interpolate(ramp, size=(1, n_new), mode="bilinear")
    shifted = ramp + 1
    shifted[..., -1] = n_old - 1
    second = F.interpolate(shifted, size=(1, n_new), mode="bilinear")
    return (first - first.floor()).flatten(), first.flatten().long(), second.flatten().long()


def slerp_vectors(a, b, t):
    """a, b: [..., C]; t: [...] ratios."""
    na, nb = a.norm(dim=-1), b.norm(dim=-1)
    ua = torch.where(na[..., None] == 0, torch.zeros_like(a), a / na[..., None])
    ub = torch.where(nb[..., None] == 0, torch.zeros_like(b), b / nb[..., None])
    cos = (ua * ub).sum(-1)
    ang = torch.acos(cos)
    s = torch.sin(ang)
    out = (torch.sin((1.0 - t) * ang) / s)[..., None] * ua + (torch.sin(t * ang) / s)[..., None] * ub
    out = out * (na * (1.0 - t) + nb * t)[..., None]
    out = torch.where((cos > 1 - 1e-5)[..., None], a, out)
    lin = a * (1.0 - t)[..., None] + b * t[..., None]
    return torch.where((cos < 1e-5 - 1)[..., None], lin, out)


def bislerp(x, oh, ow):
    v = x.permute(0, 2, 3, 1)  # [B, H, W, C]
    r, i1, i2 = ramp_neighbours(v.shape[2], ow)
    v = slerp_vectors(v[:, :, i1, :], v[:, :, i2, :], r.view(1, 1, -1))
    r, i1, i2 = ramp_neighbours(v.shape[1], oh)
    v = slerp_vectors(v[:, i1, :, :], v[:, i2, :, :], r.view(1, -1, 1))
    return v.permute(0, 3, 1, 2).contiguous()


def upscale(x, node, params):
    oh, ow, crop = target(node, list(x.shape), params)
    if oh is None:
        return x
    if crop:
        x = crop_window(x, oh, ow)
    if params["upscale_method"] == "bislerp":
        return bislerp(x, oh, ow)
    return F.interpolate(x, size=(oh, ow), mode=params["upscale_method"])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "nodes/builtin/testdata/latent_upscale.json"
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 7)
    x[0, :, 0, 0] = 0
    x[0, :, 1, 1] = 2 * x[0, :, 1, 2]
    x[1, :, 2, 3] = -x[1, :, 2, 4]
    cases = []
    methods = ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]
    sizes = [(96, 64, "disabled"), (96, 64, "center"), (0, 80, "disabled"), (72, 0, "center"), (64, 64, "center"),
             (0, 0, "disabled")]
    for m in methods:
        for w, h, crop in sizes:
            cases.append(("LatentUpscale", {"upscale_method": m, "width": w, "height": h, "crop": crop}))
        for s in (1.5, 0.6):
            cases.append(("LatentUpscaleBy", {"upscale_method": m, "scale_by": s}))
    def values(t):  # float32 values, 9 significant digits (exact)
        return [float(f"{v:.9g}") for v in t.flatten().tolist()]

    res = {"input": {"shape": list(x.shape), "data": values(x)}, "cases": []}
    for node, params in cases:
        y = upscale(x, node, params)
        res["cases"].append({"node": node, "params": params, "shape": list(y.shape), "data": values(y)})
    with open(out, "w") as f:
        json.dump(res, f)
        f.write("\n")
    print(f"wrote {len(res['cases'])} cases to {out}")


if __name__ == "__main__":
    main()
