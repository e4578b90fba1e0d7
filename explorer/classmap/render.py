"""The class map drawn: the stars (or thumbnails) over the latent map as one HTML layer, the slide PNG and the CSV.
No Streamlit.

The layer is placed over the map as explorer.render.map_overlay places the Draw page's star: a frame of the plot box
with the aspect ratio of the axis ranges, centred across and at the top, as Plotly draws the map's equal-scale axes.
Each star is a small element with its drawing in a card that shows on hover; a tap or click (focus) shows the card
with the reconstruction too -- all in the browser, without a rerun. The layer lets the pointer through everywhere but
on the stars."""
from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Mapping

import numpy as np
from PIL import Image, ImageDraw

from explorer.classmap.store import Drawing
from explorer.render.map_overlay import plot_box
from explorer.render.palette import DIGIT_COLOURS
from vae_core import slides

STAR = "#ffd400"
MINE = "#d6004c"
INK = "#111111"
STAR_PX = 26
THUMB_PX = 30  # a thumbnail on the map
CARD_PX = 84  # a drawing in its hover card (3 x 28, pixelated)

CSS = f"""<style>
.cm-layer {{ position: relative; pointer-events: none; }}
.cm-star {{ position: absolute; transform: translate(-50%, -52%); pointer-events: auto; cursor: pointer;
  font-size: {STAR_PX}px; line-height: 1; color: {STAR}; -webkit-text-stroke: 1.2px {INK}; outline: none; }}
.cm-star.cm-thumb {{ transform: translate(-50%, -50%); font-size: 0; -webkit-text-stroke: 0; }}
.cm-star.cm-thumb > img {{ width: {THUMB_PX}px; height: {THUMB_PX}px; image-rendering: pixelated; border: 2px solid;
  display: block; }}
.cm-star.cm-mine {{ color: {MINE}; font-size: {STAR_PX + 10}px; z-index: 3; }}
.cm-star:hover, .cm-star:focus {{ z-index: 5; }}
.cm-card {{ display: none; position: absolute; left: 60%; top: 60%; background: #fff; border: 1px solid #888;
  border-radius: 6px; padding: 6px; font: 13px sans-serif; color: #222; -webkit-text-stroke: 0; white-space: nowrap;
  box-shadow: 0 2px 8px rgba(0,0,0,.3); }}
.cm-card img {{ width: {CARD_PX}px; height: {CARD_PX}px; image-rendering: pixelated; display: inline-block;
  margin-right: 4px; }}
.cm-star:hover > .cm-card, .cm-star:focus > .cm-card {{ display: block; }}
.cm-star .cm-recon {{ display: none; }}
.cm-star:focus .cm-recon {{ display: inline-block; }}
</style>"""


def _at(x: float, y: float, x_range, y_range) -> str:
    (x0, x1), (y0, y1) = x_range, y_range
    return f"left:{100 * (x - x0) / (x1 - x0):.3f}%;top:{100 * (y1 - y) / (y1 - y0):.3f}%"


def _frame(layout, marks: Iterable[str]) -> str:
    x_range, y_range = tuple(layout.xaxis.range), tuple(layout.yaxis.range)
    m, height = layout.margin, layout.height
    plot_px = height - m.t - m.b
    aspect = (x_range[1] - x_range[0]) / (y_range[1] - y_range[0])
    frame = f"position:relative;width:min(100%,{plot_px * aspect:.2f}px);aspect-ratio:{aspect:.6f};max-height:100%"
    return (f'<div class="cm-layer" style="height:{height}px"><div style="{plot_box(layout)}"><div style="{frame}">'
            f'{"".join(marks)}</div></div></div>')


