"""Pictures for slides: 1920 x 1080 PNGs of a map or a grid, and animated GIFs of a training film and an interpolation
(frame count, size, looping), drawn where the data says."""
import io

import numpy as np
import pytest
from PIL import Image, ImageSequence

import vae_core as vc
from explorer.render import palette as app_palette
from vae_core import slides
from vae_core.label_places import label_places
from vae_core.palette import DIGIT_COLOURS


@pytest.fixture(scope="module")
def film():
    """A real training film of a tiny model on random blobs: 2 epochs of 32 steps -> frames at 0, 10, 30, 32, 64."""
    import torch

    g = torch.Generator().manual_seed(0)
    data = ((torch.rand(256, 784, generator=g) > 0.7).float(), (torch.rand(64, 784, generator=g) > 0.7).float(),
            torch.randint(0, 10, (64,), generator=g))
    result = vc.train(vc.ModelConfig(hidden=(16,)), vc.TrainConfig(epochs=2, batch_size=8, snapshot_size=40),
                      data=data, show_bar=False)
    return result.snapshots


@pytest.fixture(scope="module")
def film_gif(film) -> bytes:
    return slides.film_gif(film, title="tiny", frame_ms=500, hold_ms=2000)


def frames_of(gif: bytes) -> list[Image.Image]:
    picture = Image.open(io.BytesIO(gif))
    assert picture.format == "GIF"
    return [f.convert("RGB") for f in ImageSequence.Iterator(picture)]


# --------------------------------------------------------------------------------------------------- training film


def test_the_film_gif_has_one_slide_sized_frame_per_film_frame_and_loops(film, film_gif):
    picture = Image.open(io.BytesIO(film_gif))
    assert picture.is_animated and picture.n_frames == len(film["steps"]) == 5
    assert picture.size == slides.SLIDE == (1920, 1080)
    assert picture.info["loop"] == 0  # for ever
    durations = []
    for frame in ImageSequence.Iterator(picture):
        durations.append(frame.info["duration"])
    assert durations == [500] * 4 + [2000]


def test_each_film_frame_shows_its_own_map_and_grid(film_gif):
    frames = [np.asarray(f) for f in frames_of(film_gif)]
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:], strict=False))


def test_the_film_gif_keeps_the_first_epoch_and_the_last_frame_when_frames_are_capped():
    epochs = np.array([0, 0.02, 0.06, 0.2, 0.6, *range(1, 101)], dtype=np.float32)  # 105 frames, 100 epochs
    picked = slides.pick_frames(epochs, max_frames=40)
    assert len(picked) == 40 and picked[:5] == [0, 1, 2, 3, 4] and picked[-1] == 104
    assert picked == sorted(set(picked))
    assert slides.pick_frames(epochs[:12], max_frames=40) == list(range(12))


def test_a_checkpoint_without_a_film_gets_a_clear_error():
    with pytest.raises(ValueError, match="no training film"):
        slides.film_gif({})


# ------------------------------------------------------------------------------------------------------ interpolation


def test_the_interpolation_gif_has_a_frame_per_step_held_at_both_ends():
    frames = np.linspace(0, 1, 6, dtype=np.float32)[:, None, None] * np.ones((6, 28, 28), np.float32)
    ends = (np.zeros((28, 28), np.float32), np.ones((28, 28), np.float32))
    gif = slides.interpolation_gif(frames, title="A to B", ends=ends, frame_ms=200, hold_ms=900)
    picture = Image.open(io.BytesIO(gif))
    assert picture.is_animated and picture.n_frames == 6 and picture.size == (1920, 1080)
    assert [f.info["duration"] for f in ImageSequence.Iterator(picture)] == [900, 200, 200, 200, 200, 900]
    first, last = (np.asarray(f) for f in frames_of(gif)[::5])
    centre = (1080 + slides.TITLE_BAND) // 2, 960
    assert first[centre].tolist() == [0, 0, 0] and last[centre].tolist() == [255, 255, 255]  # the frame, large


# ----------------------------------------------------------------------------------------------------------- pictures


def test_a_map_slide_is_a_1920_by_1080_png_with_each_code_in_its_digit_colour():
    codes = np.array([[1.0, 1.0], [-2.0, 0.5]], dtype=np.float32)
    labels = np.array([3, 8])
    side = slides.panel_side(1)
    png = slides.png_for_slide(slides.map_panel(codes, labels, side, extent=4.0, radius=6, prior=False), "map",
                               key_colours=DIGIT_COLOURS)
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.size == (1920, 1080)
    panel = np.asarray(slides.map_panel(codes, labels, side, extent=4.0, radius=6, prior=False, class_labels=False))
    axes = slides._Axes(side, -4.0, 4.0)
    for (x, y), label in zip(axes.to_px(codes).round().astype(int), labels, strict=True):
        assert tuple(panel[y, x]) == slides._rgb(DIGIT_COLOURS[label])
    (x, y), = axes.to_px(np.array([[3.0, -3.0]])).round().astype(int)
    assert tuple(panel[y, x]) == (255, 255, 255)  # no code there


