"""Where the cells of a decoded G x G grid sit in z-space: cell <-> z, the cell centres (as vae_core.decode_grid lays
them out: row 0 at the top, z2 = extent max)."""
from __future__ import annotations

import numpy as np

import vae_core as vc


def cell_to_z(row: int, col: int, grid_size: int, extent: tuple[float, float]) -> tuple[float, float]:
    """Centre z of grid cell (row, col): column c has z1[c], row r has z2[r] (row 0 at the top, z2 = extent max)."""
    if not (0 <= row < grid_size and 0 <= col < grid_size):
        raise IndexError(f"cell ({row}, {col}) is outside a {grid_size}x{grid_size} grid")
    z1, z2 = vc.grid_axes(grid_size, extent)
    return float(z1[col]), float(z2[row])


def z_to_cell(z, grid_size: int, extent: tuple[float, float]) -> tuple[int, int]:
    """The (row, col) of the grid cell whose centre is nearest to z; points outside the grid snap to its edge."""
    lo, hi = extent
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    if grid_size == 1 or hi == lo:
        return 0, 0
    step = (hi - lo) / (grid_size - 1)
    col = int(np.clip(np.rint((z[0] - lo) / step), 0, grid_size - 1))
    row = int(np.clip(np.rint((hi - z[1]) / step), 0, grid_size - 1))
    return row, col


def cell_centres(grid_size: int, extent: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(z1, z2) of every cell centre, row-major like vae_core.decode_grid: (G*G,) each."""
    z1, z2 = vc.grid_axes(grid_size, extent)
    zz1, zz2 = np.meshgrid(z1, z2)
    return zz1.reshape(-1), zz2.reshape(-1)
