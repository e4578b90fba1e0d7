"""The browser tab's icon: three small clusters of dots in three digit colours, a latent map in 32 x 32, as an SVG.

Streamlit sends an SVG page icon inline (a data: URL), so no browser asks another machine for it: a Material Symbols
icon is fetched from fonts.gstatic.com by every visitor, which fails in a lecture hall without internet and reaches
off the machine in every browser test."""
from __future__ import annotations

from vae_core.palette import DIGIT_COLOURS

# (digit, centre x, centre y) of each cluster, and the dots' offsets from its centre, in the icon's 32-unit square
_CLUSTERS = ((0, 9, 10), (1, 23, 11), (2, 15, 23))
_DOTS = ((0, 0), (-4, 3), (4, 2), (-1, -4), (3, -3))


def _svg() -> str:
    dots = "".join(f'<circle cx="{x + dx}" cy="{y + dy}" r="2.3" fill="{DIGIT_COLOURS[digit]}"/>'
                   for digit, x, y in _CLUSTERS for dx, dy in _DOTS)
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">{dots}</svg>'


FAVICON_SVG = _svg()
