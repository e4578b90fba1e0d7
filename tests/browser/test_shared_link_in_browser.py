"""Shared links in a real browser (127.0.0.1 only): a link opened in a fresh browser context -- no cookies, no session,
as on a colleague's machine -- shows the view it was made from: the model, the decoder grid's settings and the z
chosen by a click (the same decoded picture), the interpolation's pair and t. A bad link shows the defaults and says
what it could not read."""
from __future__ import annotations

import base64
import contextlib
import re

import pytest

from bench.browser_harness import click_point, n_traces, open_page, wait_idle
from tests.browser.conftest import new_page
from tests.browser.helpers import (
    SLOW,
    WAIT,
    assert_rendered,
    expect_text,
    grid_sliders,
    image_sources,
    pick_model,
    picked_model,
    query,
    shot,
)

pytestmark = pytest.mark.browser
VIEWPORT = (1600, 1200)


@contextlib.contextmanager
def opened_elsewhere(browser, link: str, shows: str, what: str):
    """`link` opened in a new browser context -- another user, with nothing of the first one's session -- once `shows`
    is on screen and the run is over without an error; closed after."""
    fresh = new_page(browser, VIEWPORT)
    try:
        fresh.goto(link)
        expect_text(fresh, shows, what, SLOW)
        assert_rendered(fresh, what)
        yield fresh
    finally:
        fresh.context.close()


def decoded_png(page) -> bytes:
    """The bytes of the decoder grid's one decoded digit (the page's only st.image)."""
    (src,) = image_sources(page)
    if src.startswith("data:"):  # digits are sent inline, as data URIs
        return base64.b64decode(src.partition(",")[2])
    return page.request.get(src).body()


def test_a_clicked_z_reaches_a_new_browser_through_the_link_and_is_decoded_the_same(server, page, browser):
    url = server.url
    open_page(page, url, "decoder_grid", query="?model=beta4")
    expect_text(page, "z = (+0.00, +0.00)", "decoder grid, initial z", SLOW)
    page.locator('[data-testid="stMain"] .js-plotly-plot').first.wait_for(timeout=SLOW)
    assert_rendered(page, "decoder grid")
    before = image_sources(page)

    g, lo, hi, row, col = 20, -3.0, 3.0, 3, 15  # the default 20 x 20 grid over [-3, 3]^2
    step = (hi - lo) / (g - 1)
    z1, z2 = round(lo + col * step, 2), round(hi - row * step, 2)
    click_point(page, 0, n_traces(page, 0) - 1, row * g + col)
    expect_text(page, f"z = ({z1:+.2f}, {z2:+.2f})", "decoder grid cell click -> decoded z")
    page.wait_for_function("([a, b]) => { const q = new URLSearchParams(location.search);"
                           " return Number(q.get('z1')) === a && Number(q.get('z2')) === b; }", arg=[z1, z2])
    wait_idle(page, SLOW)
    assert image_sources(page) != before
    shared, png = page.url, decoded_png(page)
    assert query(page)["model"] == "beta4"

    page.get_by_role("button", name="Copy link").click()  # the button gives the address bar's link
    page.locator('[data-testid="stCode"]').first.wait_for(timeout=WAIT)
    assert page.locator('[data-testid="stCode"]').first.inner_text().strip() == shared
    shot(page, "shared_02_copy_link")
    page.keyboard.press("Escape")

    with opened_elsewhere(browser, shared, f"z = ({z1:+.2f}, {z2:+.2f})", "the shared link's z in a new browser") as fresh:
        assert picked_model(fresh) == "beta4 (shipped)", "the link's model is not picked"
        assert grid_sliders(fresh) == grid_sliders(page)
        assert decoded_png(fresh) == png, "the shared link decodes another picture"
        assert query(fresh) == query(page)
        shot(fresh, "shared_03_opened_elsewhere")


def test_a_model_picked_in_the_browser_goes_into_the_link(server, browser):
    url = server.url
    link = f"{url}/decoder_grid?model=beta4"
    with opened_elsewhere(browser, link, "z = (+0.00, +0.00)", "decoder grid on the link's model") as fresh:
        pick_model(fresh, "conv")
        fresh.wait_for_url(re.compile(r"model=conv"))
        wait_idle(fresh, SLOW)
        fresh.get_by_role("button", name="Copy link").click()  # a full run: the pick stays
        fresh.locator('[data-testid="stCode"]').first.wait_for()
        assert "model=conv" in fresh.locator('[data-testid="stCode"]').first.inner_text()
        assert picked_model(fresh) == "conv (shipped)" and query(fresh)["model"] == "conv"


def test_a_bad_link_shows_the_defaults_and_says_what_it_could_not_read(server, browser):
    url = server.url
    link = f"{url}/decoder_grid?model=gone&grid=abc&z1=1.5&z2=nan"
    with opened_elsewhere(browser, link, "z = (+1.50, +0.00)", "a bad link's good parameter kept") as fresh:
        fresh.locator('[data-testid="stToast"]').nth(2).wait_for()  # drawn just after the run ends, and kept
        toasts = " ".join(fresh.locator('[data-testid="stToast"]').all_inner_texts())
        for bad in ("model=gone", "grid=abc", "z2=nan"):
            assert bad in toasts, f"no notice for {bad}: {toasts!r}"
        assert picked_model(fresh) == "default (shipped)" and grid_sliders(fresh) == [20, 3.0, 1.5, 0.0]
        assert query(fresh) == {"model": "default", "grid": "20", "extent": "3.0", "z1": "1.5", "z2": "0.0",
                                "overlay": "false"}  # the address now names the view shown
        shot(fresh, "shared_04_bad_link")


def test_an_interpolation_link_opens_its_pair_and_t_in_a_new_browser(server, browser):
    url = server.url
    link = f"{url}/interpolation?model=default&a=4321&b=17&mode=spherical&steps=7&t=0.2"
    with opened_elsewhere(browser, link, "pixel blend at t = 0.20", "the linked t") as fresh:
        for caption in ("test #4321", "test #17", "Decoded along the spherical path (7 frames)"):
            expect_text(fresh, caption, f"the linked view: {caption}")
        shot(fresh, "shared_05_interpolation_link")
