"""A drawn or uploaded digit made MNIST-like (to_mnist), and uploads refused with a reason (load_upload)."""
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

import vae_core as vc
from vae_core.preprocess import ImageRejected, NothingDrawn, centre_of_mass, load_upload, to_mnist


def seven(size=(300, 200), ink=255, paper=0, mode="L") -> Image.Image:
    """A thick '7' drawn off-centre on a non-square canvas."""
    im = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(im)
    draw.line([(40, 30), (150, 30), (90, 170)], fill=ink, width=14)
    return im


def png_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


# ---- geometry: MNIST's box and centring

def test_the_centre_of_mass_lands_on_the_centre_and_the_longer_side_is_20_px():
    x = to_mnist(seven())
    assert x.shape == (784,) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    r, c = centre_of_mass(x.reshape(28, 28))
    assert abs(r - 14) <= 0.5 and abs(c - 14) <= 0.5
    rows, cols = np.nonzero(x.reshape(28, 28) > 0.05)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 in (19, 20, 21)  # the 20-px box, give or take the anti-aliased edge


def test_an_mnist_digit_drawn_ten_times_larger_comes_back_as_itself(real_data):
    digits = vc.load_mnist("test", limit=20)[0].numpy().reshape(-1, 28, 28)
    for d in digits:
        big = np.kron(d, np.ones((10, 10), dtype=np.float32))  # a 280 x 280 canvas
        assert np.abs(to_mnist(big) - d.reshape(-1)).mean() < 0.03


# ---- colours: inverted, RGBA canvas data, grey paper

def test_a_black_on_white_upload_gives_the_same_digit_as_white_on_black():
    white_on_black = to_mnist(load_upload(png_bytes(seven())))
    black_on_white = to_mnist(load_upload(png_bytes(seven(ink=0, paper=255))))
    np.testing.assert_allclose(black_on_white, white_on_black, atol=1e-6)
    assert white_on_black.reshape(28, 28)[0, 0] == 0  # the background is black after inversion


def test_canvas_rgba_with_a_transparent_background_uses_the_alpha_whatever_the_stroke_colour():
    alpha = np.asarray(seven())
    expected = to_mnist(alpha)
    for rgb in ((0, 0, 0), (255, 255, 255), (200, 30, 30)):
        canvas = np.zeros((*alpha.shape, 4), dtype=np.uint8)
        canvas[..., :3] = rgb
        canvas[..., 3] = alpha
        np.testing.assert_allclose(to_mnist(canvas), expected, atol=1e-6)


def test_opaque_rgb_on_grey_paper_and_float_arrays_match_the_clean_drawing():
    expected = to_mnist(seven())
    grey_paper = np.asarray(seven(ink=(20, 20, 20), paper=(180, 180, 180), mode="RGB"))
    np.testing.assert_allclose(to_mnist(grey_paper), expected, atol=0.02)
    np.testing.assert_allclose(to_mnist(np.asarray(seven(), dtype=np.float32) / 255), expected, atol=1e-6)


@pytest.mark.parametrize("blank", [np.zeros((200, 200, 4), np.uint8), np.full((90, 90, 3), 255, np.uint8),
                                   np.zeros((28, 28), np.float32), np.full((50, 50), 0.4, np.float32)])
def test_a_blank_canvas_says_nothing_was_drawn(blank):
    with pytest.raises(NothingDrawn, match="nothing drawn"):
        to_mnist(blank)
    assert issubclass(NothingDrawn, ValueError)


# ---- uploads refused, each with its reason

def test_a_still_image_upload_opens_decoded():
    im = load_upload(png_bytes(seven()))
    assert im.size == (300, 200) and np.asarray(im).max() == 255


def test_garbage_bytes_are_refused_as_not_an_image():
    with pytest.raises(ImageRejected, match="not an image"):
        load_upload(b"this is not a picture at all" * 10)


def test_an_animated_gif_is_refused():
    frames = [Image.new("L", (40, 40), 0), Image.new("L", (40, 40), 255)]
    data = png_bytes(frames[0], format="GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    with pytest.raises(ImageRejected, match="animated"):
        load_upload(data)


def test_too_many_pixels_is_refused_before_decoding_and_too_many_bytes_before_opening():
    with pytest.raises(ImageRejected, match="too large"):
        load_upload(png_bytes(Image.new("1", (5000, 4000))))  # ~10 kB of PNG, 20 megapixels
    with pytest.raises(ImageRejected, match="too large"):
        load_upload(b"\x89PNG" + bytes(6 * 1024 * 1024))


def test_a_truncated_image_is_refused_as_damaged():
    data = png_bytes(Image.effect_noise((64, 64), 60))
    with pytest.raises(ImageRejected, match="damaged|not an image"):
        load_upload(data[: len(data) // 2])