def star_marks(layout, drawings: Iterable[Drawing], pictures: Mapping[int, tuple[str, str]], thumbnails: bool = False,
               mine: bool = False) -> str:
    """The HTML layer of these drawings over a map with this (frozen) layout. pictures: id -> (data URI of the
    drawing, of its reconstruction). mine: the student's own drawings, larger and in another colour."""
    x_range, y_range = tuple(layout.xaxis.range), tuple(layout.yaxis.range)
    marks = []
    for d in drawings:
        drawing_uri, recon_uri = pictures[d.id]
        inside = x_range[0] <= d.z[0] <= x_range[1] and y_range[0] <= d.z[1] <= y_range[1]
        x, y = (min(max(v, lo), hi) for v, (lo, hi) in zip(d.z, (x_range, y_range), strict=True))
        card = (f'<span class="cm-card"><img src="{drawing_uri}" alt="drawing #{d.id}">'
                f'<img class="cm-recon" src="{recon_uri}" alt="its reconstruction"><br>'
                f"#{d.id} · looks like a <b>{d.predicted}</b> · corrected {d.corrected:.0f} nats"
                f'{"" if inside else " · off the map"}<span class="cm-recon"><br>left: drawn · right: its '
                "reconstruction</span></span>")
        if thumbnails and not mine:
            body = f'<img src="{drawing_uri}" alt="" style="border-color:{DIGIT_COLOURS[d.predicted]}">'
            cls = "cm-star cm-thumb"
        else:
            body, cls = "★", "cm-star cm-mine" if mine else "cm-star"
        marks.append(f'<div class="{cls}" tabindex="0" data-id="{d.id}" style="{_at(x, y, x_range, y_range)}">'
                     f"{body}{card}</div>")
    return _frame(layout, marks)


def most_unusual(drawings: Iterable[Drawing], n: int = 5) -> list[Drawing]:
    """The n drawings with the highest corrected anomaly score, highest first."""
    return sorted(drawings, key=lambda d: (-d.corrected, d.id))[:n]


def csv_text(drawings: Iterable[Drawing]) -> str:
    """One row per drawing: when, where, what it looks like, its scores and its state; nothing about who sent it."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["drawing", "time_utc", "z1", "z2", "predicted_class", "corrected_score", "neg_elbo", "state",
                "model"])
    for d in sorted(drawings, key=lambda d: d.id):
        w.writerow([d.id, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(d.time)), f"{d.z[0]:.4f}",
                    f"{d.z[1]:.4f}", d.predicted, f"{d.corrected:.2f}", f"{d.neg_elbo:.2f}", d.state, d.model])
    return out.getvalue()


def slide_png(codes: np.ndarray, labels: np.ndarray, drawings: list[Drawing], title: str) -> bytes:
    """A 1920 x 1080 slide: the test digits' map (slides.map_panel) with every drawing on it as its own 28 x 28
    picture (scaled up, framed in its predicted class's colour)."""
    side = slides.panel_side(1)
    extent = slides.map_extent(codes)
    # No class labels: the drawings are digits too and gather at the class hearts, where a label would hide
    # under them or pass for one; their frames and the colour key name the classes
    panel = slides.map_panel(codes, labels, side, extent, class_labels=False)
    axes = slides._Axes(side, -extent, extent)  # the panel's own data -> pixel mapping
    tile = max(28, side // 24)
    draw = ImageDraw.Draw(panel)
    if drawings:
        centres = axes.to_px(np.array([d.z for d in drawings], dtype=np.float32))
        lo, hi = axes.x0 + tile / 2, axes.x0 + axes.plot - tile / 2
        for d, (cx, cy) in zip(drawings, np.clip(centres, lo, hi), strict=True):
            x, y = int(cx - tile / 2), int(cy - tile / 2)
            picture = Image.fromarray(d.image(), mode="L").resize((tile, tile), Image.Resampling.NEAREST)
            panel.paste(picture.convert("RGB"), (x, y))
            draw.rectangle([x - 2, y - 2, x + tile + 1, y + tile + 1], outline=DIGIT_COLOURS[d.predicted], width=3)
    return slides.png_for_slide(panel, title, caption=f"{len(drawings)} drawings", key_colours=DIGIT_COLOURS)
