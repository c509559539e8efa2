#!/usr/bin/env python3
"""Reference values for comfyrt's CLIP token weighting (nodes/diffusion/clip).

ComfyUI's ClipTokenWeightEncoder.encode_token_weights (comfy/sd1_clip.py)
runs the text encoder on the chunks plus, when any weight differs from 1,
the empty prompt as the batch's last row; then for each chunk k and token j
whose weight w is not 1 it sets z[j] = (z[j] - z_empty[j]) * w + z_empty[j]
on float32 tensors (w a Python float), and concatenates the chunks along
the token axis. This script does that with PyTorch on fixed random hidden
states (the encoder is not needed for the arithmetic) and writes:

  hidden.f32   3 rows x 77 tokens x 8 values (2 chunks, then the empty row)
  weights.json the 2 x 77 token weights (float64, as ComfyUI holds them)
  cond.f32     the conditioning, 2 x 77 x 8

(float32 little endian). Usage: /usr/bin/python3 scripts/reference/clip_weights.py [OUTDIR]
(default nodes/diffusion/clip/testdata/weights). Needs Debian's python3-torch.
"""
import json
import os
import sys

import torch

out = sys.argv[1] if len(sys.argv) > 1 else "nodes/diffusion/clip/testdata/weights"
os.makedirs(out, exist_ok=True)

tokens, dim = 77, 8
gen = torch.Generator().manual_seed(1234)
hidden = (torch.randn(3, tokens, dim, generator=gen) * 3).to(torch.float32)
pattern = [
    [1.0, 1.1, 1.1 * 1.1, 0.5, 1.4, 1.0, 1.3310000000000004],
    [1.0, -0.3, 2.75, 1e-3, 1.0, 0.9, 1.0 / 1.1],
]
weights = [[pattern[k][j % len(pattern[k])] for j in range(tokens)] for k in range(2)]
# Start, end and padding tokens carry weight 1 in ComfyUI's chunks.
for k in range(2):
    weights[k][0] = 1.0
    for j in range(60, tokens):
        weights[k][j] = 1.0

out_rows = hidden.clone()
z_empty = out_rows[-1]
chunks = []
for k in range(2):
    z = out_rows[k:k + 1]
    for i in range(len(z)):
        for j in range(len(z[i])):
            w = weights[k][j]
            if w != 1.0:
                z[i][j] = (z[i][j] - z_empty[j]) * w + z_empty[j]
    chunks.append(z)
cond = torch.cat(chunks, dim=-2)

hidden.numpy().astype("<f4").tofile(os.path.join(out, "hidden.f32"))
cond.numpy().astype("<f4").tofile(os.path.join(out, "cond.f32"))
with open(os.path.join(out, "weights.json"), "w") as f:
    json.dump({"tokens": tokens, "dim": dim, "weights": weights, "torch": torch.__version__}, f)
    f.write("\n")
print("wrote", out)
