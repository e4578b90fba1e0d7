"""The app in a real browser: every page renders, a grid cell and a scatter point react to clicks, the t slider moves
the interpolation frame, and a one-epoch retraining from the sidebar finishes and becomes the selected model.

Starts `streamlit run app.py` on 127.0.0.1 (free port, VAE_CHECKPOINT_DIR in a tmp dir) and drives Debian's Chromium
headless through Playwright. Screenshots of every step go to artifacts/screenshots/ (gitignored). Needs MNIST
(VAE_DATA_DIR). The tests share one server and run in file order; each opens its page from the root.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.browser_harness import (
    EXCEPTION,
    GL_PIXELS_JS,
    NAV,
    ROOT,
    chromium,
    click_point,
    n_traces,
    open_page,
    serve_app,
    wait_idle,
)

pytestmark = pytest.mark.browser

SHOTS = ROOT / "artifacts" / "screenshots"
SLOW = 90_000  # ms: the first view of a page computes encodings/PCA/metrics on a shared 2-core machine
WAIT = 30_000  # ms: a click or slider move (a fragment rerun)
ERROR_ALERT = '[data-testid="stMain"] [data-testid="stAlertContentError"]'
TRAINED = "browser-1epoch"
# Whether the i-th chart highlights a clicked point (Plotly keeps the selection in each trace's selectedpoints).
HIGHLIGHTED_JS = """(i) => { const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];
  return !!el && el.data.some(d => d.selectedpoints && d.selectedpoints.length > 0); }"""


@pytest.fixture(scope="module")
def app(tmp_path_factory, real_data):
    """(base url, Playwright page, checkpoint dir): one server and one browser for the whole module."""
    tmp = tmp_path_factory.mktemp("browser")
    checkpoints = tmp / "checkpoints"
    checkpoints.mkdir()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve_app(checkpoints, tmp / "streamlit.log") as (url, _), chromium(viewport=(1600, 1800)) as page:
        page.set_default_timeout(WAIT)
        yield url, page, checkpoints


def shot(page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))  # the viewport: Streamlit scrolls inside its own container
    return path


def assert_rendered(page, what: str) -> None:
    """No Streamlit exception and no error box in the page body, once the run has finished."""
    wait_idle(page, SLOW)
    exceptions = page.locator(EXCEPTION)
    assert exceptions.count() == 0, f"{what}: Streamlit exception shown:\n{exceptions.first.inner_text()}"
    errors = page.locator(ERROR_ALERT)
    assert errors.count() == 0, f"{what}: error shown:\n{errors.first.inner_text()}"


def expect_text(page, text, what: str, timeout: float = WAIT) -> None:
    """Wait until `text` (a string or regex) is visible; fail naming what was expected, with a screenshot."""
    try:
        page.get_by_text(text).first.wait_for(state="visible", timeout=timeout)
    except PlaywrightTimeout as e:  # re-raise naming the step that failed
        path = shot(page, f"FAILED_{re.sub(r'[^a-z0-9]+', '_', what.lower())}")
        raise AssertionError(f"{what}: {text!r} did not appear within {timeout / 1000:.0f} s (screenshot {path})") from e


def wait_gl_drawn(page, chart: int, what: str, min_pixels: int = 2000) -> None:
    """Until the WebGL layer of the chart has drawn points (not just an empty canvas)."""
    try:
        page.wait_for_function(f"([i, n]) => ({GL_PIXELS_JS})(i) >= n",
                               arg=[chart, min_pixels], timeout=SLOW, polling=250)
    except PlaywrightTimeout as e:
        path = shot(page, f"FAILED_{what}")
        raise AssertionError(f"{what}: the WebGL scatter #{chart} drew no points (screenshot {path})") from e


def image_sources(page) -> list[str]:
    return page.locator('[data-testid="stMain"] [data-testid="stImage"] img').evaluate_all("els => els.map(e => e.src)")


def test_a_bookmarked_page_on_a_fresh_server_gets_the_sidebar(app):
    """First in the file, so this is the server's first request: a deep link, which Streamlit would run in its
    legacy pages/ mode without shell.py (explorer/app_shell.py)."""
    url, page, _ = app
    page.goto(f"{url}/decoder_grid")
    expect_text(page, "z = (+0.00, +0.00)", "deep link to the decoder grid", SLOW)
    assert_rendered(page, "deep link")
    links = page.locator(f"{NAV} a").all_inner_texts()
    assert [re.sub(r"^\w+\s+", "", t.strip()) for t in links][:4] == ["Overview", "Latent map", "Decoder grid",
                                                                        "Interpolation"], links
    assert page.get_by_text("Digit colours on every map").count() == 1, "no app sidebar on a deep link"
    assert page.locator('[data-testid="stSidebar"] input[aria-label="Model"]').count() == 1, "no model picker"
    assert page.url.split("?")[0].endswith("/decoder_grid")  # the query: the view (explorer/page/url_state.py)


def test_overview_renders(app):
    url, page, _ = app
    open_page(page, url)
    expect_text(page, "Variational autoencoder on MNIST", "overview title", SLOW)
    expect_text(page, "Samples from the prior", "overview prior section", SLOW)
    assert_rendered(page, "overview")
    with contextlib.suppress(PlaywrightTimeout):  # Plotly draws a moment after the run ends
        page.locator('[data-testid="stMain"] .js-plotly-plot').first.wait_for(timeout=WAIT)
    assert page.locator('[data-testid="stMain"] .js-plotly-plot').count() == 1, "overview: no loss-curve chart"
    images = '[data-testid="stMain"] [data-testid="stImage"] img'
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(f"() => document.querySelectorAll('{images}').length >= 30", timeout=WAIT)
    n_images = page.locator(images).count()
    assert n_images >= 30, f"overview: expected 10 test digits + 10 reconstructions + 10 prior samples, saw {n_images}"
    shot(page, "01_overview")
    page.locator(images).last.scroll_into_view_if_needed()  # the prior samples, below the fold
    shot(page, "01b_overview_prior_samples")


def test_latent_map_click_shows_the_digit(app):
    url, page, _ = app
    open_page(page, url, "latent_map")
    expect_text(page, "Latent map: VAE vs PCA", "latent map title", SLOW)
    expect_text(page, "Click a dot on either map", "latent map, nothing selected yet", SLOW)
    assert_rendered(page, "latent map")
    wait_gl_drawn(page, 0, "latent_map_vae")
    wait_gl_drawn(page, 1, "latent_map_pca")
    assert page.get_by_text("5-NN accuracy").count() == 2, "latent map: a 5-NN accuracy under each map"
    assert page.locator('[data-testid="stMain"] [data-testid="stImage"]').count() == 0, "a digit shown before a click"
    shot(page, "02_latent_map")

    click_point(page, 0, 3, 5)  # VAE map, the trace of digit 3, its 6th point (points overlap: any digit will do)
    expect_text(page, re.compile(r"^test #\d+$"), "latent map click -> selected digit caption")
    expect_text(page, "reconstruction (decoded μ)", "latent map click -> reconstruction")
    assert_rendered(page, "latent map after a click")
    caption = page.locator('[data-testid="stImageCaption"]').first.inner_text()
    assert 0 <= int(caption.split("#")[1]) < 10_000, caption
    assert page.get_by_text("Click a dot on either map").count() == 0, "the 'click a dot' hint is still shown"
    label = page.locator('[data-testid="stMetric"]').filter(has_text="Label")
    assert label.count() == 1 and re.search(r"\b[0-9]\b", label.inner_text()), "no digit label for the selection"
    shot(page, "03_latent_map_clicked")

    # A click on the PCA map: the VAE map still highlights the first digit, so it is redrawn once under a new chart
    # key (pages/latent_map.py's versioned keys) -- without a stale highlight, and without resending it on every click.
    assert page.evaluate(HIGHLIGHTED_JS, 0), "the clicked digit is not highlighted on the VAE map"
    first = caption
    click_point(page, 1, 7, 3)
    page.wait_for_function(f"() => document.querySelector('[data-testid=stImageCaption]')"
                           f" && document.querySelector('[data-testid=stImageCaption]').innerText !== {first!r}")
    page.wait_for_function(f"() => !({HIGHLIGHTED_JS})(0)", timeout=WAIT)
    assert page.evaluate(HIGHLIGHTED_JS, 1), "the PCA click is not highlighted on the PCA map"


def test_decoder_grid_cell_click_decodes_that_z(app):
    url, page, _ = app
    open_page(page, url, "decoder_grid")
    expect_text(page, "Decoder grid", "decoder grid title", SLOW)
    expect_text(page, "z = (+0.00, +0.00)", "decoder grid, initial z", SLOW)
    page.locator('[data-testid="stMain"] .js-plotly-plot').first.wait_for(timeout=SLOW)
    assert_rendered(page, "decoder grid")
    picture = page.locator('[data-testid="stMain"] .js-plotly-plot .imagelayer image')
    try:
        picture.wait_for(state="attached", timeout=WAIT)
    except PlaywrightTimeout as e:
        raise AssertionError("decoder grid: the decoded grid picture is missing from the figure") from e
    before = image_sources(page)
    assert len(before) == 1, f"decoder grid: expected one decoded digit, saw {len(before)}"
    shot(page, "04_decoder_grid")

    g, lo, hi, row, col = 20, -3.0, 3.0, 3, 15  # the default 20 x 20 grid over [-3, 3]^2
    step = (hi - lo) / (g - 1)
    expected = f"z = ({lo + col * step:+.2f}, {hi - row * step:+.2f})"  # row 0 is at the top (z2 = hi)
    cells = n_traces(page, 0) - 1  # the transparent click layer is the last trace
    click_point(page, 0, cells, row * g + col)
    expect_text(page, expected, "decoder grid cell click -> decoded z")
    assert_rendered(page, "decoder grid after a click")
    after = image_sources(page)
    assert len(after) == 1 and after != before, "decoder grid: the decoded digit did not change after the click"
    shot(page, "05_decoder_grid_clicked")


def test_interpolation_t_slider_moves_the_frame(app):
    url, page, _ = app
    open_page(page, url, "interpolation")
    expect_text(page, "Interpolation", "interpolation title", SLOW)
    expect_text(page, "t = 0.50", "interpolation frame at t = 0.50", SLOW)
    assert_rendered(page, "interpolation")
    wait_gl_drawn(page, 0, "interpolation_map")
    decoded = page.get_by_text(re.compile(r"^decoded z\(t\) = "))
    z_before, images_before = decoded.inner_text(), image_sources(page)
    shot(page, "06_interpolation")

    slider = page.get_by_role("slider", name=re.compile(r"^t \(0 = A"))
    slider.focus()
    page.keyboard.press("ArrowRight")
    expect_text(page, "t = 0.51", "interpolation t slider -> frame caption")
    assert_rendered(page, "interpolation after moving t")
    assert decoded.inner_text() != z_before, f"the decoded frame's z did not move ({z_before})"
    assert image_sources(page) != images_before, "the frame images did not change"
    shot(page, "07_interpolation_t_moved")


def test_sidebar_retraining_trains_and_selects_the_new_model(app):
    url, page, checkpoints = app
    open_page(page, url)
    expect_text(page, "Variational autoencoder on MNIST", "overview before retraining", SLOW)
    wait_idle(page, SLOW)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Train a new model").click()
    form = sidebar.locator('[data-testid="stForm"]')
    form.wait_for()
    for label, value in (("Name", TRAINED), ("Epochs", "1"), ("Training images", "1000"), ("Batch size", "128")):
        field = form.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
        assert field.input_value() == value, f"retraining form: {label} holds {field.input_value()!r}, not {value!r}"
    shot(page, "08_retrain_form")
    form.get_by_role("button", name="Train", exact=True).click()

    # the progress panel (may be missed if the epoch is very quick), then the success message
    expect_text(page, re.compile(rf"Trained '{TRAINED}' in \d+ s"), "retraining -> success message", 150_000)
    assert_rendered(page, "after retraining")
    assert (checkpoints / f"{TRAINED}.pt").is_file(), f"no {TRAINED}.pt in {checkpoints}"
    picker = sidebar.locator('input[aria-label="Model"]')
    assert picker.input_value() == TRAINED, f"the new model is not selected; the picker shows {picker.input_value()!r}"
    expect_text(page, re.compile(r"epochs? on 1,000 images"), "model card of the new model")
    card = sidebar.get_by_text(re.compile(r"epochs? on 1,000 images"))
    assert re.search(r"\b1\s+epochs? on 1,000 images", card.inner_text()), card.inner_text()
    shot(page, "09_retrained_selected")

    # it is listed beside the shipped default
    picker.click()
    options = page.locator('[role="option"]')
    options.first.wait_for()
    texts = options.all_inner_texts()
    assert any("default" in t for t in texts) and any(TRAINED in t for t in texts), f"picker options: {texts}"
    shot(page, "10_picker_lists_new_model")
    page.keyboard.press("Escape")
