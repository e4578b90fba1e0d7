"""Pure functions that turn a click on a Plotly chart into what the pages need: a test-digit index or a latent z
(and a test digit named by class and rank, as the pickers name it).

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
