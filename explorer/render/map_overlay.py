"""A marker drawn over a Plotly map as a few positioned HTML boxes, not as a second chart: what the Draw page moves
at every stroke. The map (figures.freeze_map) is sent with the same figure every run and stays drawn; the overlay is
a ~1 KB element that the browser lays out in a frame.

A second, transparent Plotly chart stacked on the map would be remounted at every stroke (Streamlit remounts a
chart whose figure changed, and Plotly plots it anew); the overlay costs the browser only a layout, so what remains
of pen-up -> star moved is mostly the canvas component's own debounce before it sends a stroke. (SVG would be
simpler, but st.html drops it.)

The boxes are placed in a frame of the map's plot box (the figure's height minus its fixed margins) that keeps the
aspect ratio of the axis ranges, as large as fits, centred across and at the top -- which is exactly what Plotly does
to the plot area of figures._layout's equal-scale axes (constrain="domain", the y axis toward the top: a phone's map,
taller than wide, keeps its square under the title). So a position in data units lands on the same pixel as on the
map, whatever the width of the column."""
from __future__ import annotations

import html

STAR = "#ffd400"
INK = "#111111"
STAR_PX = 40  # font size of the ★ glyph


def _at(x: float, y: float, x_range, y_range) -> str:
    """CSS left/top of a data point, in percent of the frame."""
    (x0, x1), (y0, y1) = x_range, y_range
    return f"left:{100 * (x - x0) / (x1 - x0):.4f}%;top:{100 * (y1 - y) / (y1 - y0):.4f}%"


def star_overlay(layout, z=None, sigma=None, label: str = "your digit") -> str:
    """HTML of a layer for a map with this (frozen) Plotly layout: a star at z (none if z is None) and, given sigma,
    the 1σ and 2σ ellipses of q(z|x) = N(z, diag(sigma²)) over it. The star is a glyph of fixed size; the ellipses
    are in data units (for most digits a few pixels, hidden by the star). The layer lets the pointer through."""
    x_range, y_range = tuple(layout.xaxis.range), tuple(layout.yaxis.range)
    m, height = layout.margin, layout.height
    plot_px = height - m.t - m.b
    aspect = (x_range[1] - x_range[0]) / (y_range[1] - y_range[0])
    marks = []
    if z is not None:
        zx, zy = float(z[0]), float(z[1])
        marks.append(f'<div class="map-star" title="{html.escape(label)}" data-z="{zx:.4f},{zy:.4f}" '
                     f'style="position:absolute;{_at(zx, zy, x_range, y_range)};transform:translate(-50%,-52%);'
                     f"font-size:{STAR_PX}px;line-height:1;color:{STAR};-webkit-text-stroke:1.5px {INK};"
                     f'text-shadow:0 0 2px {INK}">★</div>')
        if sigma is not None:
            for scale, style in ((1, "solid"), (2, "dashed")):
                w = 100 * 2 * scale * float(sigma[0]) / (x_range[1] - x_range[0])
                h = 100 * 2 * scale * float(sigma[1]) / (y_range[1] - y_range[0])
                marks.append(f'<div class="map-ellipse" style="position:absolute;{_at(zx, zy, x_range, y_range)};'
                             f"width:{w:.4f}%;height:{h:.4f}%;transform:translate(-50%,-50%);border-radius:50%;"
                             f'border:2px {style} {INK};box-sizing:border-box"></div>')
    frame = (f"position:relative;width:min(100%,{plot_px * aspect:.2f}px);aspect-ratio:{aspect:.6f};"
             "max-height:100%")
    return (f'<div style="position:relative;height:{height}px;pointer-events:none">'
            f'<div style="{plot_box(layout)}"><div style="{frame}">{"".join(marks)}</div></div></div>')


def plot_box(layout) -> str:
    """CSS of the map's plot box (the figure under its fixed margins), which puts the frame of the axis ranges where
    Plotly puts the plot area: centred across, at the top (figures._layout's constraintoward="top")."""
    m = layout.margin
    return (f"position:absolute;left:{m.l}px;right:{m.r}px;top:{m.t}px;height:{layout.height - m.t - m.b}px;"
            "display:flex;align-items:flex-start;justify-content:center")
