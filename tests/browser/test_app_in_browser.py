"""The app in a real browser: every page renders, a grid cell and a scatter point react to clicks, the t slider moves
the interpolation frame, and a one-epoch retraining from the sidebar finishes and becomes the selected model.

Runs on the shared `server` (tests/browser/conftest.py: 127.0.0.1, a tmp checkpoint folder) with one page for the
module; its tests run in file order, and each opens its page from the root. Screenshots of every step go to
artifacts/screenshots/ (gitignored). Needs MNIST (VAE_DATA_DIR).
"""
from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.browser_harness import click_point, n_traces, open_page, wait_idle
from tests.browser.helpers import (
    PICKER,
    SIDEBAR,
    SLOW,
    WAIT,
    assert_rendered,
    expect_text,
    expect_training_end,
    image_sources,
    open_picker,
    shot,
    start_training,
    wait_gl_drawn,
)

pytestmark = pytest.mark.browser

VIEWPORT = (1600, 1800)
TRAINED = "browser-1epoch"
# Whether the i-th chart highlights a clicked point (Plotly keeps the selection in each trace's selectedpoints).
HIGHLIGHTED_JS = """(i) => { const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];
  return !!el && el.data.some(d => d.selectedpoints && d.selectedpoints.length > 0); }"""


def test_overview_renders(server, page):
    url = server.url
    open_page(page, url)
    expect_text(page, "Variational autoencoder on MNIST", "overview title", SLOW)
    expect_text(page, "Samples from the prior", "overview prior section", SLOW)
    assert_rendered(page, "overview")
    with contextlib.suppress(PlaywrightTimeout):  # Plotly draws a moment after the run ends
        page.locator('[data-testid="stMain"] .js-plotly-plot').first.wait_for(timeout=WAIT)
    assert page.locator('[data-testid="stMain"] .js-plotly-plot').count() == 1, "overview: no loss-curve chart"
    images = '[data-testid="stMain"] .digit-strip img'
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(f"() => [...document.querySelectorAll('{images}')].filter(i => i.complete"
                               f" && i.naturalWidth > 0).length >= 30", timeout=WAIT)
    n_images = page.evaluate(f"[...document.querySelectorAll('{images}')].filter(i => i.naturalWidth > 0).length")
    assert n_images >= 30, f"overview: expected 10 test digits + 10 reconstructions + 10 prior samples, saw {n_images}"
    tops = page.evaluate(f"[...document.querySelectorAll('{images}')].slice(0, 10).map(i => i.getBoundingClientRect().top)")
    assert len(set(tops)) == 1, f"overview: the ten test digits are not in one row on a desktop: {tops}"
    shot(page, "01_overview")
    page.locator(images).last.scroll_into_view_if_needed()  # the prior samples, below the fold
    shot(page, "01b_overview_prior_samples")


def test_latent_map_click_shows_the_digit(server, page):
    url = server.url
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


def test_decoder_grid_cell_click_decodes_that_z(server, page):
    url = server.url
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


def test_interpolation_t_slider_moves_the_frame(server, page):
    url = server.url
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


def test_sidebar_retraining_trains_and_selects_the_new_model(server, page):
    url, checkpoints = server.url, server.checkpoints
    open_page(page, url)
    expect_text(page, "Variational autoencoder on MNIST", "overview before retraining", SLOW)
    wait_idle(page, SLOW)
    start_training(page, {"Name": TRAINED, "Epochs": "1", "Training images": "1000", "Batch size": "128"},
                   screenshot="08_retrain_form")

    # the progress panel (may be missed if the epoch is very quick), then the success message
    expect_training_end(page, re.compile(rf"Trained '{TRAINED}' in \d+ s"), "retraining -> success message")
    assert_rendered(page, "after retraining")
    assert (checkpoints / f"{TRAINED}.pt").is_file(), f"no {TRAINED}.pt in {checkpoints}"
    picker = page.locator(PICKER)
    assert picker.input_value() == TRAINED, f"the new model is not selected; the picker shows {picker.input_value()!r}"
    expect_text(page, re.compile(r"epochs? on 1,000 images"), "model card of the new model")
    card = page.locator(SIDEBAR).get_by_text(re.compile(r"epochs? on 1,000 images"))
    assert re.search(r"\b1\s+epochs? on 1,000 images", card.inner_text()), card.inner_text()
    shot(page, "09_retrained_selected")

    # it is listed beside the shipped default
    open_picker(page)
    options = page.locator('[role="option"]')
    texts = options.all_inner_texts()
    assert any("default" in t for t in texts) and any(TRAINED in t for t in texts), f"picker options: {texts}"
    shot(page, "10_picker_lists_new_model")
    page.keyboard.press("Escape")
