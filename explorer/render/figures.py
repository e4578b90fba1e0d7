"""Plotly figures the pages show, sized and coloured for a projector. Pure: arrays in, go.Figure out."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from explorer.render.grid_geometry import cell_centres
from explorer.render.palette import DIGIT_COLOURS, FLAGGED, SCORE_COLOURSCALE
from vae_core.label_places import label_places

FONT_SIZE = 18
HIGHLIGHT = "#111111"
# Room for the tick labels and title of a y axis (left) and an x axis (bottom) at FONT_SIZE, set rather than
# measured: with Plotly's automargin (on in its default template) the browser draws each chart once, finds the
# labels need more than the margin given, and draws it again -- a second draw of a 10k-point map on every load.
AXES_MARGIN = dict(l=72, b=64)
FIXED_AXIS = dict(automargin=False)
# The decoder grid's click markers: as wide as Plotly's least hover radius (3 px) allows, so the markers of two
# neighbouring cells never both cover the cursor, however small a screen draws the grid (decoder_grid_figure).
HIT_MARKER_PX = 6
LABEL_GREY = "#333333"  # a class label's digit on a map coloured by scores, where the digit colours are not shown


def _layout(fig: go.Figure, height: int, xtitle: str, ytitle: str, equal: bool = True) -> go.Figure:
    fig.update_layout(
        height=height, margin=dict(AXES_MARGIN, r=10, t=40), font=dict(size=FONT_SIZE),
        legend=dict(title_text="", font=dict(size=FONT_SIZE), itemsizing="constant", orientation="h",
                    yanchor="bottom", y=1.0, xanchor="left", x=0.0),
        hoverlabel=dict(font_size=FONT_SIZE), dragmode="pan", clickmode="event+select",
    )
    fig.update_xaxes(title_text=xtitle, zeroline=True, zerolinecolor="#bbbbbb", tickfont=dict(size=FONT_SIZE - 2),
                     **FIXED_AXIS)
    fig.update_yaxes(title_text=ytitle, zeroline=True, zerolinecolor="#bbbbbb", tickfont=dict(size=FONT_SIZE - 2),
                     **FIXED_AXIS)
    if equal:  # a plot taller than wide (a phone) keeps its square at the top, under its title and legend
        fig.update_xaxes(constrain="domain")
        fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain", constraintoward="top")
    return fig


def _padded_range(values: np.ndarray, pad: float = 0.05, at_least: float = 0.0) -> list[float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    lo, hi = min(lo, -at_least), max(hi, at_least)
    margin = (hi - lo) * pad
    return [lo - margin, hi + margin]


def digit_customdata(indices: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """customdata rows [test index, label] of the points of a digit map, in int16 when every index fits (the 10,000
    test digits do), else int32: the map's spec, which every rerun that shows it serialises, hashes and enqueues,
    is smaller (docs/performance.md)."""
    indices, labels = np.asarray(indices), np.asarray(labels)
    small = not len(indices) or int(indices.max()) <= np.iinfo(np.int16).max
    return np.column_stack([indices, labels]).astype(np.int16 if small else np.int32)


def digit_scatter(codes: np.ndarray, labels: np.ndarray, coord: str = "z", title: str = "",
                  height: int = 620, marker_size: int = 4, opacity: float = 0.7,
                  min_half_range: float = 0.0, highlight_selection: bool = False,
                  values: np.ndarray | None = None, value_name: str = "", class_labels: bool = True,
                  label_at: Mapping[int, tuple[float, float]] | None = None) -> go.Figure:
    """WebGL scatter of 2-D codes, one trace per digit (so the legend toggles classes) -- or, given `values` (one per
    point, e.g. an anomaly score), one trace coloured by them on SCORE_COLOURSCALE with a colour bar titled
    value_name, the highest drawn last (on top); the scale spans their 1st..99th percentile, so a few extreme
    points do not wash out the rest.

    customdata[:, 0] is the global test index (point indices are per trace), customdata[:, 1] the label.
    The axes span the data (and at least [-min_half_range, min_half_range], e.g. 3 to show the prior's 3σ circle).
    highlight_selection: a clicked point is drawn large and the others faded by Plotly itself, so a click does
    not change the figure and the 10k points are not sent again.
    class_labels: each class present has its digit written at the heart of its cloud (class_label_annotations), so
    the map reads as labelled clusters without the legend; at `label_at` when the caller has the places already (a
    page that builds its map on every run takes them from explorer.cache.class_label_places, made once per model).
    """
    codes, labels = np.asarray(codes, dtype=np.float32), np.asarray(labels)
    index = np.arange(len(labels))
    highlight = dict(selected=dict(marker=dict(size=max(16, 4 * marker_size), opacity=1.0)),
                     unselected=dict(marker=dict(opacity=0.25))) if highlight_selection else {}
    hover = f"test #%{{customdata[0]}} · label %{{customdata[1]}}<br>{coord} = (%{{x:.2f}}, %{{y:.2f}})"
    fig = go.Figure()
    groups = [(str(d), labels == d, dict(color=DIGIT_COLOURS[d])) for d in range(10)]
    if values is not None:
        values = np.asarray(values, dtype=np.float32)
        lo, hi = (np.percentile(values, (1, 99)) if len(values) else (0.0, 1.0))
        order = np.argsort(values, kind="stable")
        groups = [(value_name, order, dict(color=values[order], colorscale=SCORE_COLOURSCALE, cmin=float(lo),
                                           cmax=float(hi), colorbar=dict(title=dict(text=value_name, side="right"),
                                                                         thickness=16)))]
        hover += f"<br>{value_name} %{{marker.color:.1f}}"
    for name, rows, colour in groups:
        fig.add_trace(go.Scattergl(
            x=codes[rows, 0], y=codes[rows, 1], mode="markers", name=name, legendgroup=name,
            showlegend=values is None, marker=dict(size=marker_size, opacity=opacity, **colour),
            customdata=digit_customdata(index[rows], labels[rows]),
            hovertemplate=hover + "<extra></extra>", **highlight,
        ))
    fig.update_layout(title=dict(text=title, font=dict(size=FONT_SIZE + 4), y=0.99, yanchor="top"))
    _layout(fig, height, f"{coord}₁", f"{coord}₂")
    fig.update_layout(margin=dict(t=110 if values is None else 60))  # title above the one-line legend, if any
    if class_labels:
        fig.update_layout(annotations=class_label_annotations(codes, labels, by_label=values is None, places=label_at))
    if len(codes):
        fig.update_xaxes(range=_padded_range(codes[:, 0], at_least=min_half_range))
        fig.update_yaxes(range=_padded_range(codes[:, 1], at_least=min_half_range))
    return fig


def class_label_annotations(codes: np.ndarray, labels: np.ndarray, by_label: bool = True,
                            places: Mapping[int, tuple[float, float]] | None = None) -> list[dict]:
    """One layout annotation per class present in `labels`: its digit, bold, at the class's place on the map
    (`places`, else vae_core.label_places, as the slides place theirs), in the class's colour (by_label) or
    LABEL_GREY (a map coloured by scores), on a white semi-opaque box so it reads over the dots. Named
    "class label <digit>".
    Annotations take no clicks (captureevents is off): a click on a label reaches the points under it."""
    notes = []
    for d, (x, y) in (label_places(codes, labels) if places is None else places).items():
        colour = DIGIT_COLOURS[d] if by_label else LABEL_GREY
        notes.append(dict(x=x, y=y, xref="x", yref="y", text=f"<b>{d}</b>", name=f"class label {d}", showarrow=False,
                          font=dict(size=FONT_SIZE + 2, color=colour), bgcolor="rgba(255,255,255,0.9)",
                          bordercolor=colour, borderwidth=1.5, borderpad=1))
    return notes


def add_prior_contours(fig: go.Figure, radii=(1.0, 2.0, 3.0)) -> go.Figure:
    """Circles where the N(0, I) prior density falls to its 1σ, 2σ, 3σ contours."""
    for r in radii:
        fig.add_shape(type="circle", xref="x", yref="y", x0=-r, y0=-r, x1=r, y1=r, layer="above",
                      line=dict(color="#444444", width=1.5, dash="dash"))
        fig.add_annotation(x=r * 0.7071, y=r * 0.7071, text=f"{r:g}σ", showarrow=False, xanchor="left",
                           yanchor="bottom", bgcolor="rgba(255,255,255,0.85)",  # readable over the dots
                           font=dict(size=FONT_SIZE - 2, color="#444444"))
    return fig


def add_digits_picture(fig: go.Figure, image_uri: str, extent: tuple[float, float, float, float]) -> go.Figure:
    """Digits composed into one transparent picture (vc.digits_picture) over a map, stretched over its extent
    (x0, x1, y0, y1) in data units: on the map's equal-scale axes a square tile stays square, and the picture pans and
    zooms with the points. Above the points, so a drawn digit is not hidden by the dots of its neighbours."""
    x0, x1, y0, y1 = extent
    fig.add_layout_image(source=image_uri, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                         sizing="stretch", layer="above", xanchor="left", yanchor="top")
    return fig


def _outline_shape(xs, ys) -> dict:
    """A drawn box or lasso, closed, as a dashed path shape in data units."""
    path = "M " + " L ".join(f"{x:.6g},{y:.6g}" for x, y in zip(xs, ys, strict=True)) + " Z"
    return dict(type="path", path=path, xref="x", yref="y", layer="above",
                line=dict(color=HIGHLIGHT, width=2, dash="dash"))


def add_selection_highlight(fig: go.Figure, codes: np.ndarray, labels: np.ndarray, indices: np.ndarray,
                            outlines=(), by_label: bool = True, fade: float = 0.12) -> go.Figure:
    """A box or lasso selection drawn on a map: the map's points faded, the selected ones on top at full strength --
    in their digit colours (by_label) or in HIGHLIGHT (on a score-coloured map), ringed in dark -- and the drawn
    outlines ((xs, ys) in data units, closed) dashed. On the other map it shows where that map put the same digits.
    One small trace, its customdata [test index, label] like the map's, so a click on a highlighted digit selects it."""
    indices, labels = np.asarray(indices, dtype=np.int64), np.asarray(labels)
    for trace in fig.data:
        trace.marker.opacity = fade
    if outlines:  # in one update: fig.add_shape checks the whole shape list again on each call
        fig.layout.shapes = (*fig.layout.shapes, *(_outline_shape(xs, ys) for xs, ys in outlines))
    colour = np.asarray(DIGIT_COLOURS)[labels[indices]] if by_label else HIGHLIGHT
    fig.add_trace(go.Scattergl(
        x=np.asarray(codes)[indices, 0], y=np.asarray(codes)[indices, 1], mode="markers", name="selected",
        showlegend=False, marker=dict(size=6, color=colour, opacity=1.0, line=dict(width=0.6, color=HIGHLIGHT)),
        customdata=digit_customdata(indices, labels[indices]),
        hovertemplate="test #%{customdata[0]} · label %{customdata[1]} (selected)<extra></extra>",
    ))
    return fig


def label_counts_figure(labels: np.ndarray, height: int = 300) -> go.Figure:
    """How many digits of each class a selection holds: ten bars in the digit colours (empty classes included, so the
    bars keep their places from one selection to the next)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=10)[:10]
    fig = go.Figure(go.Bar(x=[str(d) for d in range(10)], y=counts, marker=dict(color=list(DIGIT_COLOURS)),
                           text=counts, textposition="outside", cliponaxis=False,
                           hovertemplate="label %{x}: %{y} digits<extra></extra>"))
    _layout(fig, height, "label", "digits", equal=False)
    fig.update_layout(showlegend=False, dragmode=False, margin=dict(t=30))
    fig.update_xaxes(type="category", zeroline=False)
    fig.update_yaxes(range=[0, max(1, int(counts.max())) * 1.15], fixedrange=True)
    return fig


def posterior_closeup(codes: np.ndarray, labels: np.ndarray, index: int, sigma, show_ellipse: bool = True,
                      height: int = 380) -> go.Figure:
    """A close-up of the latent map around test digit `index`: its mean, the test digits nearby in their colours,
    and (show_ellipse) the 1σ and 2σ ellipses of its q(z|x) -- too small to read on the whole map.

    Made at every click on the map, so it is built in one go (one trace for the neighbours, coloured point by point;
    the layout as one dict), and not validated (_validate=False: its properties are fixed here and covered by
    tests/app/test_latent_map.py); validated step by step it would cost tens of ms of the server's CPU per click."""
    codes, sigma = np.asarray(codes, dtype=float), np.asarray(sigma, dtype=float)
    labels = np.asarray(labels)
    centre = codes[index]
    half = max(5 * float(sigma.max()), 0.05)  # the 2σ ellipse spans 40% of the view
    near = np.flatnonzero((np.abs(codes - centre) <= half).all(axis=1))
    neighbours = dict(
        type="scatter", x=codes[near, 0], y=codes[near, 1], mode="markers", name="nearby", showlegend=False,
        marker=dict(color=np.asarray(DIGIT_COLOURS)[labels[near]].tolist(), size=9, opacity=0.8),
        customdata=digit_customdata(near, labels[near]),
        hovertemplate="test #%{customdata[0]} · label %{customdata[1]}<extra></extra>")
    mean = dict(type="scatter", x=[float(centre[0])], y=[float(centre[1])], mode="markers", name=f"test #{index}",
                showlegend=False, hoverinfo="skip", marker=dict(symbol="x-thin-open", size=14, color=HIGHLIGHT,
                                                                line=dict(width=4, color=HIGHLIGHT)))
    shapes, notes = [], []
    for k, s in enumerate((1.0, 2.0) if show_ellipse else ()):
        shapes.append(dict(type="circle", xref="x", yref="y", layer="above",
                           x0=centre[0] - s * sigma[0], x1=centre[0] + s * sigma[0],
                           y0=centre[1] - s * sigma[1], y1=centre[1] + s * sigma[1],
                           line=dict(color=HIGHLIGHT, width=3 if k == 0 else 2, dash="solid" if k == 0 else "dot")))
        notes.append(dict(x=centre[0] + s * sigma[0] * 0.7071, y=centre[1] + s * sigma[1] * 0.7071, text=f"{s:g}σ",
                          showarrow=False, xanchor="left", yanchor="bottom", bgcolor="rgba(255,255,255,0.8)",
                          font=dict(size=FONT_SIZE - 4, color=HIGHLIGHT)))
    axis = dict(zeroline=False, tickfont=dict(size=FONT_SIZE - 2), constrain="domain", **FIXED_AXIS)
    return go.Figure(data=[neighbours, mean], layout=dict(
        height=height, margin=dict(AXES_MARGIN, r=10, t=10), font=dict(size=FONT_SIZE), showlegend=False,
        hoverlabel=dict(font=dict(size=FONT_SIZE)), dragmode=False, clickmode="event+select", shapes=shapes,
        annotations=notes, xaxis=dict(title=dict(text="z₁"), range=[centre[0] - half, centre[0] + half], **axis),
        yaxis=dict(title=dict(text="z₂"), range=[centre[1] - half, centre[1] + half], scaleanchor="x", scaleratio=1,
                   **axis)), _validate=False)


def add_path(fig: go.Figure, path: np.ndarray, names=("A", "B")) -> go.Figure:
    """An interpolation path through latent space: its frames as dots, the ends labelled A and B."""
    path = np.asarray(path)
    fig.add_trace(go.Scattergl(  # WebGL, so it is drawn above the WebGL scatter
        x=path[:, 0], y=path[:, 1], mode="lines+markers", name="path", showlegend=False, hoverinfo="skip",
        line=dict(color=HIGHLIGHT, width=3), marker=dict(size=9, color="white", line=dict(width=2, color=HIGHLIGHT)),
    ))
    fig.add_trace(go.Scattergl(
        x=path[[0, -1], 0], y=path[[0, -1], 1], mode="markers+text", text=list(names), showlegend=False,
        hoverinfo="skip", textposition="top center", textfont=dict(size=FONT_SIZE + 6, color=HIGHLIGHT),
        marker=dict(size=16, color=HIGHLIGHT, symbol="diamond"),
    ))
    return fig


PRIOR_MASS_RADIUS = 3.0  # the hole map covers |z| <= 3: the 2-D prior's 3σ disc holds 98.9% of its mass (1 - e^-4.5)


# A phone's heatmap (phone=True below): its colour bar lies under the plot instead of beside it, where it took a
# third of a ~360-px width from a square map; the height fits the square, the axis title and the bar.
PHONE_COLOUR_BAR = dict(orientation="h", x=0.04, xanchor="left", y=-0.3, yanchor="top", thickness=12, len=0.85)
PHONE_HEATMAP_HEIGHT = 500
PHONE_HOLE_MAP_HEIGHT = 660  # the map's square, its colour bar and a four-row legend under it


def density_images(axis: np.ndarray, log_q: np.ndarray, log_p: np.ndarray, log_scale: bool = True,
                   decades: float = 4.0, height: int = 520, phone: bool = False) -> tuple[go.Figure, go.Figure]:
    """q(z) and p(z) on one square grid (row 0 at the bottom) as two heatmaps on the same axes and one colour range:
    log₁₀ of the densities over `decades` decades below the higher peak, or the densities themselves. `phone`: the
    colour bar under the plot, at a phone's height."""
    peak = max(float(log_q.max()), float(log_p.max()))
    figs = []
    for log_density, title in ((log_q, "Aggregate posterior q(z)"), (log_p, "Prior p(z) = N(0, I)")):
        if log_scale:
            z, lo, hi, unit = log_density / np.log(10), peak / np.log(10) - decades, peak / np.log(10), "log₁₀ density"
        else:
            z, lo, hi, unit = np.exp(log_density), 0.0, float(np.exp(peak)), "density"
        bar = (dict(PHONE_COLOUR_BAR, title=dict(text=unit, side="top")) if phone
               else dict(title=dict(text=unit, side="right"), thickness=14))
        fig = go.Figure(go.Heatmap(x=axis, y=axis, z=z, zmin=lo, zmax=hi, colorscale="Viridis", colorbar=bar,
                                   hovertemplate=f"z = (%{{x:.2f}}, %{{y:.2f}})<br>{unit} %{{z:.3g}}<extra></extra>"))
        _layout(fig, PHONE_HEATMAP_HEIGHT if phone else height, "z₁", "z₂")
        fig.update_layout(title=dict(text=title, font=dict(size=FONT_SIZE + 2)), dragmode=False)
        if phone:
            fig.update_layout(margin=dict(b=120))
        fig.update_xaxes(range=[axis[0], axis[-1]], showgrid=False, zeroline=False)
        fig.update_yaxes(range=[axis[0], axis[-1]], showgrid=False, zeroline=False)
        figs.append(fig)
    return figs[0], figs[1]


def hole_map(axis: np.ndarray, log_q: np.ndarray, log_p: np.ndarray, tau: float, means: np.ndarray | None = None,
             picks: dict[str, np.ndarray] | None = None, radius: float = PRIOR_MASS_RADIUS, height: int = 640,
             phone: bool = False) -> go.Figure:
    """log₁₀ q(z)/p(z) inside the prior's `radius` disc (where p has its mass): red where q is below p, blue above,
    the hole boundary q = tau·p as a black line; the test digits' means (N, 2) faintly on top, and `picks`
    {name: z (k, 2)} (e.g. the decoded prior samples) as markers. `phone`: the colour bar under the plot and the
    legend under the bar, at a phone's height."""
    z1, z2 = np.meshgrid(axis, axis)
    ratio = (log_q - log_p) / np.log(10)
    ratio = np.where(np.hypot(z1, z2) <= radius, np.clip(ratio, -3.0, 3.0), np.nan)
    ticks = (dict(tickvals=[-3, -1, 1, 3], ticktext=["≤ 0.001", "0.1", "10", "≥ 1000"]) if phone  # room for them
             else dict(tickvals=[-3, -2, -1, 0, 1, 2, 3], ticktext=["≤ 0.001", "0.01", "0.1", "1", "10", "100", "≥ 1000"]))
    bar = (dict(PHONE_COLOUR_BAR, title=dict(text="q / p", side="top"), **ticks) if phone
           else dict(title=dict(text="q / p", side="right"), thickness=14, **ticks))
    fig = go.Figure(go.Heatmap(
        x=axis, y=axis, z=ratio, zmin=-3, zmax=3, zmid=0, colorscale="RdBu", name="q/p", colorbar=bar,
        hovertemplate="z = (%{x:.2f}, %{y:.2f})<br>log₁₀ q/p = %{z:.2f}<extra></extra>"))
    level = float(np.log10(tau))
    fig.add_trace(go.Contour(x=axis, y=axis, z=ratio, showscale=False, hoverinfo="skip", name=f"q = {tau:g}·p",
                             contours=dict(start=level, end=level, size=1, coloring="none"),
                             line=dict(color=HIGHLIGHT, width=1.5)))
    if means is not None:
        fig.add_trace(go.Scattergl(x=means[:, 0], y=means[:, 1], mode="markers", name="test digits' μ",
                                   hoverinfo="skip", marker=dict(color="#333333", size=2, opacity=0.18)))
    for (name, z), symbol in zip((picks or {}).items(), ("x", "circle-open"), strict=False):
        fig.add_trace(go.Scatter(x=z[:, 0], y=z[:, 1], mode="markers", name=name,
                                 marker=dict(symbol=symbol, size=11, color="#ffd400", line=dict(width=2, color=HIGHLIGHT)),
                                 hovertemplate=f"{name}<br>z = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>"))
    add_prior_contours(fig, radii=(radius,))
    _layout(fig, PHONE_HOLE_MAP_HEIGHT if phone else height, "z₁", "z₂")
    fig.update_layout(title=dict(text="Holes: where the prior has mass but q(z) has little", font=dict(size=FONT_SIZE + 2)),
                      legend=dict(orientation="h", yanchor="top", y=-0.7 if phone else -0.12, xanchor="left", x=0.0),
                      margin=dict(t=50, b=10), dragmode=False)  # the legend under the map (and its bar, on a phone)
    fig.update_xaxes(range=[axis[0], axis[-1]], showgrid=False, zeroline=False)
    fig.update_yaxes(range=[axis[0], axis[-1]], showgrid=False, zeroline=False)
    return fig


def decoder_grid_figure(image_uri: str, grid_size: int, extent: tuple[float, float], height: int = 760,
                        overlay: tuple[np.ndarray, np.ndarray] | None = None) -> go.Figure:
    """The decoded grid as one picture on z axes, with an invisible marker at each cell centre to click.

    Plotly cannot report clicks on an image, so a transparent scatter layer carries the selection;
    customdata is (row, col). The clicked cell gets an outline from Plotly's own `selected` style, so a click
    does not change the figure (and the picture is not sent again).

    Plotly selects the point its hover picks, and it counts every marker that covers the cursor as equally near,
    keeping the last (the cell below, in row-major order). Markers are sized in screen pixels and a phone draws the
    grid smaller than a desktop, so the click markers stay smaller than any cell (HIT_MARKER_PX), the nearest centre
    is looked for at any distance (hoverdistance -1: within the picture, the cell under the cursor) and only the
    selected marker takes a cell's size, for its outline. The axes are fixed: nothing zooms the grid, and a double tap
    (Plotly's reset, to ranges fitted to the markers) would move it from under the tap that follows.
    """
    lo, hi = extent
    step = (hi - lo) / max(grid_size - 1, 1)
    half = step / 2 if grid_size > 1 else 0.5
    fig = go.Figure()
    fig.add_layout_image(source=image_uri, xref="x", yref="y", x=lo - half, y=hi + half,
                         sizex=(hi - lo) + 2 * half, sizey=(hi - lo) + 2 * half,
                         sizing="stretch", layer="below", xanchor="left", yanchor="top")
    if overlay is not None:
        codes, labels = overlay
        for digit in range(10):
            rows = np.asarray(labels) == digit
            fig.add_trace(go.Scattergl(
                x=codes[rows, 0], y=codes[rows, 1], mode="markers", name=str(digit), legendgroup=str(digit),
                hoverinfo="skip", marker=dict(color=DIGIT_COLOURS[digit], size=4, opacity=0.6),
            ))
    z1, z2 = cell_centres(grid_size, extent)
    rows, cols = np.divmod(np.arange(grid_size * grid_size), grid_size)
    plot_px = height - 60
    cell_px = max(6.0, 0.92 * plot_px / grid_size)
    fig.add_trace(go.Scatter(
        x=z1, y=z2, mode="markers", name="cells", showlegend=False,
        customdata=np.column_stack([rows, cols]).astype(np.int32),
        marker=dict(symbol="square-open", size=HIT_MARKER_PX, color="#e4002b", opacity=0.0, line=dict(width=3)),
        selected=dict(marker=dict(opacity=1.0, size=cell_px)), unselected=dict(marker=dict(opacity=0.0)),
        hovertemplate="z = (%{x:.2f}, %{y:.2f})<extra></extra>",
    ))
    _layout(fig, height, "z₁", "z₂")
    pad = half
    fig.update_xaxes(range=[lo - pad, hi + pad], showgrid=False, zeroline=False, constrain="domain", fixedrange=True)
    fig.update_yaxes(range=[lo - pad, hi + pad], showgrid=False, zeroline=False, constrain="domain", fixedrange=True)
    fig.update_layout(showlegend=overlay is not None, dragmode=False, plot_bgcolor="black", hoverdistance=-1)
    return fig


def loss_curves(history: list[dict], term: str = "loss", label: str = "−ELBO", height: int = 400,
                font_size: int = FONT_SIZE, epochs: int | None = None, running: tuple[int, float] | None = None
                ) -> go.Figure:
    """Train (solid) and test (dashed) curves of one term of the −ELBO per epoch ("loss", "reconstruction" or "kl").

    epochs: fix the x axis to a whole run (a live training); running: (epoch, loss so far) of the epoch under way."""
    x = [h["epoch"] for h in history]
    fig = go.Figure()
    for split, dash in (("train", "solid"), ("test", "dash")):
        fig.add_scatter(x=x, y=[h[f"{split}_{term}"] for h in history], name=split, mode="lines+markers",
                        line=dict(width=3, dash=dash), marker=dict(size=8))
    scored = [h.get("test_images") for h in history]
    if len({n for n in scored if n}) > 1:  # a run that scored early epochs on a sample (TrainConfig.eval_subset)
        fig.data[1].update(name=f"test ({min(n for n in scored if n):,} digits until the last epoch)",
                           customdata=scored, hovertemplate="%{y:.2f} on %{customdata:,} test digits")
    if running is not None:
        fig.add_scatter(x=[running[0]], y=[running[1]], mode="markers", name="this epoch",
                        marker=dict(size=12, symbol="diamond"))
    n = epochs or max(x, default=1)
    fig.update_layout(height=height, font=dict(size=font_size), template="plotly_white", hovermode="x unified",
                      margin=dict(AXES_MARGIN, r=10, t=30), legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      xaxis=dict(title="epoch", dtick=max(1, n // 10), **FIXED_AXIS,
                                 **({"range": [0.5, n + 0.5]} if epochs else {})),
                      yaxis=dict(title=f"{label} (nats / image)", **FIXED_AXIS))
    return fig


def same_axes(*figs: go.Figure) -> None:
    """Give every figure the union of their x ranges and of their y ranges, so a position means the same in each."""
    for axis in ("xaxis", "yaxis"):
        ranges = [fig.layout[axis].range for fig in figs if fig.layout[axis].range is not None]
        if ranges:
            span = [min(r[0] for r in ranges), max(r[1] for r in ranges)]
            for fig in figs:
                fig.layout[axis].range = span




class FrozenFigure(go.Figure):
    """A finished figure that is shared (e.g. by every session of a server) and never changed again: the dict Streamlit
    serialises at every st.plotly_chart (to_dict: a deep copy of every array, base64-encoded, several ms for a
    10k-point map) is made once, by `frozen`."""

    _spec: dict

    def to_dict(self) -> dict:
        return self._spec


def frozen(fig: go.Figure) -> FrozenFigure:
    """The finished `fig` itself, made a FrozenFigure (no copy: copying a 10k-point figure validates it all
    again); the caller hands out only the result and changes neither again."""
    spec = fig.to_dict()
    fig.__class__ = FrozenFigure
    fig._spec = spec
    return fig


def freeze_map(fig: go.Figure) -> go.Figure:
    """A map made a fixed backdrop for markers drawn over it (explorer.render.map_overlay): its plot area no longer depends
    on the legend or title (fixed margins) and its axes do not zoom or pan, so the overlay lines up with it. Frozen: it is
    shared, never changed."""
    fig.update_layout(margin=dict(autoexpand=False), dragmode=False)
    fig.update_xaxes(fixedrange=True)
    fig.update_yaxes(fixedrange=True)
    return frozen(fig)


def _film_map_traces(codes: np.ndarray, labels: np.ndarray, marker_size: int = 6) -> list[go.Scatter]:
    """One trace per digit (always all ten, so animation frames can address them by index). SVG, not WebGL: in
    Streamlit's Plotly a WebGL scatter is only redrawn by a full redraw of the figure, an SVG one moves its 2,000
    points in a transition, several times faster a frame."""
    codes = np.asarray(codes, dtype=np.float32)
    return [go.Scatter(x=codes[labels == d, 0], y=codes[labels == d, 1], mode="markers", name=str(d),
                         legendgroup=str(d), marker=dict(color=DIGIT_COLOURS[d], size=marker_size, opacity=0.75),
                         hovertemplate=f"label {d}<br>z = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>")
            for d in range(10)]


def film_map(codes: np.ndarray, labels: np.ndarray, extent: float, title: str = "", height: int = 560) -> go.Figure:
    """One frame of a training film: the filmed digits' latent means on fixed axes [-extent, extent]^2 with the
    prior's 1σ-3σ circles (a live training's latest frame)."""
    fig = go.Figure(_film_map_traces(codes, np.asarray(labels)))
    add_prior_contours(fig)
    _layout(fig, height, "z₁", "z₂")
    fig.update_layout(title=dict(text=title, font=dict(size=FONT_SIZE + 4), y=0.99, yanchor="top"),
                      margin=dict(t=130), dragmode=False)  # the title above the legend (two rows in a half-width column)
    fig.update_xaxes(range=[-extent, extent])
    fig.update_yaxes(range=[-extent, extent])
    return fig


def film_figure(means: np.ndarray, labels: np.ndarray, captions: list[str], epochs: np.ndarray,
                grid_uris: list[str] | None, history: list[dict], extent: float, grid_extent: float = 3.0,
                grid_cells: int = 12, frame_ms: int = 600, transition_ms: int = 250, height: int = 980,
                stacked: bool = False) -> go.Figure:
    """A training film as one Plotly animation, played in the browser (no server round trip per frame): the latent
    means of the filmed digits (F, n, 2) on axes fixed over the whole film, the decoded grid of each frame (PNG data
    URIs, None without grids) and the loss curves with a cursor at the frame's epoch; Play (from the start), Pause and
    Resume buttons and a slider labelled by `captions`. It opens on the last frame, the trained model's map: the first
    is a blob at the origin. Trace order: 10 digit traces, then the grid-less loss traces, the cursor last.

    The map and the grid sit side by side over the loss curves, or with `stacked` one under the other (a phone's
    width: side by side, each was ~150 px wide); the grid's axes are x2/y2 either way."""
    from plotly.subplots import make_subplots

    means, labels, epochs = np.asarray(means, dtype=np.float32), np.asarray(labels), np.asarray(epochs, dtype=float)
    titles = ["Latent means μ(x)"] + (["Decoded grid (z₂ up)"] if grid_uris else []) + (["Loss"] if history else [])
    if stacked:
        cols, rows = 1, len(titles)
        grid_at, loss_at = (2, 1), (len(titles), 1)
        specs = [[{}]] * rows
        row_heights = [0.37] * (rows - 1) + [0.26] if history else None
    else:
        cols, rows = (2 if grid_uris else 1), (2 if history else 1)
        grid_at, loss_at = (1, 2), (2, 1)
        specs = [[{}] * cols] + ([[{"colspan": cols}] + [None] * (cols - 1)] if history else [])
        row_heights = [0.68, 0.32] if history else None
    fig = make_subplots(rows=rows, cols=cols, specs=specs, row_heights=row_heights,
                        vertical_spacing=0.11 if stacked else 0.1, horizontal_spacing=0.08, subplot_titles=titles)
    last = len(means) - 1  # the frame the figure opens on
    for trace in _film_map_traces(means[last], labels):
        fig.add_trace(trace, row=1, col=1)
    add_prior_contours(fig)
    fig.update_xaxes(range=[-extent, extent], title_text="z₁", constrain="domain", row=1, col=1)
    fig.update_yaxes(range=[-extent, extent], title_text="z₂", scaleanchor="x", scaleratio=1, constrain="domain",
                     row=1, col=1)

    def grid_image(f: int) -> dict:
        half = grid_extent / max(grid_cells - 1, 1)  # the outer cells reach half a cell beyond +-grid_extent
        side = 2 * (grid_extent + half)
        return dict(source=grid_uris[f], xref="x2", yref="y2", x=-grid_extent - half, y=grid_extent + half,
                    sizex=side, sizey=side, sizing="stretch", xanchor="left", yanchor="top", layer="below")

    if grid_uris:
        reach = grid_extent * (1 + 1 / max(grid_cells - 1, 1))
        fig.add_layout_image(grid_image(last))
        fig.update_xaxes(range=[-reach, reach], title_text="z₁", showgrid=False, zeroline=False, constrain="domain",
                         row=grid_at[0], col=grid_at[1])
        fig.update_yaxes(range=[-reach, reach], title_text="z₂", showgrid=False, zeroline=False, scaleanchor="x2",
                         scaleratio=1, constrain="domain", row=grid_at[0], col=grid_at[1])
    cursor = []
    if history:
        for trace in loss_curves(history).data:
            trace.update(legendgroup="loss", showlegend=False, hovertemplate="%{y:.1f}")
            fig.add_trace(trace, row=loss_at[0], col=loss_at[1])
        values = [h[f"{s}_loss"] for h in history for s in ("train", "test")]
        lo, hi = min(values), max(values)
        top = hi + 0.1 * (hi - lo + 1)
        cursor = [len(fig.data)]
        fig.add_trace(go.Scatter(x=[epochs[last]] * 2, y=[lo - 0.05 * (hi - lo + 1), top], mode="lines",
                                 line=dict(color=HIGHLIGHT, width=3), showlegend=False, hoverinfo="skip"),
                      row=loss_at[0], col=loss_at[1])
        n = max(int(np.ceil(epochs.max())), len(history))
        fig.update_xaxes(title_text="epoch", range=[-0.3, n + 0.3], row=loss_at[0], col=loss_at[1])
        fig.update_yaxes(title_text="−ELBO (nats / image)", range=[lo - 0.05 * (hi - lo + 1), top], row=loss_at[0],
                         col=loss_at[1])

    frames = []
    for f in range(len(means)):
        data = [go.Scatter(x=means[f, labels == d, 0], y=means[f, labels == d, 1]) for d in range(10)]
        if cursor:
            data.append(go.Scatter(x=[epochs[f]] * 2))
        frames.append(go.Frame(name=str(f), data=data, traces=list(range(10)) + cursor,
                               layout=dict(images=[grid_image(f)]) if grid_uris else None))
    fig.frames = frames
    # No full redraw per frame (the SVG points, the cursor and the grid picture change without one); playing, the
    # points glide to their next place, so the eye can follow a cluster from frame to frame.
    step = dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0))
    resume = dict(mode="immediate", fromcurrent=True, frame=dict(duration=frame_ms, redraw=False),
                  transition=dict(duration=transition_ms, easing="cubic-in-out"))
    play = dict(resume, fromcurrent=False)
    fig.update_layout(
        height=height, font=dict(size=FONT_SIZE), margin=dict(l=10, r=10, t=90, b=230 if stacked else 130),
        dragmode=False,
        hovermode="closest", plot_bgcolor="white",
        legend=dict(orientation="h", yanchor="bottom", y=1.05, xanchor="left", x=0, itemsizing="constant",
                    font=dict(size=FONT_SIZE)),
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0, y=0, xanchor="left", yanchor="top",
                          pad=dict(t=70, r=10), font=dict(size=FONT_SIZE),
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="❚❚ Pause", method="animate", args=[[None], step]),
                                   dict(label="▷ Resume", method="animate", args=[None, resume])])],
        # stacked (a phone's width), the slider goes under the buttons rather than beside them
        sliders=[dict(active=last, x=0 if stacked else 0.3, len=0.9 if stacked else 0.7, y=0, yanchor="top",
                      pad=dict(t=150 if stacked else 50), font=dict(size=FONT_SIZE - 4),
                      currentvalue=dict(prefix="", font=dict(size=FONT_SIZE + 4), xanchor="left"),
                      steps=[dict(label=captions[f], method="animate", args=[[str(f)], step])
                             for f in range(len(means))])],
    )
    return fig


