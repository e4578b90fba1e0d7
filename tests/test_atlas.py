"""Digits on the map: which points are picked (at most one per cell, the most central, never two closer than the
spacing) and the picture they are drawn into (where, how upscaled, framed, transparent elsewhere)."""
import numpy as np
import pytest
from PIL import Image

from vae_core.atlas import digits_picture, frame_colours, spread_picks, tile_size

UNIT = (0.0, 1.0, 0.0, 1.0)


def cloud(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n, 2))


def in_cell_units(points, extent, cells):
    nx, ny = (cells, cells) if np.isscalar(cells) else cells
    x0, x1, y0, y1 = extent
    return np.column_stack([(points[:, 0] - x0) / (x1 - x0) * nx, (points[:, 1] - y0) / (y1 - y0) * ny])


def cell_of(uv, cells):
    nx, ny = (cells, cells) if np.isscalar(cells) else cells
    return np.minimum(uv[:, 1].astype(int), ny - 1) * nx + np.minimum(uv[:, 0].astype(int), nx - 1)


def chebyshev(uv):
    d = np.maximum(np.abs(uv[:, None, 0] - uv[None, :, 0]), np.abs(uv[:, None, 1] - uv[None, :, 1]))
    np.fill_diagonal(d, np.inf)
    return d


# ------------------------------------------------------------------------------------------------------- how many


def test_a_dense_cloud_fills_every_cell_when_tiles_are_half_a_cell():
    # 40 points a cell: each cell's most central point is within a quarter cell of its centre, so none clash
    assert len(spread_picks(cloud(4000), UNIT, 10, spacing=0.5)) == 100


def test_tiles_of_a_whole_cell_keep_roughly_two_cells_in_five_of_a_uniform_cloud():
    # neighbours lean towards each other half the time across each edge; measured 218 of 576 cells (38%)
    picks = spread_picks(cloud(10_000), UNIT, 24)
    assert 0.25 * 576 < len(picks) <= 576


def test_there_are_never_more_picks_than_occupied_cells_nor_fewer_than_a_ninth_of_them():
    points = cloud(300, seed=1)
    occupied = len(np.unique(cell_of(in_cell_units(points, UNIT, 12), 12)))
    for spacing in (1.0, 0.8, 0.5):
        count = len(spread_picks(points, UNIT, 12, spacing))
        assert occupied / 9 <= count <= occupied  # a pick rules out at most its 8 neighbouring cells


def test_a_narrower_spacing_keeps_more_digits():
    counts = [len(spread_picks(cloud(5000), UNIT, 20, s)) for s in (1.0, 0.8, 0.6)]
    assert counts[0] < counts[1] < counts[2]


# --------------------------------------------------------------------------------------------- which, and how far


@pytest.mark.parametrize("seed, cells, spacing", [(0, 24, 1.0), (1, 10, 1.0), (2, (30, 12), 1.0), (3, 16, 0.8)])
def test_no_two_picks_are_closer_than_the_spacing(seed, cells, spacing):
    points = np.random.default_rng(seed).normal(size=(3000, 2))  # dense in the middle, sparse at the edges
    extent = (-3.0, 3.0, -2.5, 3.5)
    picks = spread_picks(points, extent, cells, spacing)
    assert len(picks) > 10
    assert chebyshev(in_cell_units(points[picks], extent, cells)).min() >= spacing


def test_each_pick_is_the_most_central_point_of_its_cell():
    points, cells = cloud(2000, seed=4), 15
    uv = in_cell_units(points, UNIT, cells)
    cell = cell_of(uv, cells)
    off = np.linalg.norm(uv - (np.floor(uv) + 0.5), axis=1)
    for p in spread_picks(points, UNIT, cells):
        members = np.flatnonzero(cell == cell[p])
        assert p == members[np.argmin(off[members])]


