"""Digits as crisp pictures: [0, 1] arrays -> PIL images / PNG bytes / PNG data URIs, upscaled nearest-neighbour (no
blur).

`digit` and `strip` give what a page passes to st.image: a PNG data URI, which st.image sends inside the page's own
message. A PIL image would become a media file in the server's memory that the browser fetches afterwards, and that
file is deleted as soon as its session reruns or leaves the page (Streamlit's media file manager keeps only the
latest run's files): under load the browser's request came after that, and the picture never loaded (404). Inline,
a picture the page sent is there for as long as the page shows it, whichever worker serves the room, and costs the
server no HTTP request. A digit is 1-3 KB of PNG at display size."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

import vae_core as vc


def to_pil(image, scale: int = 1) -> Image.Image:
    """A (h, w) array in [0, 1] as an 8-bit greyscale image, each pixel scale x scale."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"expected one (h, w) image, got shape {a.shape}")
    pil = Image.fromarray((np.clip(a, 0.0, 1.0) * 255).round().astype(np.uint8), mode="L")
    scale = max(1, int(scale))
    return pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST) if scale > 1 else pil


def pil_uri(pil: Image.Image) -> str:
    """A PIL image as a PNG data URI (no optimize pass: it costs more time than the few bytes it saves are worth)."""
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def digit(image, side: int = 28, px: int = 224) -> str:
    """One digit (side*side pixels, flat or square) at about px x px, as a PNG data URI for st.image."""
    return pil_uri(to_pil(np.asarray(image).reshape(side, side), scale=max(1, px // side)))


def strip(frames, px: int = 1400, gap: int = 2) -> str:
    """Frames (n, h, w) side by side with a thin dark gap, upscaled to about px wide, as a PNG data URI for
    st.image."""
    frames = np.asarray(frames, dtype=np.float32)
    n, h, w = frames.shape
    padded = np.zeros((n, h, w + gap), dtype=np.float32)
    padded[:, :, :w] = frames
    row = vc.tile(padded[None])[:, : n * (w + gap) - gap]
    return pil_uri(to_pil(row, scale=max(1, px // row.shape[1])))


def png_bytes(image, scale: int = 1) -> bytes:
    buf = io.BytesIO()
    to_pil(image, scale).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def data_uri(image, scale: int = 1) -> str:
    """A PNG data: URI (what a Plotly layout image takes as its source)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, scale)).decode("ascii")


def grey_levels_uri(picture: np.ndarray, levels: int = 16) -> str:
    """A uint8 greyscale picture as a PNG data URI in `levels` grey levels (4-bit PNG at 16): less than half the
    bytes of an 8-bit PNG for a film's grid, and no banding visible at that size on a projector."""
    a = np.asarray(picture, dtype=np.uint8)
    index = np.rint(a.astype(np.float32) * ((levels - 1) / 255)).astype(np.uint8)
    pil = Image.frombytes("P", (a.shape[1], a.shape[0]), index.tobytes())
    pil.putpalette([round(i * 255 / (levels - 1)) for i in range(levels) for _ in range(3)])
    buf = io.BytesIO()
    pil.save(buf, format="PNG", bits=next(b for b in (1, 2, 4, 8) if levels <= 2 ** b))
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
