"""Downloads for slides on the decoder grid, latent map and interpolation pages: each page offers its button, and what
the button's deferred callable makes (the cached function it calls) is a 1920 x 1080 PNG, or a GIF with one frame per
step of the path."""
import io
import threading
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


def test_sessions_asking_for_slide_files_at_once_get_them_made_one_at_a_time(monkeypatch):
    """Streamlit makes deferred downloads in a pool of threads; each GIF holds its full-size frames while it is
    encoded, so six students clicking at once must not hold six."""
    from explorer.cache import slide_files

    inside, most, lock = [0], [0], threading.Lock()

    def slow_png(panel, title, **kwargs):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        released.wait(0.2)  # long enough for the other threads to arrive, whatever the machine's load
        with lock:
            inside[0] -= 1
        return title.encode()

    released = threading.Event()
    monkeypatch.setattr(slide_files.slides, "png_for_slide", slow_png)
    threads = [threading.Thread(target=cache.grid_slide_png, args=(KEY, 5 + i, -3.0, 3.0)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert most[0] == 1
