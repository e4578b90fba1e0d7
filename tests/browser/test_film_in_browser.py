"""The training film in a real browser: it opens on the trained map; Play animates the map (the drawn points move),
the grid picture and the loss cursor in the browser itself, the slide GIF downloads, a sidebar training is drawn live
on the page, and presentation mode hides the sidebar and lists the pages along the top.

Runs on `film_server` (tests/browser/conftest.py: a tmp checkpoint folder holding a small filmed model) with one page
for the module. Screenshots go to artifacts/screenshots/. Needs MNIST (VAE_DATA_DIR)."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

import vae_core as vc
from bench.browser_harness import MAIN_PLOTS, NAV, open_page, wait_idle
from tests.browser.conftest import FILMED
from tests.browser.helpers import (
    SLOW,
    WAIT,
    assert_rendered,
    expect_text,
    expect_training_end,
    pick_model,
    shot,
    start_training,
)
from vae_core.limits import frame_steps

pytestmark = pytest.mark.browser
VIEWPORT = (1600, 1300)
# What the viewer sees of the film chart: where the first digit traces' points are drawn (SVG transforms), the grid
# picture's source and the slider's position.
DRAWN_JS = """() => { const el = document.querySelector('[data-testid=stMain] .js-plotly-plot');
  const points = Array.from(el.querySelectorAll('.scatterlayer .trace .point')).slice(0, 300)
    .map(p => p.getAttribute('transform')).join(';');
  const image = el.querySelector('.imagelayer image, .layer-below image');
  return {points, image: image ? image.getAttribute('href').length + ':' + image.getAttribute('href').slice(60, 200) : '',
          active: el._fullLayout.sliders[0].active, frames: (el._transitionData._frames || []).length}; }"""
# The loss curve's cursor: the x of the chart's last trace.
CURSOR_JS = "() => document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullData.at(-1).x[0]"
FILM_READY_JS = """(n) => { const el = document.querySelector('[data-testid=stMain] .js-plotly-plot');
  return !!(el && el._transitionData && el._transitionData._frames && el._transitionData._frames.length === n
            && el.querySelectorAll('.scatterlayer .trace .point').length > 0); }"""


def test_the_film_opens_on_the_trained_map_and_play_animates_it_from_the_start(film_server, page):
    url, film = film_server.url, film_server.film
    frames = len(film["steps"])
    open_page(page, url, "film")
    expect_text(page, "Training film", "film page title", SLOW)
    pick_model(page, FILMED)
    page.wait_for_function(FILM_READY_JS, arg=frames, timeout=SLOW)
    assert_rendered(page, "film page")
    opened = page.evaluate(DRAWN_JS)
    # the last frame: the trained model's map, its grid and the cursor at the last epoch, not the untrained blob
    assert opened["frames"] == frames and opened["active"] == frames - 1 and opened["points"] and opened["image"]
    assert page.evaluate(CURSOR_JS) == pytest.approx(float(film["epochs"][-1]))
    expect_text(page, vc.frame_caption(film, frames - 1), "film slider caption at the last frame")
    shot(page, "film_01_trained")

    page.locator(f"{MAIN_PLOTS} .updatemenu-button").filter(has_text="Play").first.click()
    page.wait_for_function(f"(n) => ({DRAWN_JS})().active < n - 1", arg=frames, timeout=WAIT)  # back to the start
    page.wait_for_function(f"(p) => ({DRAWN_JS})().points !== p", arg=opened["points"], timeout=WAIT)
    playing = page.evaluate(DRAWN_JS)
    assert playing["image"] != opened["image"], "the decoded grid did not change while the film played"
    shot(page, "film_02_playing")
    # it plays to the end by itself: the last frame's caption and the cursor at the last epoch again
    page.wait_for_function(f"(n) => ({DRAWN_JS})().active === n - 1", arg=frames, timeout=WAIT)
    page.wait_for_function(f"(e) => Math.abs(({CURSOR_JS})() - e) < 1e-9", arg=float(film["epochs"][-1]),
                           timeout=WAIT)  # the last frame's transition has moved the cursor
    expect_text(page, vc.frame_caption(film, frames - 1), "film slider caption at the last frame")
    shot(page, "film_03_last_frame")


def test_the_film_downloads_as_a_slide_sized_gif(film_server, page):
    film = film_server.film
    page.get_by_role("button", name=re.compile("Training film as a GIF")).scroll_into_view_if_needed()
    with page.expect_download(timeout=SLOW) as download:
        page.get_by_role("button", name=re.compile("Training film as a GIF")).click()
    gif = Image.open(io.BytesIO(open(download.value.path(), "rb").read()))
    assert download.value.suggested_filename == f"{FILMED}_training_film.gif"
    assert gif.format == "GIF" and gif.size == (1920, 1080) and gif.n_frames == len(film["steps"])


def test_a_sidebar_training_is_drawn_live_on_the_film_page(page):
    wait_idle(page, SLOW)  # the form is filled and sent on a page at rest, not while a run redraws the sidebar
    start_training(page, {"Name": "live-in-browser", "Epochs": "8", "Training images": "1000", "Hidden sizes": "64"})
    expect_text(page, "Live: live-in-browser is training", "live heading on the film page", SLOW)
    title = "() => { const t = document.querySelector('[data-testid=stMain] .js-plotly-plot .gtitle'); " \
            "return t ? t.textContent : ''; }"
    page.wait_for_function(f"() => ({title})() !== ''", timeout=SLOW)
    first = page.evaluate(title)  # the live map's title is its frame's caption: it changes with every frame
    page.wait_for_function(f"(first) => ({title})() !== first", arg=first, timeout=SLOW)
    shot(page, "film_04_live")
    expect_training_end(page, re.compile(r"Trained 'live-in-browser' in \d+ s"), "the live training ends")
    # the rerun that selects the new model: its film instead of the live section
    page.wait_for_function(FILM_READY_JS, arg=len(frame_steps(8, 8)), timeout=SLOW)  # 8 steps an epoch
    wait_idle(page, SLOW)
    assert page.get_by_text("Live: live-in-browser is training").count() == 0


def test_presentation_mode_hides_the_sidebar_and_lists_the_pages_on_top(film_server, page):
    url = film_server.url
    open_page(page, url, "film")
    wait_idle(page, SLOW)
    root = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    base = page.evaluate(root)
    page.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode").click()
    exit_button = page.get_by_role("button", name=re.compile("Exit presentation"))
    exit_button.wait_for(timeout=WAIT)
    page.locator('[data-testid="stSidebar"]').wait_for(state="hidden", timeout=WAIT)
    assert page.evaluate(root) == pytest.approx(1.25 * base)
    top = page.locator("header a").filter(has_text="Latent map")
    assert top.count() == 1 and page.locator(NAV).count() == 0
    shot(page, "film_05_presentation")
    top.click()
    page.wait_for_url(re.compile(r"/latent_map(\?|$)"), timeout=SLOW)  # the query: the view (explorer/page/url_state.py)
    exit_button.wait_for(timeout=SLOW)  # still presenting on the next page
    exit_button.click()
    page.locator('[data-testid="stSidebar"]').wait_for(state="visible", timeout=WAIT)
    assert page.evaluate(root) == base
