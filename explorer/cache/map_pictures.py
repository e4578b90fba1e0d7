"""The latent map's digits drawn as one picture, and the map as CSV."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache.anomaly_scores import test_scores
from explorer.cache.models import mnist, pca_test_codes, test_latents
from explorer.render.digits_picture import DIGIT_SPACING, DIGIT_TILE_PX, digits_grid, palette_png_uri
from explorer.render.palette import DIGIT_COLOURS


@st.cache_data(show_spinner=False, max_entries=32)
def map_digits(key, which: str, x_range: tuple[float, float], y_range: tuple[float, float],
               subset: np.ndarray | None = None) -> tuple[str, tuple[float, float, float, float], int]:
    """The test digits drawn on a latent map ("vae": at their latent means, "pca": at their PCA-2D codes) as one
    picture for its axis ranges: (PNG data URI, the extent it covers, how many digits it draws). subset: the test
    indices to pick among (a selection), else all. Picked by vc.spread_picks, framed in their class colours; made once per
    model, map, axes and subset (encoding the PNG is most of a first call; a cached one costs next to nothing)."""
    codes = test_latents(key)[0] if which == "vae" else pca_test_codes(key)
    images, labels = mnist("test")
    extent, cells = digits_grid(x_range, y_range)
    among = np.arange(len(codes)) if subset is None else np.asarray(subset, dtype=np.int64)
    picks = among[vc.spread_picks(codes[among], extent, cells, DIGIT_SPACING)]
    cell_px = DIGIT_TILE_PX / DIGIT_SPACING
    size = (round(cells[0] * cell_px), round(cells[1] * cell_px))
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in DIGIT_COLOURS], dtype=np.uint8)
    picture = vc.digits_picture(images[picks], codes[picks], extent, size, vc.tile_size(size, cells, DIGIT_SPACING),
                                frames=rgb[labels[picks]])
    return palette_png_uri(picture), extent, len(picks)


@st.cache_data(show_spinner=False, max_entries=16)
def map_csv(key, indices: np.ndarray | None = None, with_scores: bool = False) -> str:
    """The latent map as CSV (vc.map_table): one row per test digit in `indices` (None: all 10,000), with the anomaly
    scores as extra columns if with_scores (call it so only once `test_scores_ready`: it would compute them)."""
    mu, logvar = test_latents(key)
    return vc.map_table(indices, mnist("test")[1], mu, logvar, pca_test_codes(key),
                        scores={name: test_scores(key)[name] for name in vc.SCORES} if with_scores else None)
