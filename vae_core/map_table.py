"""The latent map as a table: one CSV row per test digit with its label, latent mean and σ, PCA-2D code and any anomaly
scores -- the coordinates behind the picture, for a selection or the whole map.

Written with the csv module (pandas is not a dependency of vae_core); `pandas.read_csv` opens it as it is. Floats are
written so they read back to the very same value: float32 columns (the latents and PCA codes) with 9 significant
digits, which is enough to round-trip any float32, and float64 columns (the scores) with Python's repr, the shortest
string that round-trips a double. %.6g would cut a z to 6 digits: close, but no longer the number the map drew.
"""
from __future__ import annotations

import csv
import io

import numpy as np

FIXED_COLUMNS = ("test_index", "label", "z1", "z2", "sigma1", "sigma2", "pc1", "pc2")


def _text(column: np.ndarray) -> list[str]:
    """Each value as the shortest text that reads back to it: integers as such, float32 to 9 significant digits."""
    if np.issubdtype(column.dtype, np.integer):
        return [str(v) for v in column.tolist()]
    if column.dtype.itemsize <= 4:
        return [f"{v:.9g}" for v in column.tolist()]
    return [repr(v) for v in column.astype(np.float64).tolist()]


def map_table(indices, labels, mu, logvar, pca_codes, scores: dict[str, np.ndarray] | None = None) -> str:
    """CSV text with a header test_index,label,z1,z2,sigma1,sigma2,pc1,pc2,<score names...> and one row per index.

    labels (N,), mu and logvar (N, 2), pca_codes (N, 2) and each score (N,) describe the whole test set; `indices`
    picks the rows (None: all N, in order). σ = exp(½ log σ²), computed in the logvar's precision."""
    labels, mu, logvar, pca_codes = (np.asarray(a) for a in (labels, mu, logvar, pca_codes))
    scores = {name: np.asarray(values) for name, values in (scores or {}).items()}
    n = len(labels)
    for name, a, shape in (("mu", mu, (n, 2)), ("logvar", logvar, (n, 2)), ("pca_codes", pca_codes, (n, 2)),
                           *((f"score {k!r}", v, (n,)) for k, v in scores.items())):
        if a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape}, expected {shape} (one per labelled digit)")
    clash = set(scores) & set(FIXED_COLUMNS)
    if clash:
        raise ValueError(f"score names {sorted(clash)} clash with the table's own columns")
    rows = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        raise IndexError(f"indices must lie in [0, {n}), got {rows.min()}..{rows.max()}")
    sigma = np.exp(0.5 * logvar[rows])
    columns = [rows, labels[rows].astype(np.int64), mu[rows, 0], mu[rows, 1], sigma[:, 0], sigma[:, 1],
               pca_codes[rows, 0], pca_codes[rows, 1], *(v[rows] for v in scores.values())]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED_COLUMNS, *scores])
    writer.writerows(zip(*(_text(c) for c in columns), strict=True))
    return out.getvalue()
