"""Where the cells of a decoded G x G grid sit in z-space: the cell centres (as vae_core.decode_grid lays them out:
row 0 at the top, z2 = extent max)."""
from __future__ import annotations

import numpy as np

import vae_core as vc


def cell_centres(grid_size: int, extent: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(z1, z2) of every cell centre, row-major like vae_core.decode_grid: (G*G,) each."""
    z1, z2 = vc.grid_axes(grid_size, extent)
    zz1, zz2 = np.meshgrid(z1, z2)
    return zz1.reshape(-1), zz2.reshape(-1)
