"""Where a 2-D map writes each digit class's name: at the heart of the class's own cloud. The app's Plotly maps and the
slides' Pillow maps both place their labels here, so a slide and the page agree. numpy only (no torch, no
scikit-learn): the app builds its maps before either is needed."""
from __future__ import annotations

import numpy as np

BINS = 48  # square cells across the bulk of the map (its 1st to 99th percentile) for the density of each class
MAX_BINS = 4 * BINS  # at most this many cells along an axis: far outliers make the cells larger, not more numerous
_KERNEL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16  # binomial smoothing over two cells either side


def _smooth(counts: np.ndarray) -> np.ndarray:
    """Counts (classes, nx, ny) blurred with _KERNEL along both grid axes, zero beyond the grid."""
    reach = len(_KERNEL) // 2
    for axis in (1, 2):
        width = [(0, 0)] * 3
        width[axis] = (reach, reach)
        padded = np.pad(counts, width)
        n = counts.shape[axis]
        counts = sum(w * padded.take(np.arange(k, k + n), axis=axis) for k, w in enumerate(_KERNEL))
    return counts


def _cells(codes: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Each code's cell on a grid of square cells over all codes (sized by the bulk, so a few outliers do not make
    the cells coarse), as one flat index, and the grid's shape."""
    lo, hi = codes.min(axis=0), codes.max(axis=0)
    bulk = np.percentile(codes, (1, 99), axis=0)
    cell = max(float((bulk[1] - bulk[0]).max()) / BINS, float((hi - lo).max()) / MAX_BINS, 1e-12)
    shape = np.minimum(np.floor((hi - lo) / cell).astype(int) + 1, MAX_BINS + 1)
    index = np.minimum(((codes - lo) / cell).astype(int), shape - 1)
    return index[:, 0] * shape[1] + index[:, 1], (int(shape[0]), int(shape[1]))


def label_places(codes, labels) -> dict[int, tuple[float, float]]:
    """{class: (x, y)} for each class present in `labels`: the place to write its name on the map of `codes` (n, 2).

    The place is one of the class's own points, where the class is densest *and* dominates: the cell of a grid
    that maximises own² / all (its smoothed count times its share of the points there), then that cell's class
    point nearest the mean of them. Not the class mean, which a class in two pieces or a crescent puts in another
    class's cloud; the larger of two equally spread pieces wins, and two classes sharing a cloud (4 and 9) get their
    labels on the sides each dominates rather than one on the other. Counting on a grid is linear in the points,
    where k nearest neighbours would cost more and need scikit-learn, whose import is slow."""
    codes = np.asarray(codes, dtype=np.float64).reshape(-1, 2)
    labels = np.asarray(labels).reshape(-1)
    finite = np.isfinite(codes).all(axis=1)  # a point with no place on the map holds no label
    codes, labels = codes[finite], labels[finite]
    if not len(codes):
        return {}
    classes, which = np.unique(labels, return_inverse=True)
    flat, shape = _cells(codes)
    cells = shape[0] * shape[1]
    counts = np.bincount(which * cells + flat, minlength=len(classes) * cells).reshape(len(classes), *shape)
    own = _smooth(counts.astype(np.float64))
    score = (own * own / np.maximum(own.sum(axis=0), 1e-12)).reshape(len(classes), cells)
    point_score = score[which, flat]
    places = {}
    for c, name in enumerate(classes):
        rows = np.flatnonzero(which == c)
        best = rows[flat[rows] == flat[rows[np.argmax(point_score[rows])]]]  # the class's points in its best cell
        pick = best[np.argmin(((codes[best] - codes[best].mean(axis=0)) ** 2).sum(axis=1))]
        places[name.item()] = (float(codes[pick, 0]), float(codes[pick, 1]))
    return places
