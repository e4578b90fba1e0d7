"""Draw a digit page in AppTest, on the default checkpoint and real MNIST (anomaly scores made cheap): a drawing sent by
the canvas (its widget state, as the browser sends it), an upload, bad uploads, Clear, which input wins, and a clear
message without MNIST; and the overlay's geometry. (The mouse on the canvas is tests/browser/test_draw_in_browser.py.)"""
import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

import vae_core as vc
from explorer import cache
from explorer.cache import anomaly_scores
from explorer.model.choice import ModelKey
from explorer.model.files import DEFAULT_CHECKPOINT
from explorer.render.figures import digit_scatter, freeze_map
from explorer.render.map_overlay import star_overlay
from tests.app.helpers import captions, run_without_mnist, strip_cells

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "draw.py")


def stroke(points, size: int = 280, width: int = 22, ink="white", paper="black") -> Image.Image:
    """A drawing like the canvas's: one stroke through points, RGBA."""
    im = Image.new("RGBA", (size, size), paper)
    ImageDraw.Draw(im).line(points, fill=ink, width=width, joint="curve")
    return im


ONE = [(140, 40), (150, 240)]  # a vertical bar: a 1
SEVEN = [(70, 50), (210, 50), (120, 240)]


def png(image: Image.Image, fmt: str = "PNG", **save) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **save)
    return buf.getvalue()


def draw(at: AppTest, image: Image.Image, version: int = 0) -> AppTest:
    """What the canvas sends at the end of a stroke: its Fabric.js JSON and a PNG data URL of its pixels."""
    url = "data:image/png;base64," + base64.b64encode(png(image)).decode()
    at.session_state[f"draw_canvas_{version}"] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url},
                                                  "backgroundFit": None}
    return at.run()


def upload(at: AppTest, name: str, data: bytes, version: int = 0) -> AppTest:
    mime = "image/jpeg" if name.endswith(".jpg") else "image/png"
    at.get("file_uploader")[0].set_value((name, data, mime))
    assert at.get("file_uploader")[0].proto.id.endswith(f"draw_upload_{version}")
    return at.run()


def star_z(at: AppTest) -> np.ndarray | None:
    """The star's z from the overlay's HTML, or None when there is no star."""
    body = next(h.proto.body for h in at.get("html") if "pointer-events:none" in h.proto.body)
    match = re.search(r'class="map-star"[^>]*data-z="([^"]+)"', body)
    return np.array([float(v) for v in match.group(1).split(",")]) if match else None


def backdrop(at: AppTest) -> str:
    (chart,) = at.get("plotly_chart")
    return chart.proto.spec


@pytest.fixture
def page(real_data, cheap_anomaly_scores):
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception, at.exception
    return at


# ---- drawing

def test_before_a_stroke_the_page_asks_for_one_and_the_map_has_no_star(page):
    assert any("Draw a digit in the black box" in i.value for i in page.info)
    assert star_z(page) is None
    fig = json.loads(backdrop(page))
    assert [t["name"] for t in fig["data"]] == [str(d) for d in range(10)]  # the 10,000 test digits by label
    assert "drawn_digit" not in page.session_state


def test_a_stroke_shows_what_the_model_sees_its_star_its_neighbours_and_its_scores(page, default_model):
    cache.test_scores(ModelKey.of(DEFAULT_CHECKPOINT))  # scored, as the server's warm-up does for the default model
    draw(page, stroke(ONE))
    assert not page.exception, page.exception
    x = vc.to_mnist(stroke(ONE))
    np.testing.assert_array_equal(page.session_state["drawn_digit"], x)  # what the Repair page is offered
    assert page.session_state["drawn_digit_from"] == "drawing"
    mu, logvar = vc.encode(default_model, x[None])
    np.testing.assert_allclose(star_z(page), mu[0], atol=1e-4)
    assert captions(page)[:2] == ["what the model sees (28×28)", "its reconstruction"]
    assert f"z = μ(x) = **({mu[0, 0]:+.2f}, {mu[0, 1]:+.2f})**" in " ".join(m.value for m in page.markdown)

    test_mu = cache.test_latents(ModelKey.of(DEFAULT_CHECKPOINT))[0]
    _, labels = cache.mnist("test")
    nearest = np.argsort(np.linalg.norm(test_mu - mu[0], axis=1), kind="stable")[:5]
    assert [caption for _, caption in strip_cells(page)] == [
        f"test #{i} · label {labels[i]} · {np.linalg.norm(test_mu[i] - mu[0]):.2f} away" for i in nearest]
    assert all(labels[i] == 1 for i in nearest)  # a vertical bar lands among the ones

    scores = vc.anomaly_scores(default_model, x[None], 2, vc.Complexity())  # cheap_anomaly_scores: k = 2
    test = cache.test_scores(ModelKey.of(DEFAULT_CHECKPOINT))
    assert [m.value for m in page.metric] == [f"{scores[s][0]:.1f} nats" for s in vc.SCORES]
    shares = [f"more atypical than **{np.mean(test[s] < scores[s][0]):.0%}** of the test digits" for s in vc.SCORES]
    assert [c.value for c in page.caption if c.value.startswith("more atypical")] == shares


