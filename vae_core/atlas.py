"""Digits on a map: pick points spread out so their digit tiles do not overlap, and draw those digits as one picture.

`spread_picks` lays a grid of cells over the visible extent and keeps, in each cell, the point nearest its centre.
Two tiles of side s (one cell) overlap iff max(|dx|, |dy|) < s, and two cells' winners can lean towards each other
across their shared edge, so a second pass takes the winners most central first and rejects any that is within one
cell (Chebyshev) of one already taken. A rejected cell stays empty rather than falling back to its second point: the
picture shows holes where the map is crowded at the cell scale, never overlapping digits.

`digits_picture` draws the picked digits white on black at their points, upscaled nearest-neighbour (no blur: crisp
on a projector), each in a thin frame of its class colour, on a transparent canvas covering the extent, y up -- what a
Plotly layout image stretched over the axes takes.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

# WCAG 2's minimum contrast for graphical objects: a frame colour fainter than this against the black tile
# (e.g. a dark navy class colour) is drawn white instead.
MIN_FRAME_CONTRAST = 3.0


def _cell_counts(cells: int | tuple[int, int]) -> tuple[int, int]:
    nx, ny = (cells, cells) if np.isscalar(cells) else cells
    if int(nx) < 1 or int(ny) < 1:
        raise ValueError(f"cells must be at least 1 per axis, got {cells!r}")
    return int(nx), int(ny)


def _check_extent(extent) -> tuple[float, float, float, float]:
    x0, x1, y0, y1 = (float(v) for v in extent)
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise ValueError(f"extent must be finite (x0, x1, y0, y1) with x1 > x0 and y1 > y0, got {extent!r}")
    return x0, x1, y0, y1


def spread_picks(points, extent, cells: int | tuple[int, int], spacing: float = 1.0) -> np.ndarray:
    """Indices (ascending) of the points to draw as digits: at most one per cell of a cells_x x cells_y grid over
    extent = (x0, x1, y0, y1), the one nearest its cell's centre, and no two closer than `spacing` cells (Chebyshev
    distance in cell units), so tiles of side `spacing` cells (`tile_size`) never overlap. Points outside the extent
    (or not finite) are never picked.

    spacing < 1 draws tiles smaller than a cell with a gap between them, and keeps more cells: neighbours leaning
    towards each other by under (1 - spacing) cells no longer clash. On the default model's latent map (10,000 test
    means, the page's extent) 32 x 32 cells keep 184 digits at spacing 1 and 328 at spacing 0.8 (of 434 occupied cells).

    Deterministic: ties go to the lower index. For a subset, pass its points and map the result back
    (`subset[spread_picks(points[subset], ...)]`)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0, x1, y0, y1 = _check_extent(extent)
    nx, ny = _cell_counts(cells)
    if not 0 < spacing <= 1:  # wider spacings would clash beyond the 8 neighbouring cells, which are all it checks
        raise ValueError(f"spacing must be in (0, 1] cells, got {spacing!r}")
    # positions in cell units: cell (c, r) spans [c, c + 1) x [r, r + 1)
    u = (points[:, 0] - x0) / (x1 - x0) * nx
    v = (points[:, 1] - y0) / (y1 - y0) * ny
    inside = np.flatnonzero(np.isfinite(u) & np.isfinite(v) & (u >= 0) & (u <= nx) & (v >= 0) & (v <= ny))
    if not len(inside):
        return np.zeros(0, dtype=np.int64)
    u, v = u[inside], v[inside]
    col, row = np.minimum(u.astype(np.int64), nx - 1), np.minimum(v.astype(np.int64), ny - 1)
    off_centre = (u - col - 0.5) ** 2 + (v - row - 0.5) ** 2
    cell = row * nx + col

    # each cell's most central point: sort by (cell, distance, index) and keep each cell's first
    order = np.lexsort((inside, off_centre, cell))
    first = np.flatnonzero(np.r_[True, cell[order][1:] != cell[order][:-1]])
    winners = order[first]  # positions in `inside`, one per occupied cell
    # most central first (ties: lower index); rank = position in that order
    winners = winners[np.lexsort((inside[winners], off_centre[winners]))]
    rank = np.full(nx * ny, -1, dtype=np.int64)
    rank[cell[winners]] = np.arange(len(winners))
    wu, wv = u[winners], v[winners]

    # conflicts can only be between winners of neighbouring cells: look at 4 of the 8 neighbours (each pair once)
    grid = rank.reshape(ny, nx)
    pairs = []
    for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
        a = grid[max(0, -dr):ny - max(0, dr), max(0, -dc):nx - max(0, dc)]
        b = grid[max(0, dr):ny - max(0, -dr), max(0, dc):nx - max(0, -dc)]
        both = (a >= 0) & (b >= 0)
        pairs.append(np.stack([a[both], b[both]], axis=1))
    pairs = np.concatenate(pairs)
    close = np.maximum(np.abs(wu[pairs[:, 0]] - wu[pairs[:, 1]]), np.abs(wv[pairs[:, 0]] - wv[pairs[:, 1]])) < spacing
    pairs = np.sort(pairs[close], axis=1)  # (more central, less central)

    # greedy, most central first: visiting conflicts in the order of their less central end, the more central end's
    # fate is already settled (it is decided only by conflicts with yet more central points, visited before)
    taken = np.ones(len(winners), dtype=bool)
    for better, worse in pairs[np.argsort(pairs[:, 1], kind="stable")].tolist():
        if taken[better]:
            taken[worse] = False
    return np.sort(inside[winners[taken]])


