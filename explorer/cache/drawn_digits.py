"""A drawn or uploaded picture made into the digit the model sees, once per distinct picture (keyed by its bytes'
hash): a session's reruns, and every session sending the same picture, decode it once."""
from __future__ import annotations

import numpy as np
import streamlit as st

import vae_core as vc

CANVAS_FORMATS = ("PNG",)  # what the drawing canvas sends (a PNG data URL); no other decoder is tried for it


def canvas_max_bytes(side: int) -> int:
    """The most a side x side canvas's PNG can weigh: its RGBA pixels stored uncompressed, plus the PNG's chunk
    overhead (a real drawing compresses to a few kB)."""
    return side * side * 4 + side * 8 + 64 * 1024


@st.cache_data(show_spinner=False, max_entries=256)
def picture_digit(data: bytes, max_bytes: int, max_side: int, formats: tuple[str, ...]
                  ) -> tuple[np.ndarray | None, str, str]:
    """(the digit (784,), "", "") or (None, "rejected" | "blank", why) for a picture's bytes, bounded by
    vc.load_upload's limits before any pixel is decoded; a refusal is remembered too, so a bad picture costs its
    checks once."""
    try:
        return vc.to_mnist(vc.load_upload(data, max_bytes, max_side, formats)), "", ""
    except vc.ImageRejected as e:
        return None, "rejected", str(e)
    except vc.NothingDrawn as e:
        return None, "blank", str(e)