def test_a_cell_left_empty_lost_its_most_central_point_to_a_more_central_pick_within_one_cell():
    points, cells = cloud(2000, seed=5), 15
    uv = in_cell_units(points, UNIT, cells)
    cell = cell_of(uv, cells)
    off = np.linalg.norm(uv - (np.floor(uv) + 0.5), axis=1)
    picks = spread_picks(points, UNIT, cells)
    empty = set(cell.tolist()) - set(cell[picks].tolist())
    assert empty  # a uniform cloud always has clashes at spacing 1
    for c in empty:
        members = np.flatnonzero(cell == c)
        winner = members[np.argmin(off[members])]
        near = picks[np.maximum(*np.abs(uv[picks] - uv[winner]).T) < 1.0]
        assert len(near) and (off[near] <= off[winner]).any()


def test_picking_is_deterministic_and_ignores_the_order_of_the_points():
    points = cloud(3000, seed=6)
    order = np.random.default_rng(7).permutation(len(points))
    first = spread_picks(points, UNIT, 18)
    assert np.array_equal(first, spread_picks(points, UNIT, 18))
    assert np.array_equal(np.sort(order[spread_picks(points[order], UNIT, 18)]), first)


def test_points_outside_the_extent_or_not_finite_are_never_picked_and_change_nothing():
    points = cloud(1000, seed=8)
    extra = np.array([[2.0, 0.5], [0.5, -0.1], [np.nan, 0.5], [0.5, np.inf], [-5.0, -5.0]])
    assert np.array_equal(spread_picks(np.vstack([points, extra]), UNIT, 12), spread_picks(points, UNIT, 12))


def test_a_subset_is_picked_by_its_own_points_and_mapped_back():
    points = cloud(2000, seed=9)
    subset = np.flatnonzero(points[:, 0] < 0.3)
    picks = subset[spread_picks(points[subset], UNIT, 10)]
    assert set(picks) <= set(subset) and len(picks) >= 10


def test_nothing_to_pick_gives_an_empty_index_array():
    for points in (np.zeros((0, 2)), np.array([[5.0, 5.0]])):
        picks = spread_picks(points, UNIT, 10)
        assert picks.shape == (0,) and picks.dtype == np.int64


@pytest.mark.parametrize("extent, cells, spacing", [((0, 0, 0, 1), 10, 1.0), ((0, 1, 1, 0), 10, 1.0),
                                                    ((0, np.nan, 0, 1), 10, 1.0), (UNIT, 0, 1.0), (UNIT, 10, 1.5),
                                                    (UNIT, 10, 0.0)])
def test_a_degenerate_extent_grid_or_spacing_is_refused(extent, cells, spacing):
    with pytest.raises(ValueError, match="^(extent|cells|spacing) must"):
        spread_picks(cloud(10), extent, cells, spacing)


# ---------------------------------------------------------------------------------------------------- the picture


def one_dot_digit(row: int, col: int) -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.float32)
    image[row, col] = 1.0
    return image.reshape(1, 784)


def test_the_picture_has_the_asked_size_and_is_transparent_outside_the_tiles():
    picture = digits_picture(np.full((2, 784), 0.5), [[2.0, 2.0], [7.0, 7.0]], (0, 10, 0, 10), (200, 100), 20)
    assert picture.size == (200, 100) and picture.mode == "RGBA"
    alpha = np.asarray(picture)[..., 3]
    assert (alpha > 0).sum() == 2 * 20 * 20  # two opaque tiles, nothing else
    assert alpha[0, 0] == 0 and alpha[50, 100] == 0


def test_a_digit_is_drawn_centred_on_its_point_with_y_up():
    # extent 10 x 10 on 100 x 100 px, tile 28 px (1:1): z = (3, 8) is pixel (30, 20), the tile's corner (16, 6)
    picture = np.asarray(digits_picture(one_dot_digit(5, 7), [[3.0, 8.0]], (0, 10, 0, 10), (100, 100), 28))
    assert tuple(picture[6 + 5, 16 + 7]) == (255, 255, 255, 255)
    assert tuple(picture[6 + 14, 16 + 14]) == (0, 0, 0, 255)  # black, opaque inside the tile
    assert tuple(picture[0, 0]) == (0, 0, 0, 0)
    lower = np.asarray(digits_picture(one_dot_digit(5, 7), [[3.0, 2.0]], (0, 10, 0, 10), (100, 100), 28))
    assert tuple(lower[66 + 5, 16 + 7]) == (255, 255, 255, 255)  # smaller y: further down