def test_unless_the_test_digits_were_scored_a_button_scores_them_and_ranks_the_digit(page, monkeypatch):
    monkeypatch.setattr(anomaly_scores, "IWAE_K", 3)  # settings this server has not scored the test digits with
    draw(page, stroke(ONE))
    assert not page.metric and any("scored once per model" in i.value for i in page.info)
    assert star_z(page) is not None  # the star does not wait for them
    page.button(key="draw_rank").click().run()
    assert not page.exception, page.exception
    assert [m.label for m in page.metric] == ["−ELBO", "reconstruction error", "KL", "IWAE −log p(x)",
                                              "corrected score"]
    assert cache.test_scores_ready(ModelKey.of(DEFAULT_CHECKPOINT))


def test_a_new_stroke_moves_the_star_and_leaves_the_map_as_it_was(page):
    before = backdrop(draw(page, stroke(ONE)))
    z_one = star_z(page)
    draw(page, stroke(SEVEN))
    assert not page.exception, page.exception
    assert np.linalg.norm(star_z(page) - z_one) > 0.5
    assert backdrop(page) == before  # the same figure: the browser does not draw the 10k points again


def test_clear_empties_the_canvas_and_forgets_the_digit(page):
    draw(page, stroke(ONE))
    page.button(key="draw_clear").click().run()
    assert not page.exception, page.exception
    assert "drawn_digit" not in page.session_state and star_z(page) is None
    assert any("Draw a digit in the black box" in i.value for i in page.info)
    assert page.get("file_uploader")[0].proto.id.endswith("draw_upload_1")  # new, empty widgets
    draw(page, stroke(SEVEN), version=1)
    np.testing.assert_array_equal(page.session_state["drawn_digit"], vc.to_mnist(stroke(SEVEN)))


# ---- uploads

def test_a_dark_on_light_upload_is_inverted_and_lands_where_the_same_drawing_does(page):
    upload(page, "seven.png", png(stroke(SEVEN, ink="black", paper="white").convert("RGB")))
    assert not page.exception, page.exception
    np.testing.assert_allclose(page.session_state["drawn_digit"], vc.to_mnist(stroke(SEVEN)), atol=1e-6)
    assert page.session_state["drawn_digit_from"] == "seven.png"


def test_the_input_changed_last_is_the_one_shown(page):
    draw(page, stroke(ONE))
    upload(page, "seven.jpg", png(stroke(SEVEN).convert("RGB"), "JPEG"))
    assert page.session_state["drawn_digit_from"] == "seven.jpg"
    draw(page, stroke([(100, 40), (180, 240)]))  # a new stroke: the drawing again
    assert page.session_state["drawn_digit_from"] == "drawing"
    np.testing.assert_array_equal(page.session_state["drawn_digit"], vc.to_mnist(stroke([(100, 40), (180, 240)])))


@pytest.mark.parametrize(("data", "reason"), [
    (b"these are not the pixels you are looking for", "not an image"),
    (png(Image.new("L", (28, 28)), save_all=True, append_images=[Image.new("L", (28, 28), 255)]), "animated"),
    (b"\x89PNG" + bytes(vc.preprocess.MAX_BYTES), "too large"),
])
def test_a_bad_upload_gets_a_clear_message_and_no_star(page, data, reason):
    upload(page, "digit.png", data)
    assert not page.exception, page.exception
    message = " ".join(e.value for e in page.error)
    assert "digit.png cannot be used" in message and reason in message
    assert star_z(page) is None and "drawn_digit" not in page.session_state


def test_a_blank_upload_says_no_digit_was_found(page):
    upload(page, "blank.png", png(Image.new("RGB", (64, 64), "white")))
    assert "No digit found in blank.png" in " ".join(w.value for w in page.warning)
    assert star_z(page) is None


# ---- what the page needs

def test_without_mnist_the_page_says_what_is_missing(no_mnist):
    at = run_without_mnist(PAGE)
    assert not at.get("plotly_chart")


# ---- the overlay: data coordinates in the frame Plotly gives equal-scale axes

def test_the_overlay_places_the_star_by_the_axis_ranges_in_a_frame_of_their_aspect_ratio():
    fig = freeze_map(digit_scatter(np.array([[-4.0, -2.0], [4.0, 2.0]]), np.array([0, 1]), height=500))
    fig.update_xaxes(range=[-4, 4])
    fig.update_yaxes(range=[-2, 2])
    html = star_overlay(fig.layout, z=(2.0, -1.0), sigma=(0.5, 0.25))
    m = fig.layout.margin
    assert f"top:{m.t}px;height:{500 - m.t - m.b}px" in html  # the plot box under the fixed margins
    assert "aspect-ratio:2.000000" in html  # 8 wide, 4 high
    assert 'class="map-star"' in html and "left:75.0000%;top:75.0000%" in html  # (2, -1) in [-4, 4] x [-2, 2]
    assert "width:12.5000%;height:12.5000%" in html  # 1σ ellipse: 2 * 0.5 / 8 and 2 * 0.25 / 4
    assert 'class="map-star"' not in star_overlay(fig.layout)
