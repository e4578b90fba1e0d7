"""Digits drawn on a latent map as one picture: the grid of square cells over a map's axes, and the picture encoded
as a small palette PNG."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

# Digits on a latent map: square cells, DIGIT_CELLS along the longer side of the map's axes, and tiles DIGIT_SPACING of
# a cell wide, so no two tiles ever overlap (vc.spread_picks). On the default model's axes 24 x 24 cells at spacing 1
# keep only ~121 digits (a map of digits wants 300-600); 40 cells along the longer side at spacing 0.8 keep 420 on the
# VAE map (36 x 40 cells) and 502 on PCA's (40 x 32). A cell is DIGIT_TILE_PX / DIGIT_SPACING = 35 px, so each tile
# is a digit's own 28 x 28 pixels (no resampling when composing; the browser scales the picture, pixelated).
DIGIT_CELLS, DIGIT_SPACING, DIGIT_TILE_PX = 40, 0.8, 28
DIGIT_GREYS = 32  # grey levels of the digits picture's palette PNG (5 bits; no banding seen at map size)


def palette_png_uri(picture, greys: int = DIGIT_GREYS) -> str:
    """An RGBA picture of grey tiles in coloured frames on a transparent ground as a palette PNG data URI: greys
    quantised to `greys` levels, every other colour (a frame's) kept exactly: about a third of the bytes of an 8-bit
    RGBA PNG, and quicker to encode (one lookup indexes the greys; only the few frame pixels are looked up apart)."""
    a = np.asarray(picture)
    r, g, b, opaque = a[..., 0], a[..., 1], a[..., 2], a[..., 3] > 0
    index = np.rint(np.arange(256) * ((greys - 1) / 255)).astype(np.uint8)[r]  # a grey's level
    coloured = opaque & ((r != g) | (g != b))  # the frames (white and grey frames are greys)
    packed = (r[coloured].astype(np.uint32) << 16) | (g[coloured].astype(np.uint32) << 8) | b[coloured]
    colours, which = np.unique(packed, return_inverse=True)  # at most the 10 class colours
    index[coloured] = greys + which.reshape(-1)
    transparent = greys + len(colours)
    index[~opaque] = transparent
    palette = [round(i * 255 / (greys - 1)) for i in range(greys) for _ in range(3)]
    palette += [int(v) for c in colours.tolist() for v in ((c >> 16) & 255, (c >> 8) & 255, c & 255)] + [0, 0, 0]
    pil = Image.fromarray(index, mode="P")
    pil.putpalette(palette)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", transparency=transparent)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def digits_grid(x_range, y_range, cells: int = DIGIT_CELLS) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """(extent (x0, x1, y0, y1), (cells_x, cells_y)) of square cells over a map's axis ranges: `cells` along the longer
    axis, the shorter one widened symmetrically to whole cells (a picture a little larger than the axes, cut at the
    plot's edge)."""
    (x0, x1), (y0, y1) = (float(v) for v in x_range), (float(v) for v in y_range)
    side = max(x1 - x0, y1 - y0) / cells
    nx, ny = (max(1, int(np.ceil(span / side - 1e-9))) for span in (x1 - x0, y1 - y0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - nx * side / 2, cx + nx * side / 2, cy - ny * side / 2, cy + ny * side / 2), (nx, ny)