def test_upscaling_is_nearest_neighbour_so_only_the_digits_own_grey_levels_appear():
    source = np.random.default_rng(0).integers(0, 256, (28, 28)).astype(np.uint8)
    picture = np.asarray(digits_picture(source.reshape(1, 784) / 255.0, [[0.5, 0.5]], UNIT, (100, 100), 100))
    inside = picture[2:-2, 2:-2, 0]  # inside the 2 px frame
    assert set(np.unique(inside)) <= set(np.unique(source))
    expected = np.asarray(Image.fromarray(source, mode="L").resize((100, 100), Image.Resampling.NEAREST))
    assert np.array_equal(inside, expected[2:-2, 2:-2])  # the same pixels as Pillow's NEAREST on this one digit


def test_each_tile_is_framed_in_its_colour_or_white_without_one():
    frames = np.array([[214, 39, 40], [23, 190, 207]], dtype=np.uint8)
    pictures = {tile: np.asarray(digits_picture(np.zeros((2, 784)), [[0.25, 0.5], [0.75, 0.5]], UNIT, (120, 60),
                                                tile, frames)) for tile in (20, 40)}
    small, large = pictures[20], pictures[40]
    assert tuple(small[20, 20, :3]) == (214, 39, 40) and tuple(small[21, 21, :3]) == (0, 0, 0)  # 1 px below 32 px
    assert tuple(large[11, 71, :3]) == (23, 190, 207) and tuple(large[12, 72, :3]) == (0, 0, 0)  # 2 px from 32 px
    white = np.asarray(digits_picture(np.zeros((1, 784)), [[0.5, 0.5]], UNIT, (60, 60), 20))
    assert tuple(white[20, 20]) == (255, 255, 255, 255)


def test_a_frame_colour_too_dark_on_black_is_drawn_white():
    colours = frame_colours([[0, 0, 90], [31, 119, 180], [140, 86, 75]])  # navy; Plotly's blue and brown (3.4:1)
    assert colours.tolist() == [[255, 255, 255], [31, 119, 180], [140, 86, 75]]


def test_tiles_past_the_edge_are_cut_not_refused():
    picture = np.asarray(digits_picture(np.ones((2, 784)), [[0.0, 1.0], [2.0, 2.0]], UNIT, (50, 50), 20))
    assert (picture[..., 3] > 0).sum() == 10 * 10  # a quarter of the corner tile; the other is off the canvas


def test_picked_digits_drawn_at_the_largest_tile_never_overlap():
    points, size, cells = cloud(5000, seed=10) * 0.8 + 0.1, (300, 240), (12, 10)  # tiles stay inside the canvas
    for spacing in (1.0, 0.7):
        picks = spread_picks(points, UNIT, cells, spacing)
        tile = tile_size(size, cells, spacing)
        picture = np.asarray(digits_picture(np.zeros((len(picks), 784)), points[picks], UNIT, size, tile))
        assert (picture[..., 3] > 0).sum() == len(picks) * tile * tile


def test_no_digits_give_a_fully_transparent_picture_and_mismatched_inputs_are_refused():
    empty = np.asarray(digits_picture(np.zeros((0, 784)), np.zeros((0, 2)), UNIT, (30, 20), 10))
    assert empty.shape == (20, 30, 4) and not empty.any()
    with pytest.raises(ValueError, match="2 images for 3 points"):
        digits_picture(np.zeros((2, 784)), np.zeros((3, 2)), UNIT, (30, 20), 10)
