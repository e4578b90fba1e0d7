"""Pure functions that turn a click on a Plotly chart into what the pages need: a test-digit index or a latent z
(and a test digit named by class and rank, as the pickers name it); a box or lasso selection into its test indices.

No Streamlit here: the selection is the plain dict `st.plotly_chart(..., on_select=...)` returns
({"selection": {"points": [{"x": .., "y": .., "customdata": [..], ...}], ...}}) or its "selection" part.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

# What a person draws on a map, and no more: each outline is redrawn on the next figure and kept in the session, so a
# selection from a client that is not a browser must not cost more than a person's. A person draws one box or lasso at
# a time; with Shift Plotly keeps the earlier ones, so a selection lists a few.
MAX_OUTLINES = 8
# Plotly smooths a lasso as it is drawn (points within ~1.5 px of a straight line go), so even a long, shaky
# freehand lasso in Chromium arrives with tens to a few hundred points; a longer one is thinned evenly to this many,
# which at the map's size keeps its shape to within a pixel or two.
MAX_VERTICES = 400


def selected_points(event) -> list[Mapping]:
    """The clicked/selected points of a Plotly selection event (empty when nothing is selected)."""
    if not event:
        return []
    selection = event.get("selection", event) if isinstance(event, Mapping) else None
    if not isinstance(selection, Mapping):
        return []
    return [p for p in (selection.get("points") or []) if isinstance(p, Mapping)]


def _first_custom(point: Mapping):
    custom = point.get("customdata")
    if isinstance(custom, Mapping):  # a typed-array row (numpy customdata) reaches Python as {"0": .., "1": ..}
        return custom.get("0", custom.get(0))
    if isinstance(custom, Sequence) and not isinstance(custom, (str, bytes)):
        return custom[0] if len(custom) else None
    return custom


def _test_index(value, count: int) -> int | None:
    """`value` as a test-digit index, or None unless it names one of the `count` test digits: a value no figure sent
    (10**6, -1, 1e300, NaN) selects nothing rather than failing the page (or, -1, picking the last digit)."""
    try:
        index = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return index if 0 <= index < count else None


def selected_index(event, count: int) -> int | None:
    """The test-digit index of the last selected point that names one of the `count` test digits, read from
    customdata[0].

    Point indices ("point_index") are per trace, so with one trace per digit class they do not identify
    a test digit; every figure on these pages puts the global index first in customdata instead.
    """
    for point in reversed(selected_points(event)):
        index = _test_index(_first_custom(point), count)
        if index is not None:
            return index
    return None


def is_region(event) -> bool:
    """Whether the event is a box or lasso selection (Streamlit lists the drawn shapes under "box" / "lasso"), not
    a click on one point."""
    selection = event.get("selection", event) if isinstance(event, Mapping) else None
    return isinstance(selection, Mapping) and bool(selection.get("box") or selection.get("lasso"))


def selected_indices(event, count: int) -> np.ndarray:
    """Every selected test-digit index (customdata[0]) of a box, lasso or click selection: sorted, each once (a digit
    drawn twice, e.g. also in a highlight trace, is counted once), int64, so at most `count`; points without one of
    the `count` test digits are skipped."""
    found = (_test_index(_first_custom(point), count) for point in selected_points(event))
    return np.unique(np.asarray([i for i in found if i is not None], dtype=np.int64))


def _list(value) -> Sequence:
    """A JSON array of the event as it is, anything else as an empty one."""
    return value if isinstance(value, (list, tuple)) else ()


def _outline(shape, box: bool) -> tuple[list[float], list[float]] | None:
    """One drawn box or lasso as a closed outline (xs, ys) of at most MAX_VERTICES finite points, or None: a box's
    four corners; a lasso's points, thinned evenly (first and last kept) before any is read, so a lasso's cost does
    not grow with what a client sends."""
    if not isinstance(shape, Mapping):
        return None
    xs, ys = _list(shape.get("x")), _list(shape.get("y"))
    if len(xs) != len(ys):
        return None
    if len(xs) > MAX_VERTICES:
        keep = np.linspace(0, len(xs) - 1, MAX_VERTICES).round().astype(int)
        xs, ys = [xs[k] for k in keep], [ys[k] for k in keep]
    try:
        xs, ys = [float(v) for v in xs], [float(v) for v in ys]
    except (TypeError, ValueError, OverflowError):
        return None
    if not all(map(math.isfinite, xs + ys)):
        return None
    if box and len(xs) == 2:
        xs, ys = [xs[0], xs[1], xs[1], xs[0]], [ys[0], ys[0], ys[1], ys[1]]
    return (xs, ys) if len(xs) >= 3 else None


def selection_outlines(event) -> list[tuple[list[float], list[float]]]:
    """The drawn boxes and lassos of a selection event as closed outlines (xs, ys) in data units, at most MAX_OUTLINES
    of them (the first listed) of at most MAX_VERTICES points each -- to draw them again on a figure that replaces
    the one they were drawn on."""
    selection = event.get("selection", event) if isinstance(event, Mapping) else None
    if not isinstance(selection, Mapping):
        return []
    outlines = []
    for kind in ("box", "lasso"):
        for shape in _list(selection.get(kind))[:MAX_OUTLINES - len(outlines)]:
            outline = _outline(shape, box=kind == "box")
            if outline is not None:
                outlines.append(outline)
    return outlines


def selected_z(event) -> tuple[float, float] | None:
    """(x, y) of the last selected point with finite coordinates: on the grid's click layer that is the cell centre
    in z (a NaN or an infinity, which no figure sends, selects nothing)."""
    for point in reversed(selected_points(event)):
        try:
            z = float(point.get("x")), float(point.get("y"))
        except (TypeError, ValueError, OverflowError):
            continue
        if all(map(math.isfinite, z)):
            return z
    return None


def index_of(labels, digit: int, rank: int) -> int:
    """The test index of the rank-th test digit whose label is `digit` (rank 0 = the first one)."""
    where = np.flatnonzero(np.asarray(labels) == digit)
    if len(where) == 0:
        raise ValueError(f"there is no test digit labelled {digit}")
    if not 0 <= rank < len(where):
        raise IndexError(f"there are {len(where)} test digits labelled {digit}; rank {rank} is out of range")
    return int(where[rank])


def digit_and_rank(labels, index: int) -> tuple[int, int]:
    """Inverse of index_of: (label, rank within its class) of test digit `index`."""
    labels = np.asarray(labels)
    if not 0 <= index < len(labels):
        raise IndexError(f"test index {index} is outside 0..{len(labels) - 1}")
    digit = int(labels[index])
    return digit, int(np.count_nonzero(labels[:index] == digit))
