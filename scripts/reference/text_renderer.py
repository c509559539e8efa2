#!/usr/bin/python3
"""Reference renderings of ComfyUI_RealTimeNodes' TextRenderer with Pillow.

TextRenderer (misc_nodes.py) draws str(any) with Pillow in the pack's
DejaVu Sans; comfyrt draws with the Go font. To check comfyrt's layout
(wrapping, line spacing, alignment, centring, offsets, colours) apart from
the glyph shapes, this script performs the node's steps with Pillow in the
Go font itself (Go-Regular.ttf from golang.org/x/image/font/gofont/ttfs),
and records, per case, the MASK as bytes (round(255·mask)) and the colour
of a text pixel and of a background pixel. It also records Python's
textwrap.wrap (break_on_hyphens=False) and Pillow's ImageColor.getcolor for
the strings the Go tests use.

    /usr/bin/python3 scripts/reference/text_renderer.py [Go-Regular.ttf]

(Debian's python3 with python3-pil.) The font defaults to the one in the Go
module cache. Output: nodes/builtin/testdata/text_renderer.json.
"""
import glob
import json
import os
import sys
import textwrap

import numpy as np
import PIL
from PIL import Image, ImageColor, ImageDraw, ImageFont

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "nodes", "builtin", "testdata", "text_renderer.json")


def find_font():
    if len(sys.argv) > 1:
        return sys.argv[1]
    gopath = os.environ.get("GOMODCACHE") or os.path.expanduser("~/go/pkg/mod")
    hits = sorted(glob.glob(os.path.join(gopath, "golang.org/x/image@v0.46.0/font/gofont/ttfs/Go-Regular.ttf")))
    if not hits:
        sys.exit("Go-Regular.ttf not found: pass its path")
    return hits[-1]


def render(font_path, text, width, height, font_size, font_color, background_color, x_offset, y_offset, align, wrap_width):
    """The node's render_text, step by step, in the given font."""
    text = str(text)
    image = Image.new("RGBA", (width, height), background_color)
    mask = Image.new("L", (width, height), 0)
    font = ImageFont.truetype(font_path, font_size)
    draw, mdraw = ImageDraw.Draw(image), ImageDraw.Draw(mask)
    if wrap_width > 0:
        chars = max(1, int(wrap_width / (font_size / 2)))
        text = "\n".join(textwrap.wrap(text, width=chars))
    box = draw.textbbox((0, 0), text, font=font)
    tw, th = box[2] - box[0], box[3] - box[1]
    if align == "left":
        x = 0 + x_offset
    elif align == "right":
        x = width - tw + x_offset
    else:
        x = (width - tw) // 2 + x_offset
    y = (height - th) // 2 + y_offset
    draw.multiline_text((x, y), text, font=font, fill=font_color, align=align)
    mdraw.multiline_text((x, y), text, font=font, fill=255, align=align)
    img = np.array(image).astype(np.float32) / 255.0
    m = np.array(mask).astype(np.float32) / 255.0
    m = m * img[..., 3]
    return img[..., :3], m, (x, y, tw, th)


def main():
    font_path = find_font()
    cases = []
    params = [
        ("comfy", 128, 64, 24, "white", "black", 0, 0, "center", 0),
        ("gen stream success!", 256, 64, 20, "white", "black", 0, 0, "center", 0),
        ("left\nand more lines", 160, 96, 18, "#ff8000", "navy", 0, 0, "left", 0),
        ("right\naligned text", 160, 96, 18, "yellow", "rgb(10,20,30)", 0, 0, "right", 0),
        ("centred\nmulti line\nblock", 160, 112, 16, "white", "black", 5, -7, "center", 0),
        ("wrap this rather long sentence please", 160, 128, 16, "white", "black", 0, 0, "center", 96),
        (42, 96, 64, 30, "#0f0", "#00000000", 0, 0, "center", 0),
        (0.125, 96, 64, 20, "white", "gray", -10, 12, "right", 0),
    ]
    for p in params:
        rgb, m, geom = render(font_path, *p)
        full = np.argwhere(m >= 1.0)
        case = {"params": list(p), "origin": list(geom), "mask": [int(round(v * 255)) for v in m.flatten().tolist()]}
        if len(full):
            yx = full[len(full) // 2]
            case["text_rgb"] = [float(v) for v in rgb[yx[0], yx[1]]]
        case["corner_rgb"] = [float(v) for v in rgb[0, 0]]
        cases.append(case)
    wraps = []
    for text, width in [("wrap this rather long sentence please", 12), ("a  b   c", 3), ("supercalifragilistic word", 6),
                        ("  leading spaces kept", 10), ("tabs\tand\nnewlines", 8), ("x", 1), ("real-time nodes", 5)]:
        wraps.append({"text": text, "width": width, "lines": textwrap.wrap(text, width=width, break_on_hyphens=False)})
    colors = []
    for s in ["white", "Black", "navy", "#f80", "#f808", "#ff8000", "#FF800080", "rgb(10, 20, 30)", "rgba(1,2,3,4)", "rebeccapurple", "lightgoldenrodyellow"]:
        colors.append({"s": s, "rgba": list(ImageColor.getcolor(s, "RGBA"))})
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/reference/text_renderer.py", "pillow": PIL.__version__, "font": os.path.basename(font_path),
                   "cases": cases, "wraps": wraps, "colors": colors}, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} renderings, {len(wraps)} wraps, {len(colors)} colours -> {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