def tile_size(size_px: tuple[int, int], cells: int | tuple[int, int], spacing: float = 1.0) -> int:
    """The largest tile, in whole pixels, that `spread_picks(..., cells, spacing)` keeps apart on a picture of
    size_px = (width, height) over the same extent."""
    nx, ny = _cell_counts(cells)
    return max(1, int(np.floor(spacing * min(size_px[0] / nx, size_px[1] / ny))))


def _relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB colours (..., 3) uint8."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def frame_colours(colours) -> np.ndarray:
    """The frame colours to draw around white-on-black tiles: each given colour, or white where it would contrast
    less than MIN_FRAME_CONTRAST with the tile's black."""
    colours = np.asarray(colours, dtype=np.uint8).reshape(-1, 3)
    faint = (_relative_luminance(colours) + 0.05) / 0.05 < MIN_FRAME_CONTRAST
    return np.where(faint[:, None], np.uint8(255), colours)


def digits_picture(images, points, extent, size_px: tuple[int, int], tile_px: int, frames=None) -> Image.Image:
    """A transparent RGBA picture of size_px = (width, height) covering extent = (x0, x1, y0, y1), y up, with each
    image (N, side*side) in [0, 1] drawn white on black as a tile_px square centred on its point (N, 2).

    Upscaled nearest-neighbour; framed 1 px (2 px from 32 px tiles up) in `frames` (N, 3) uint8 -- e.g. class
    colours, white where too dark on black (`frame_colours`) -- or white when None. Tiles are drawn in order (a later
    one covers an earlier one) and cut at the canvas edge. Tiles no larger than a cell of `spread_picks` on the same
    extent never overlap."""
    images, points = np.asarray(images, dtype=np.float32), np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = len(points)
    if len(images) != n:
        raise ValueError(f"{len(images)} images for {n} points")
    x0, x1, y0, y1 = _check_extent(extent)
    width, height = int(size_px[0]), int(size_px[1])
    canvas = np.zeros((height, width, 4), dtype=np.uint8)
    if n == 0:
        return Image.fromarray(canvas, mode="RGBA")
    side = int(round(np.sqrt(images[0].size)))
    tile = int(tile_px)
    grey = (np.clip(images.reshape(n, side, side), 0.0, 1.0) * 255).round().astype(np.uint8)
    # one Pillow NEAREST resize of all digits side by side: the same pixels as resizing each (its source column is
    # floor((x + 0.5) * side / tile), the same offset within every digit)
    strip = Image.fromarray(grey.transpose(1, 0, 2).reshape(side, n * side), mode="L")
    big = np.asarray(strip.resize((n * tile, tile), Image.Resampling.NEAREST)).reshape(tile, n, tile).transpose(1, 0, 2)
    tiles = np.empty((n, tile, tile, 4), dtype=np.uint8)
    tiles[..., :3] = big[..., None]
    tiles[..., 3] = 255
    colour = np.full((n, 3), 255, dtype=np.uint8) if frames is None else frame_colours(frames)
    f = min(1 if tile < 32 else 2, tile // 2)
    for edge in (np.s_[:, :f, :], np.s_[:, -f:, :], np.s_[:, :, :f], np.s_[:, :, -f:]):
        tiles[edge + (slice(0, 3),)] = colour[:, None, None, :]
    # top-left pixel of each tile (y up: the extent's top y1 is row 0); floor(x + 0.5), not np.rint: rounding half to
    # even could bring two points a whole tile apart one pixel closer, and their tiles would overlap
    left = np.floor((points[:, 0] - x0) / (x1 - x0) * width - tile / 2 + 0.5).astype(np.int64)
    top = np.floor((y1 - points[:, 1]) / (y1 - y0) * height - tile / 2 + 0.5).astype(np.int64)
    for k, (x, y) in enumerate(zip(left.tolist(), top.tolist(), strict=True)):
        cx0, cy0, cx1, cy1 = max(x, 0), max(y, 0), min(x + tile, width), min(y + tile, height)
        if cx0 < cx1 and cy0 < cy1:
            canvas[cy0:cy1, cx0:cx1] = tiles[k, cy0 - y:cy1 - y, cx0 - x:cx1 - x]
    return Image.fromarray(canvas, mode="RGBA")
