"""Pictures for slides (1920 x 1080 PNG and GIF): the latent map, the decoder grid, an interpolation, the film.

Made when a visitor clicks a download (Streamlit runs deferred downloads in a pool of threads), one at a time per
server process: a GIF holds its full-size frames while it is encoded, a few hundred MB, so sessions asking at once
wait in turn rather than add up (docs/room.md, the room's memory)."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import streamlit as st

import vae_core as vc
from explorer.cache.models import decoded_grid, interpolation, load_model, mnist, test_latents
from explorer.render.palette import DIGIT_COLOURS
from vae_core import slides

_MAKING = threading.Lock()  # one slide file in the making per process


@st.cache_data(show_spinner=False, max_entries=4)
def film_gif(key) -> bytes:
    """The training film as a 1920 x 1080 animated GIF for a slide (vae_core.slides.film_gif: seconds to make, a few MB)."""

    with _MAKING:
        return slides.film_gif(load_model(key).snapshots, title=f"Training film · {Path(key.path).stem}")


@st.cache_data(show_spinner=False, max_entries=8)
def latent_map_png(key) -> bytes:
    """The 10,000 test digits' latent means as a 1920 x 1080 PNG for a slide."""

    with _MAKING:
        panel = slides.map_panel(test_latents(key)[0], mnist("test")[1], slides.panel_side(1))
        return slides.png_for_slide(panel, f"Latent means μ(x) of the 10,000 test digits · {Path(key.path).stem}",
                                    key_colours=DIGIT_COLOURS)


@st.cache_data(show_spinner=False, max_entries=16)
def grid_slide_png(key, grid_size: int, lo: float, hi: float) -> bytes:
    """The decoded grid as a 1920 x 1080 PNG for a slide, on z axes."""

    with _MAKING:
        panel = slides.grid_panel(vc.tile(decoded_grid(key, grid_size, lo, hi)), slides.panel_side(1, key=False),
                                  (lo, hi))
        return slides.png_for_slide(panel, f"Decoder grid, {grid_size} × {grid_size} over [{lo:g}, {hi:g}]² · "
                                           f"{Path(key.path).stem}")


@st.cache_data(show_spinner=False, max_entries=4)
def interpolation_gif(key, index_a: int, index_b: int, steps: int, mode: str) -> bytes:
    """The decoded frames of an interpolation path as a 1920 x 1080 animated GIF, test digits A and B beside them."""
    z, frames, _ = interpolation(key, index_a, index_b, steps, mode)
    images, side = mnist("test")[0], load_model(key).model_config.image_size
    captions = [f"t = {t:.2f}   z = ({a:+.2f}, {b:+.2f})" for t, (a, b) in zip(np.linspace(0, 1, steps), z, strict=True)]
    with _MAKING:
        return slides.interpolation_gif(frames, captions,
                                        f"{mode.capitalize()} path from test #{index_a} to #{index_b}",
                                        ends=(images[index_a].reshape(side, side), images[index_b].reshape(side, side)))
