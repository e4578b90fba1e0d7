"""Out-of-distribution probe sets made by code: deterministic, MNIST-shaped, and what their names say."""
import numpy as np
import pytest

from vae_core.preprocess import centre_of_mass
from vae_core.probes import CHARACTERS, PROBE_NAMES, letter_characters, letters, probe_sets, rotated


@pytest.fixture(scope="module")
def digits():
    """Stand-ins for MNIST digits: a bright off-centre bar of random length per image."""
    rng = np.random.default_rng(0)
    out = np.zeros((40, 28, 28), dtype=np.float32)
    for d in out:
        top, length = rng.integers(3, 8), rng.integers(8, 18)
        d[top:top + length, 10:13] = 1.0
    return out.reshape(40, -1)


@pytest.fixture(scope="module")
def sets(digits):
    return probe_sets(digits, n=30, seed=0)


def test_every_set_is_n_mnist_shaped_images_in_the_unit_interval(sets):
    assert tuple(sets) == PROBE_NAMES
    for name, x in sets.items():
        assert x.shape == (30, 784) and x.dtype == np.float32, name
        assert 0 <= x.min() and x.max() <= 1, name


def test_the_same_seed_gives_identical_arrays_and_another_seed_different_ones(digits, sets):
    again, other = probe_sets(digits, n=30, seed=0), probe_sets(digits, n=30, seed=1)
    for name in PROBE_NAMES:
        assert np.array_equal(sets[name], again[name]), name
        assert not np.array_equal(sets[name], other[name]), name


def test_a_set_does_not_change_when_the_other_sets_do(digits, sets):
    assert np.array_equal(probe_sets(digits[:20], n=30, seed=0)["noise"], sets["noise"])  # independent streams


def test_inverted_digits_are_one_minus_given_digits(digits, sets):
    sources = {d.tobytes() for d in digits}
    assert all((1 - x).astype(np.float32).tobytes() in sources for x in sets["inverted"])


def test_rotated_digits_keep_their_ink_and_turn_vertical_bars_horizontal(digits, sets):
    masses = np.round(digits.sum(1), 3)
    for name in ("rotated_90", "rotated_180"):
        assert np.isin(np.round(sets[name].sum(1), 3), masses).all(), name
    turned = sets["rotated_90"].reshape(-1, 28, 28)
    assert ((turned > 0).any(1).sum(1) > (turned > 0).any(2).sum(1)).all()  # wider than tall
    with pytest.raises(ValueError, match="quarter_turns must be 1"):
        rotated(digits, 3, quarter_turns=3)


def test_nearly_blank_images_hold_a_few_faint_pixels(sets):
    x = sets["nearly_blank"]
    assert ((x > 0).sum(1) <= 8).all() and ((x > 0).sum(1) >= 1).all() and x.max() <= 0.5


@pytest.mark.parametrize("name", ["strokes", "dots", "rotated_90", "rotated_180", "letters"])
def test_shapes_are_centred_by_their_centre_of_mass(sets, name):
    for x in sets[name]:
        r, c = centre_of_mass(x.reshape(28, 28))
        assert abs(r - 14) <= 0.5 and abs(c - 14) <= 0.5


def test_strokes_are_thin_lines_and_dots_compact_blobs(sets):
    strokes, dots = (sets[k].reshape(-1, 28, 28) > 0.5 for k in ("strokes", "dots"))
    extent = lambda m: max(np.ptp(np.nonzero(m)[0]), np.ptp(np.nonzero(m)[1])) + 1
    assert np.median([extent(m) for m in strokes]) > np.median([extent(m) for m in dots])
    assert all(extent(m) <= 11 for m in dots)  # radii of at most 5 px


def test_letters_cycle_through_the_characters_and_contain_no_digits():
    images, chars = letters(len(CHARACTERS) + 2, seed=3)
    assert "".join(chars[:len(CHARACTERS)]) == CHARACTERS and list(chars[-2:]) == list(CHARACTERS[:2])
    assert np.array_equal(chars, letter_characters(len(chars)))
    assert not any(ch.isdigit() for ch in CHARACTERS)
    a, b = images[0].reshape(28, 28), images[1].reshape(28, 28)  # 'A' and 'B' differ
    assert np.abs(a - b).sum() > 20
    assert (images.reshape(-1, 28, 28) > 0.2).any(2).sum(1).max() <= 20  # inside MNIST's 20-px box
