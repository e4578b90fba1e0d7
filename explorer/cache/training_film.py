"""The training film ready to animate, and its Plotly figure built once per model."""
from __future__ import annotations

import streamlit as st

import vae_core as vc
from explorer.cache.models import load_model
from explorer.render.digit_images import grey_levels_uri
from explorer.render.figures import film_figure
from vae_core import slides

FILM_HEIGHT, STACKED_FILM_HEIGHT = 980, 1250  # px: side by side over the loss curves; one under another (a phone)
FILM_MAX_FRAMES = 60  # frames of a film the page animates (a 100-epoch film: the first epoch's and every 2nd after)
FILM_GREYS = 16  # grey levels of the animated grids: under half the bytes of PNGs in 256 levels


@st.cache_data(show_spinner="Reading the training film…", max_entries=8)
def film(key) -> dict:
    """The checkpoint's training film, ready to animate: "frames" (indices into the film, at most FILM_MAX_FRAMES),
    "means" (F, n, 2) float32, "labels" (n,), "captions", "epochs" (F,), "grids" (PNG data URIs in FILM_GREYS grey
    levels, or None without grids) and "extent", the half-side of square axes that hold every frame's means."""

    s = load_model(key).snapshots
    frames = slides.pick_frames(s["epochs"], FILM_MAX_FRAMES)
    means = s["means"][frames].float().numpy()
    grids = [grey_levels_uri(vc.frame_grid(s, f), FILM_GREYS) for f in frames] if vc.has_grids(s) else None
    return {"frames": frames, "means": means, "labels": s["labels"].numpy(), "grids": grids,
            "captions": [vc.frame_caption(s, f) for f in frames], "epochs": s["epochs"][frames].numpy(),
            "extent": slides.map_extent(s["means"].float().numpy())}


@st.cache_resource(show_spinner="Drawing the training film…", max_entries=4)
def film_chart(key, stacked: bool = False):
    """The film as one animated Plotly figure (explorer.render.figures.film_figure), built once per model and shape
    for every session: building its frames costs several times what sending the cached figure costs a page run
    (Streamlit's copy and JSON). `stacked`: the map over the grid over the loss curves, for a phone."""
    f = film(key)
    return film_figure(f["means"], f["labels"], f["captions"], f["epochs"], f["grids"], load_model(key).history,
                       f["extent"], grid_extent=vc.FILM_EXTENT, grid_cells=vc.FILM_GRID,
                       height=STACKED_FILM_HEIGHT if stacked else FILM_HEIGHT, stacked=stacked)