def score_histogram(scores: np.ndarray, threshold: float, name: str, bins: int = 80, height: int = 380,
                    log_counts: bool = False) -> go.Figure:
    """Histogram of scores (counted here: ~80 bars go to the browser, not 10k values), the bars above `threshold`
    in FLAGGED red, and the threshold as a dashed line. log_counts: a log count axis, on which the thin tail of
    atypical digits is seen."""
    counts, edges = np.histogram(np.asarray(scores, dtype=np.float64), bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    flagged = centres > threshold
    fig = go.Figure(go.Bar(
        x=centres, y=counts, width=np.diff(edges), marker=dict(color=np.where(flagged, FLAGGED, "#8c9bab"),
                                                                  line=dict(width=0)),
        customdata=np.column_stack([edges[:-1], edges[1:]]),
        hovertemplate=f"{name} %{{customdata[0]:.1f}} to %{{customdata[1]:.1f}}: %{{y}} digits<extra></extra>",
    ))
    fig.add_vline(x=threshold, line=dict(color=HIGHLIGHT, width=2, dash="dash"))
    _layout(fig, height, f"{name} (nats)", "test digits", equal=False)
    fig.update_layout(showlegend=False, bargap=0, dragmode=False, margin=dict(t=10))
    fig.update_xaxes(zeroline=False)  # 0 nats means nothing special here (the corrected score is mostly negative)
    if log_counts:
        fig.update_yaxes(type="log")
    return fig


def roc_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], aurocs: dict[str, float], names: dict[str, str],
               height: int = 480) -> go.Figure:
    """ROC curves, one per probe set ({set: (false positive rate, true positive rate)}), named with their AUROC, over
    the diagonal of a score that cannot tell."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#bbbbbb", dash="dot"),
                               hoverinfo="skip", showlegend=False))
    for key, (fpr, tpr) in curves.items():
        fig.add_trace(go.Scatter(
            x=fpr, y=tpr, mode="lines", line=dict(width=3), name=f"{names.get(key, key)} ({aurocs[key]:.3f})",
            hovertemplate="%{y:.1%} of the probes flagged with %{x:.1%} of the digits<extra></extra>",
        ))
    _layout(fig, height, "digits flagged (false positives)", "probes flagged (true positives)")
    fig.update_layout(dragmode=False, margin=dict(t=10), legend=dict(  # in the corner no ROC curve goes near
        orientation="v", x=0.99, y=0.03, xanchor="right", yanchor="bottom", bgcolor="rgba(255,255,255,0.85)",
        font=dict(size=FONT_SIZE - 4)))
    fig.update_xaxes(range=[-0.01, 1.01], tickformat=".0%")
    fig.update_yaxes(range=[-0.01, 1.01], tickformat=".0%")
    return fig
