"""Downloads for slides on the decoder grid, latent map and interpolation pages: each page offers its button, and what
the button's deferred callable makes (the cached function it calls) is a 1920 x 1080 PNG, or a GIF with one frame per
step of the path."""
import io
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer import cache
from explorer.model.choice import ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT

PAGES = Path(__file__).resolve().parents[2] / "pages"
KEY = ModelKey.of(DEFAULT_CHECKPOINT)


def buttons(page: str) -> list[str]:
    at = AppTest.from_file(str(PAGES / page), default_timeout=120).run()
    assert not at.exception, at.exception
    return [b.proto.label for b in at.get("download_button")]


def test_the_decoder_grid_page_offers_a_slide_sized_png_of_its_grid():
    assert "PNG for a slide (1920 × 1080)" in buttons("decoder_grid.py")
    picture = Image.open(io.BytesIO(cache.grid_slide_png(KEY, 20, -3.0, 3.0)))  # the page's defaults
    assert picture.format == "PNG" and picture.size == (1920, 1080)


def test_the_latent_map_page_offers_a_slide_sized_png_of_the_vae_map(real_data):
    assert "VAE map as a PNG for a slide (1920 × 1080)" in buttons("latent_map.py")
    picture = Image.open(io.BytesIO(cache.latent_map_png(KEY)))
    assert picture.format == "PNG" and picture.size == (1920, 1080)


def test_the_interpolation_page_offers_its_frames_as_a_slide_sized_gif(real_data):
    assert "These frames as a GIF for a slide (1920 × 1080)" in buttons("interpolation.py")
    picture = Image.open(io.BytesIO(cache.interpolation_gif(KEY, 2, 1, 10, "linear")))
    assert picture.format == "GIF" and picture.is_animated and picture.n_frames == 10
    assert picture.size == (1920, 1080)
