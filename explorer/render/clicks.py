"""Pure functions that turn a click on a Plotly chart into what the pages need: a test-digit index or a latent z
(and a test digit named by class and rank, as the pickers name it); a box or lasso selection into its test indices.

No Streamlit here: the selection is the plain dict `st.plotly_chart(..., on_select=...)` returns
({"selection": {"points": [{"x": .., "y": .., "customdata": [..], ...}], ...}}) or its "selection" part.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


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


def selected_index(event) -> int | None:
    """The test-digit index of the last selected point, read from customdata[0].

    Point indices ("point_index") are per trace, so with one trace per digit class they do not identify
    a test digit; every figure on these pages puts the global index first in customdata instead.
    """
    for point in reversed(selected_points(event)):
        value = _first_custom(point)
        if value is None:
            continue
        try:
            return int(value)
        except (TypeError, ValueError):
            continue
    return None


def is_region(event) -> bool:
    """Whether the event is a box or lasso selection (Streamlit lists the drawn shapes under "box" / "lasso"), not
    a click on one point."""
    selection = event.get("selection", event) if isinstance(event, Mapping) else None
    return isinstance(selection, Mapping) and bool(selection.get("box") or selection.get("lasso"))


def selected_indices(event) -> np.ndarray:
    """Every selected test-digit index (customdata[0]) of a box, lasso or click selection: sorted, each once (a digit
    drawn twice, e.g. also in a highlight trace, is counted once), int64; points without one are skipped."""
    found = []
    for point in selected_points(event):
        value = _first_custom(point)
        try:
            found.append(int(value))
        except (TypeError, ValueError):
            continue
    return np.unique(np.asarray(found, dtype=np.int64))


def selection_outlines(event) -> list[tuple[list[float], list[float]]]:
    """The drawn boxes and lassos of a selection event as closed outlines (xs, ys) in data units: a box's four corners,
    a lasso's points -- to draw them again on a figure that replaces the one they were drawn on."""
    selection = event.get("selection", event) if isinstance(event, Mapping) else None
    if not isinstance(selection, Mapping):
        return []
    outlines = []
    for kind in ("box", "lasso"):
        for shape in selection.get(kind) or []:
            try:
                xs, ys = [float(v) for v in shape["x"]], [float(v) for v in shape["y"]]
            except (KeyError, TypeError, ValueError):
                continue
            if kind == "box" and len(xs) == 2 and len(ys) == 2:
                xs, ys = [xs[0], xs[1], xs[1], xs[0]], [ys[0], ys[0], ys[1], ys[1]]
            if len(xs) == len(ys) >= 3:
                outlines.append((xs, ys))
    return outlines


def selected_z(event) -> tuple[float, float] | None:
    """(x, y) of the last selected point: on the grid's click layer that is the cell centre in z."""
    for point in reversed(selected_points(event)):
        if point.get("x") is not None and point.get("y") is not None:
            try:
                return float(point["x"]), float(point["y"])
            except (TypeError, ValueError):
                continue
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
