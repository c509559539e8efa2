#!/usr/bin/python3
"""Reference outputs of ComfyUI's model-free mask and image nodes.

Writes nodes/builtin/testdata/mask_image_nodes.json: for each case the
class, its inputs (tensors as shape + float32 values, scalars as they are)
and the outputs computed here with torch and numpy following the nodes'
published definitions (ComfyUI comfy_extras/nodes_mask.py, nodes_images.py,
nodes_compositing.py, nodes.py; ComfyUI_RealTimeNodes misc_nodes.py
QuickShapeMask). Each function below restates one node's operations in
torch/numpy; it is not ComfyUI's code. SolidMask, which comfyrt had
before, is checked here too. Run with Debian's python3 with
python3-torch and python3-numpy:

    /usr/bin/python3 scripts/reference/mask_image_nodes.py

The Go tests (nodes/builtin/reference_test.go) read the file; they never
run this script.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "nodes", "builtin", "testdata", "mask_image_nodes.json")
gen = torch.Generator().manual_seed(12)


def rand(*shape, lo=0.0, hi=1.0):
    return (torch.rand(*shape, generator=gen, dtype=torch.float32) * (hi - lo) + lo).to(torch.float32)


def enc(v):
    if isinstance(v, torch.Tensor):
        t = v.detach().to(torch.float32).contiguous()
        return {"shape": list(t.shape), "data": [float(x) for x in t.flatten().tolist()]}
    return v


# --- the nodes, restated -------------------------------------------------

def mask_composite(destination, source, x, y, operation):
    out = destination.reshape(-1, destination.shape[-2], destination.shape[-1]).clone()
    src = source.reshape(-1, source.shape[-2], source.shape[-1])
    h, w = destination.shape[-2], destination.shape[-1]
    right, bottom = min(x + src.shape[-1], w), min(y + src.shape[-2], h)
    vw, vh = right - x, bottom - y
    s = src[:, :vh, :vw]
    d = out[:, y:bottom, x:right].clone()
    if operation == "multiply":
        r = d * s
    elif operation == "add":
        r = d + s
    elif operation == "subtract":
        r = d - s
    else:
        db, sb = d.round().bool(), s.round().bool()
        r = {"and": torch.bitwise_and, "or": torch.bitwise_or, "xor": torch.bitwise_xor}[operation](db, sb).float()
    out[:, y:bottom, x:right] = r
    return torch.clamp(out, 0.0, 1.0)


def feather_mask(mask, left, top, right, bottom):
    out = mask.reshape(-1, mask.shape[-2], mask.shape[-1]).clone()
    h, w = out.shape[-2], out.shape[-1]
    left, right, top, bottom = min(left, w), min(right, w), min(top, h), min(bottom, h)
    for i in range(left):
        out[:, :, i] *= (i + 1.0) / left
    for i in range(right):
        out[:, :, -i] *= (i + 1) / right
    for i in range(top):
        out[:, i, :] *= (i + 1) / top
    for i in range(bottom):
        out[:, -i, :] *= (i + 1) / bottom
    return out


def crop_mask(mask, x, y, width, height):
    m = mask.reshape(-1, mask.shape[-2], mask.shape[-1])
    return m[:, y:y + height, x:x + width]


def image_color_to_mask(image, color):
    q = (torch.clamp(image, 0, 1.0) * 255.0).round().to(torch.int)
    packed = (q[..., 0] << 16) + (q[..., 1] << 8) + q[..., 2]
    return torch.where(packed == color, 255, 0).float()


def image_flip(image, flip_method):
    return torch.flip(image, dims=[1] if flip_method.startswith("x") else [2])


def image_pad_for_outpaint(image, left, top, right, bottom, feathering):
    b, h, w, c = image.shape
    out = torch.full((b, h + top + bottom, w + left + right, c), 0.5, dtype=torch.float32)
    out[:, top:top + h, left:left + w, :] = image
    mask = torch.ones((h + top + bottom, w + left + right), dtype=torch.float32)
    inner = torch.zeros((h, w), dtype=torch.float32)
    if feathering > 0 and feathering * 2 < h and feathering * 2 < w:
        for i in range(h):
            for j in range(w):
                d = min(i if top else h, h - i if bottom else h, j if left else w, w - j if right else w)
                if d < feathering:
                    v = (feathering - d) / feathering
                    inner[i, j] = v * v
    mask[top:top + h, left:left + w] = inner
    return out, mask.unsqueeze(0)


def repeat_image_batch(image, amount):
    return image.repeat((amount, 1, 1, 1))


def image_from_batch(image, batch_index, length):
    i = min(image.shape[0] - 1, batch_index)
    n = min(image.shape[0] - i, length)
    return image[i:i + n].clone()


def center_crop_resize(samples, width, height):
    # comfy.utils.common_upscale(samples, width, height, "bilinear", "center"), NCHW
    ow, oh = samples.shape[-1], samples.shape[-2]
    oa, na = ow / oh, width / height
    x = y = 0
    if oa > na:
        x = round((ow - ow * (na / oa)) / 2)
    elif oa < na:
        y = round((oh - oh * (oa / na)) / 2)
    s = samples.narrow(-2, y, oh - 2 * y).narrow(-1, x, ow - 2 * x)
    return F.interpolate(s, size=(height, width), mode="bilinear")


def image_batch(image1, image2):
    if image1.shape[-1] != image2.shape[-1]:
        if image1.shape[-1] > image2.shape[-1]:
            image2 = F.pad(image2, (0, 1), mode="constant", value=1.0)
        else:
            image1 = F.pad(image1, (0, 1), mode="constant", value=1.0)
    if image1.shape[1:] != image2.shape[1:]:
        image2 = center_crop_resize(image2.movedim(-1, 1), image1.shape[2], image1.shape[1]).movedim(1, -1)
    return torch.cat((image1, image2), dim=0)


def to_batch(t, n):
    if t.shape[0] >= n:
        return t[:n]
    reps = math.ceil(n / t.shape[0])
    return t.repeat([reps] + [1] * (t.dim() - 1))[:n]


def join_image_with_alpha(image, alpha):
    n = max(len(image), len(alpha))
    image, alpha = to_batch(image, n), to_batch(alpha, n)
    a = F.interpolate(alpha.reshape(-1, 1, alpha.shape[-2], alpha.shape[-1]), size=(image.shape[1], image.shape[2]), mode="bilinear").squeeze(1)
    return torch.cat((image[..., :3], (1.0 - a).unsqueeze(-1)), dim=-1)


def split_image_with_alpha(image):
    rgb = torch.stack([i[:, :, :3] for i in image])
    a = torch.stack([i[:, :, 3] if i.shape[2] > 3 else torch.ones_like(i[:, :, 0]) for i in image])
    return rgb, 1.0 - a


def solid_mask(value, width, height):
    return torch.full((1, height, width), value, dtype=torch.float32)


def quick_shape_mask(shape, width, height, x, y, canvas_width, canvas_height, batch_size):
    m = np.zeros((canvas_height, canvas_width), dtype=np.float32)
    hw, hh = width // 2, height // 2
    left, right = max(0, x - hw), min(canvas_width, x + hw)
    top, bottom = max(0, y - hh), min(canvas_height, y + hh)
    if shape == "square":
        m[top:bottom, left:right] = 1.0
    else:
        yy, xx = np.ogrid[top:bottom, left:right]
        inside = ((xx - x) ** 2 / (width / 2) ** 2 + (yy - y) ** 2 / (height / 2) ** 2) <= 1
        m[top:bottom, left:right][inside] = 1.0
    return torch.from_numpy(m).unsqueeze(0).expand(batch_size, -1, -1)


# --- the cases -----------------------------------------------------------

def main():
    cases = []

    def add(name, cls, inputs, outputs):
        cases.append({"name": name, "class": cls, "inputs": [enc(v) for v in inputs], "outputs": [enc(v) for v in outputs]})

    dest = rand(2, 6, 7, lo=-0.3, hi=1.3)
    dest[0, 0, :4] = torch.tensor([0.5, 1.5, -0.5, 0.25])
    src1 = rand(1, 4, 5, lo=-0.3, hi=1.3)
    src2 = rand(2, 8, 9, lo=-0.3, hi=1.3)
    src2[1, 0, :3] = torch.tensor([0.5, 0.5001, -0.75])
    for op in ["multiply", "add", "subtract", "and", "or", "xor"]:
        for (x, y, src, tag) in [(0, 0, src2, "big"), (3, 2, src1, "inside"), (4, 4, src2, "cut"), (7, 1, src1, "at-width"), (0, 6, src2, "at-height")]:
            add(f"{op} {tag} at {x},{y}", "MaskComposite", [dest, src, x, y, op], [mask_composite(dest, src, x, y, op)])

    fm = rand(2, 5, 8) * 0.5 + 0.5
    for p in [(2, 1, 3, 2), (0, 0, 8, 5), (10, 10, 10, 10), (1, 0, 0, 0), (0, 3, 0, 1)]:
        add(f"feather {p}", "FeatherMask", [fm, *p], [feather_mask(fm, *p)])

    cm = rand(2, 6, 9)
    for p in [(0, 0, 4, 3), (5, 2, 10, 10), (8, 5, 1, 1), (2, 1, 512, 512)]:
        add(f"crop {p}", "CropMask", [cm, *p], [crop_mask(cm, *p)])

    ci = torch.randint(0, 4, (2, 4, 5, 3), generator=gen).to(torch.float32) * 85 / 255
    ci[0, 0, 0] = torch.tensor([0.5 / 255, 1.5 / 255, 254.5 / 255])
    ci[0, 0, 1] = torch.tensor([-0.1, 1.2, 0.0])
    ci4 = torch.cat([ci, rand(2, 4, 5, 1)], dim=-1)
    for color in [0x000000, 0x55AAFF, 0x00FF00, 0x000201]:
        add(f"color {color:06x}", "ImageColorToMask", [ci, color], [image_color_to_mask(ci, color)])
    add("color rgba", "ImageColorToMask", [ci4, 0x55AA00], [image_color_to_mask(ci4, 0x55AA00)])

    fi = rand(2, 3, 4, 3)
    for m in ["x-axis: vertically", "y-axis: horizontally"]:
        add(m, "ImageFlip", [fi, m], [image_flip(fi, m)])
    add("flip rgba", "ImageFlip", [ci4, "y-axis: horizontally"], [image_flip(ci4, "y-axis: horizontally")])

    pi = rand(2, 12, 14, 3)
    for p in [(2, 4, 6, 8, 3), (0, 8, 0, 0, 5), (8, 0, 0, 0, 6), (1, 1, 1, 1, 0), (4, 4, 4, 4, 40)]:
        add(f"pad {p}", "ImagePadForOutpaint", [pi, *p], list(image_pad_for_outpaint(pi, *p)))

    bi = rand(2, 3, 4, 3)
    for amount in [1, 3]:
        add(f"repeat {amount}", "RepeatImageBatch", [bi, amount], [repeat_image_batch(bi, amount)])
    bi5 = rand(5, 2, 3, 3)
    for p in [(0, 1), (3, 4), (9, 2), (1, 3)]:
        add(f"from batch {p}", "ImageFromBatch", [bi5, *p], [image_from_batch(bi5, *p)])

    i1, i2, i3 = rand(1, 6, 8, 3), rand(2, 9, 5, 3), rand(2, 6, 8, 4)
    i0 = rand(2, 6, 8, 3)
    add("batch same size", "ImageBatch", [i1, i0], [image_batch(i1, i0)])
    add("batch resize", "ImageBatch", [i1, i2], [image_batch(i1, i2)])
    add("batch rgb + rgba", "ImageBatch", [i1, i3], [image_batch(i1, i3)])
    add("batch rgba + resized rgb", "ImageBatch", [i3, i2], [image_batch(i3, i2)])
    i4 = rand(1, 4, 11, 4)
    add("batch rgb + resized rgba", "ImageBatch", [i1, i4], [image_batch(i1, i4)])

    ji, ja = rand(1, 6, 8, 3), rand(2, 3, 5)
    add("join resize", "JoinImageWithAlpha", [ji, ja], [join_image_with_alpha(ji, ja)])
    ji3, ja1 = rand(3, 4, 5, 3), rand(1, 4, 5)
    add("join same size", "JoinImageWithAlpha", [ji3, ja1], [join_image_with_alpha(ji3, ja1)])
    add("split rgba", "SplitImageWithAlpha", [ci4], list(split_image_with_alpha(ci4)))
    add("split rgb", "SplitImageWithAlpha", [fi], list(split_image_with_alpha(fi)))

    for p in [("circle", 64, 64, 85, 85, 128, 120, 1), ("circle", 9, 5, 6, 4, 16, 12, 2), ("square", 9, 5, 6, 4, 16, 12, 1),
              ("circle", 30, 20, 2, 1, 16, 12, 1), ("square", 30, 20, 15, 11, 16, 12, 1), ("circle", 7, 7, 40, 3, 16, 12, 1),
              ("circle", 1, 1, 5, 5, 16, 12, 1), ("circle", 10, 4, 8, 6, 16, 12, 3)]:
        add(f"shape {p}", "QuickShapeMask", list(p), [quick_shape_mask(*p)])

    for p in [(0.3, 5, 3), (1.0, 1, 1), (0.0, 4, 2)]:
        add(f"solid {p}", "SolidMask", list(p), [solid_mask(*p)])

    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/reference/mask_image_nodes.py", "torch": torch.__version__, "numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
