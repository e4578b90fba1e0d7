"""The pages' large Plotly figures, built once per model and view and shared by every session and every rerun.

Building a 10k-point map (one validated Plotly trace per digit class, its layout, its axes) costs tens of ms of the
server's CPU, and a click reran it although nothing in it had changed. Each function here is an st.cache_resource:
one Figure object per (model, view), handed to every session that shows that view, frozen (figures.FrozenFigure: the
dict Streamlit serialises is made once too). A page never modifies a figure it gets from here; tests/app/
test_figure_reuse.py counts the builds.

Entries are bounded (max_entries): a figure of the latent map is ~1 MB of Python objects."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.cache.map_pictures import map_digits
from explorer.cache.models import grid_picture, interpolation, mnist, pca_test_codes, test_latents
from explorer.render.figures import (
    add_digits_picture,
    add_path,
    add_prior_contours,
    add_selection_highlight,
    decoder_grid_figure,
    digit_scatter,
    frozen,
)

# the latent map's two maps: (coordinate name, title, the least half range its axes span)
LATENT_MAPS = {"vae": ("z", "VAE: latent means μ(x)", 3.2), "pca": ("PC", "PCA-2D of the pixels", 0.0)}
LATENT_MAP_HEIGHT = {False: 620, True: 1000}  # px, by show_digits: digits need the room (~24 px each at full width)


def latent_map(key, which: str, height: int, show_prior: bool, show_digits: bool,
               values: np.ndarray | None = None, value_name: str = "", region: dict | None = None):
    """One map of the latent-map page ("vae" or "pca"): (figure, caption on its digits or None). Its scatter, the
    prior's circles on the VAE map (show_prior), a box or lasso `region` {"map", "indices", "outlines"} highlighted
    (explorer.render.figures.add_selection_highlight) and, with show_digits, the digits drawn on it. `values`
    colour the points by a score named value_name instead of by label. With a region the figure is one session's
    (its own cache, so the shared views are not evicted by a room of lassos)."""
    show_prior = show_prior and which == "vae"  # the PCA map has no circles: one figure either way
    if region is None:
        return _latent_map(key, which, height, show_prior, show_digits, values, value_name, None)
    return _latent_map_with_region(key, which, height, show_prior, show_digits, values, value_name, region)


def first_latent_maps(key, heights: tuple[int, ...] = (LATENT_MAP_HEIGHT[False],)) -> None:
    """Build both maps as the latent-map page first shows them (label colours, the prior's circles, no digits, no
    selection), at each of `heights` (a desktop's, a phone's): the server's warm-up does, so the first visitor's page
    sends them without building them."""
    for height in heights:
        for which in LATENT_MAPS:
            latent_map(key, which, height, show_prior=True, show_digits=False)


def _build_latent_map(key, which, height, show_prior, show_digits, values, value_name, region):
    coord, title, min_half_range = LATENT_MAPS[which]
    codes = test_latents(key)[0] if which == "vae" else pca_test_codes(key)
    labels = mnist("test")[1]
    colour = {} if values is None else dict(values=values, value_name=value_name)
    fig = digit_scatter(codes, labels, coord=coord, title=title, min_half_range=min_half_range,
                        highlight_selection=True, height=height, **colour)
    if show_prior:
        add_prior_contours(fig)
    # Both maps draw the selection alike: Plotly's own (the lasso, faded points) would last only until the figure
    # changes; drawn here it stays, outline included, and the other map shows where it put the same digits.
    if region:
        add_selection_highlight(fig, codes, labels, region["indices"],
                                outlines=region["outlines"] if region["map"] == which else (), by_label=values is None)
    if not show_digits:
        return frozen(fig), None
    uri, extent, drawn = map_digits(key, which, tuple(fig.layout.xaxis.range), tuple(fig.layout.yaxis.range),
                                    region["indices"] if region else None)
    add_digits_picture(fig, uri, extent)
    return frozen(fig), (f"{drawn} digits drawn" + (" from the selection" if region else "")
                 + ", one per cell of a grid at most, none overlapping.")


@st.cache_resource(show_spinner=False, max_entries=32)
def _latent_map(key, which, height, show_prior, show_digits, values, value_name, region):
    return _build_latent_map(key, which, height, show_prior, show_digits, values, value_name, region)


@st.cache_resource(show_spinner=False, max_entries=32)
def _latent_map_with_region(key, which, height, show_prior, show_digits, values, value_name, region):
    return _build_latent_map(key, which, height, show_prior, show_digits, values, value_name, region)


@st.cache_resource(show_spinner=False, max_entries=32)
def decoder_grid(key, grid_size: int, lo: float, hi: float, overlay: bool):
    """The decoder grid page's figure: the decoded lattice over [lo, hi]^2 with its clickable cell layer and, with
    overlay, the test digits' latent means (the grid's picture: grid_picture)."""
    image_uri = grid_picture(key, grid_size, lo, hi)[0]
    codes = (test_latents(key)[0], mnist("test")[1]) if overlay else None
    return frozen(decoder_grid_figure(image_uri, grid_size, (lo, hi), overlay=codes))


@st.cache_resource(show_spinner=False, max_entries=32)
def interpolation_map(key, index_a: int, index_b: int, steps: int, mode: str, title: str, height: int = 640):
    """The interpolation page's map: the test digits' latent means with the path from A to B (its `steps` frames)."""
    fig = digit_scatter(test_latents(key)[0], mnist("test")[1], coord="z", title=title, height=height)
    return frozen(add_path(fig, interpolation(key, index_a, index_b, steps, mode)[0]))
