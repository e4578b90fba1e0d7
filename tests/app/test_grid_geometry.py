"""Grid cell centres in z: the geometry the decoder grid's clicks and picture share (vae_core.decode_grid's layout)."""
import pytest

import vae_core as vc
from explorer.render.grid_geometry import cell_centres


def test_cells_follow_decode_grid_orientation():
    # decode_grid: row 0 is the top (z2 = max), column 0 the left (z1 = min)
    zz1, zz2 = cell_centres(20, (-3, 3))
    assert (zz1[0], zz2[0]) == (-3.0, 3.0)
    assert (zz1[19 * 20 + 19], zz2[19 * 20 + 19]) == (3.0, -3.0)
    assert (zz1[3 * 20 + 15], zz2[3 * 20 + 15]) == pytest.approx((-3 + 15 * 6 / 19, 3 - 3 * 6 / 19), abs=1e-6)
    z1, z2 = vc.grid_axes(20, (-3, 3))
    assert (zz1[3 * 20 + 15], zz2[3 * 20 + 15]) == (z1[15], z2[3])
