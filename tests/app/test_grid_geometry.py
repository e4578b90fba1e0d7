"""Grid cell <-> z: the geometry the decoder grid's clicks and picture share (vae_core.decode_grid's layout)."""
import pytest

import vae_core as vc
from explorer.render.grid_geometry import cell_centres, cell_to_z, z_to_cell


@pytest.mark.parametrize("grid_size,extent", [(20, (-3.0, 3.0)), (7, (-1.5, 1.5)), (40, (-6.0, 6.0)), (5, (0.0, 2.0))])
def test_cell_and_z_round_trip_for_every_cell(grid_size, extent):
    for row in range(grid_size):
        for col in range(grid_size):
            assert z_to_cell(cell_to_z(row, col, grid_size, extent), grid_size, extent) == (row, col)


def test_cells_follow_decode_grid_orientation():
    # decode_grid: row 0 is the top (z2 = max), column 0 the left (z1 = min)
    assert cell_to_z(0, 0, 20, (-3, 3)) == (-3.0, 3.0)
    assert cell_to_z(19, 19, 20, (-3, 3)) == (3.0, -3.0)
    assert cell_to_z(3, 15, 20, (-3, 3)) == pytest.approx((-3 + 15 * 6 / 19, 3 - 3 * 6 / 19), abs=1e-6)
    z1, z2 = vc.grid_axes(20, (-3, 3))
    zz1, zz2 = cell_centres(20, (-3, 3))
    assert (zz1[3 * 20 + 15], zz2[3 * 20 + 15]) == (z1[15], z2[3])


def test_z_between_cells_snaps_to_the_nearest_and_outside_to_the_edge():
    assert z_to_cell((0.05, 0.05), 7, (-3, 3)) == (3, 3)
    assert z_to_cell((0.9, -0.9), 7, (-3, 3)) == (4, 4)  # cells at 0 and 1: 0.9 is nearer 1
    assert z_to_cell((-99, 99), 7, (-3, 3)) == (0, 0)
    assert z_to_cell((99, -99), 7, (-3, 3)) == (6, 6)


def test_cell_outside_the_grid_is_an_error():
    with pytest.raises(IndexError, match=r"cell \(20, 0\) is outside a 20x20 grid"):
        cell_to_z(20, 0, 20, (-3, 3))