def test_a_grid_slide_puts_row_zero_at_the_top_on_z_axes():
    mosaic = np.zeros((56, 56), np.float32)
    mosaic[:28, :28] = 1.0  # the top-left cell: z = (lo, hi)
    side = slides.panel_side(1, key=False)
    panel = np.asarray(slides.grid_panel(mosaic, side, (-3.0, 3.0)))
    axes = slides._Axes(side, -6.0, 6.0)  # two cells 6 apart: the picture spans 3 beyond each centre
    (x, y), = axes.to_px(np.array([[-3.0, 3.0]])).round().astype(int)
    assert panel[y, x].tolist() == [255, 255, 255]
    (x, y), = axes.to_px(np.array([[3.0, -3.0]])).round().astype(int)
    assert panel[y, x].tolist() == [0, 0, 0]
    assert Image.open(io.BytesIO(slides.png_for_slide(Image.fromarray(panel)))).size == (1920, 1080)


def test_the_slides_use_the_app_digit_colours():
    assert app_palette.DIGIT_COLOURS is DIGIT_COLOURS and slides.DIGIT_COLOURS is DIGIT_COLOURS
    assert len(set(DIGIT_COLOURS)) == 10


# ------------------------------------------------------------------------------------------------------ class labels


def blob(rng, n: int, centre, spread: float = 0.3) -> np.ndarray:
    return rng.normal(size=(n, 2)) * spread + np.asarray(centre, dtype=float)


def test_each_class_label_sits_on_a_point_of_its_own_class():
    rng = np.random.default_rng(0)
    codes = np.vstack([blob(rng, 300, (d % 4 - 1.5, d // 4 - 1), 0.5) for d in range(10)])  # touching clouds
    labels = np.repeat(np.arange(10), 300)
    places = label_places(codes, labels)
    assert sorted(places) == list(range(10))
    for d, xy in places.items():
        assert (labels[(codes == xy).all(axis=1)] == d).any(), d


def test_a_class_in_two_far_pieces_is_labelled_on_the_larger_piece_not_between_them():
    rng = np.random.default_rng(1)
    codes = np.vstack([blob(rng, 300, (-4, 0)), blob(rng, 100, (4, 0)), blob(rng, 400, (0, 0))])
    labels = np.repeat([2, 2, 5], [300, 100, 400])  # the mean of the 2s, (-2, 0), is in neither piece
    x, y = label_places(codes, labels)[2]
    assert np.hypot(x + 4, y) < 0.5  # at its heart, not at its edge nearest the mean


def test_a_crescent_is_labelled_on_its_arc_not_at_its_mean_in_the_other_cloud():
    rng = np.random.default_rng(2)
    angle = rng.uniform(0.2 * np.pi, 1.8 * np.pi, 600)
    arc = np.column_stack([np.cos(angle), np.sin(angle)]) * 3 + rng.normal(size=(600, 2)) * 0.2
    codes = np.vstack([arc, blob(rng, 400, (-1, 0), 0.4)])  # the arc's mean is near (-1.4, 0): in the blob
    labels = np.repeat([6, 0], [600, 400])
    x, y = label_places(codes, labels)[6]
    assert 2.3 < np.hypot(x, y) < 3.7


def test_a_map_slide_writes_each_class_digit_in_its_colour_at_its_place_and_nowhere_else():
    rng = np.random.default_rng(3)
    codes = np.vstack([blob(rng, 200, (-2, 2)), blob(rng, 200, (2, -2))]).astype(np.float32)
    labels = np.repeat([3, 8], 200)
    side = slides.panel_side(1)
    plain = np.asarray(slides.map_panel(codes, labels, side, extent=4.0, class_labels=False)).astype(int)
    labelled = np.asarray(slides.map_panel(codes, labels, side, extent=4.0)).astype(int)
    changed = (plain != labelled).any(axis=-1)
    axes = slides._Axes(side, -4.0, 4.0)
    near = np.zeros_like(changed)
    ys, xs = np.mgrid[:side, :side]
    for d, xy in label_places(codes, labels).items():
        (px, py), = axes.to_px(np.array([xy]))
        window = (abs(xs - px) < side / 20) & (abs(ys - py) < side / 20)  # a label is ~side / 22 high
        strokes = changed & window & (labelled == slides._rgb(DIGIT_COLOURS[d])).all(axis=-1)
        assert strokes.sum() > 50, d  # the digit, drawn in its colour over the white box
        near |= window
    assert not changed[~near].any()  # the discs, circles and axes are as without labels


def test_the_film_frames_and_a_map_without_class_labels_place_none(film, monkeypatch):
    def must_not_run(*args):
        raise AssertionError("a class label was placed")

    monkeypatch.setattr(slides, "label_places", must_not_run)
    slides.map_panel(np.zeros((3, 2)), np.array([0, 1, 2]), 200, class_labels=False)
    assert len(slides.film_frames(film, frames=[0, 4])) == 2
    with pytest.raises(AssertionError, match="class label"):
        slides.map_panel(np.zeros((3, 2)), np.array([0, 1, 2]), 200)
