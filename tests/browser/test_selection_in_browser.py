"""Selecting digits on the latent map in a real browser (127.0.0.1 only): a lasso drawn with the mouse on the VAE map
selects the digits it encloses -- the panel counts them, shows their labels and digits, both maps highlight them --
and "Download selection (CSV)" gives them as a file pandas reads as it is; the digits drawn on both maps follow the
selection; a link with a digit and the digits shown opens that view in a fresh browser context.

The tests run on the shared `server` with one page for the module, in file order. Screenshots go to
artifacts/screenshots/ (gitignored)."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from bench.browser_harness import MAIN_PLOTS, open_page, wait_idle
from tests.browser.conftest import new_page
from tests.browser.helpers import SLOW, WAIT, assert_rendered, expect_text, shot, wait_gl_drawn

pytestmark = pytest.mark.browser
VIEWPORT = (1600, 1800)
COLUMNS = ["test_index", "label", "z1", "z2", "sigma1", "sigma2", "pc1", "pc2"]
SELECTION = re.compile(r"^Selection: ([\d,]+) digits on the VAE map$")
# How many of the map's points (its ten digit traces) lie inside a polygon of viewport points: Plotly's own lasso test,
# done again in the page from the drawn axes.
INSIDE_JS = """([i, poly]) => { const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];
  const fl = el._fullLayout, r = el.getBoundingClientRect();
  const inside = (px, py) => { let c = false;
    for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
      const [ax, ay] = poly[a], [bx, by] = poly[b];
      if ((ay > py) !== (by > py) && px < (bx - ax) * (py - ay) / (by - ay) + ax) c = !c; }
    return c; };
  let n = 0;
  for (const d of el._fullData.slice(0, 10)) for (let k = 0; k < d.x.length; k++)
    if (inside(r.left + fl.xaxis._offset + fl.xaxis.l2p(d.x[k]), r.top + fl.yaxis._offset + fl.yaxis.l2p(d.y[k]))) n++;
  return n; }"""
# The last trace of the i-th chart: [its name, its customdata's first column] (the highlight of a selection).
LAST_TRACE_JS = """(i) => { const el = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')[i];
  const d = el._fullData[el._fullData.length - 1];
  return [d.name, Array.from(d.customdata || [], row => Number(row[0]))]; }"""
BARS_JS = """() => { const el = Array.from(document.querySelectorAll('[data-testid=stMain] .js-plotly-plot'))
  .find(e => e._fullData.length === 1 && e._fullData[0].type === 'bar');
  return el ? Array.from(el._fullData[0].y, Number) : null; }"""
# The digits picture of each map: [its source's start, its CSS image-rendering] per chart with one.
PICTURES_JS = """() => Array.from(document.querySelectorAll('[data-testid=stMain] .js-plotly-plot'))
  .map(el => el.querySelector('.layer-above .imagelayer image'))
  .map(im => im ? [im.getAttribute('href').slice(0, 22), getComputedStyle(im).imageRendering] : null)"""


def lasso(page, chart: int, centre=(0.6, 0.55), radius: float = 0.12, corners: int = 8) -> int:
    """Pick Plotly's Lasso Select on the chart's mode bar and draw a regular polygon with the mouse (centre and
    radius as shares of the plot area's width); returns how many of the map's digits it encloses, counted in the page
    before it is drawn."""
    plot = page.locator(MAIN_PLOTS).nth(chart)
    plot.scroll_into_view_if_needed()
    plot.hover()  # the mode bar shows on hover
    plot.locator('.modebar-btn[data-title="Lasso Select"]').click()
    area = plot.locator(".nsewdrag").first.bounding_box()
    cx, cy, r = area["x"] + area["width"] * centre[0], area["y"] + area["height"] * centre[1], area["width"] * radius
    # Whole pixels, one mouse move per corner: the browser reports whole-pixel mouse positions, and Plotly keeps a
    # lasso's sharp bends but smooths away points within ~1.5 px of a straight line -- a 60-gon drawn in 240
    # interpolated moves selected 1,205 digits where the drawn path enclosed 1,253. An octagon's corners all stay.
    polygon = [[round(cx + r * math.cos(2 * math.pi * k / corners)), round(cy + r * math.sin(2 * math.pi * k / corners))]
               for k in range(corners)]
    enclosed = page.evaluate(INSIDE_JS, [chart, polygon])
    page.mouse.move(*polygon[0])
    page.mouse.down()
    for x, y in polygon[1:] + polygon[:1]:
        page.mouse.move(x, y)
    page.mouse.up()
    return enclosed


def selection_size(page) -> int:
    expect_text(page, SELECTION, "the lasso -> the selection panel", SLOW)
    heading = page.get_by_text(SELECTION).first.inner_text()
    return int(SELECTION.match(heading.strip()).group(1).replace(",", ""))


def test_a_lasso_on_the_vae_map_selects_its_digits_and_downloads_them_as_csv(server, page):
    url = server.url
    open_page(page, url, "latent_map")
    expect_text(page, "Latent map: VAE vs PCA", "latent map title", SLOW)
    assert_rendered(page, "latent map")
    wait_gl_drawn(page, 0, "selection_vae_map")
    wait_gl_drawn(page, 1, "selection_pca_map")

    enclosed = lasso(page, 0)
    n = selection_size(page)
    assert_rendered(page, "latent map after a lasso")
    assert 100 < n < 10_000 and abs(n - enclosed) <= 2, f"the lasso enclosed {enclosed} digits, the panel says {n}"

    wait_idle(page, SLOW)
    page.wait_for_function(f"() => ({LAST_TRACE_JS})(1)[0] === 'selected'", timeout=WAIT)
    highlighted = {chart: page.evaluate(LAST_TRACE_JS, chart) for chart in (0, 1)}
    for chart, (name, indices) in highlighted.items():  # the same digits on both maps
        assert name == "selected" and len(indices) == n == len(set(indices)), f"map {chart}: {name}, {len(indices)}"
    assert highlighted[0][1] == highlighted[1][1]
    bars = page.evaluate(BARS_JS)
    assert bars is not None and len(bars) == 10 and sum(bars) == n, f"label bars {bars} for {n} digits"
    gallery = page.locator('[data-testid="stMain"] [data-testid="stHtml"] img')
    assert gallery.count() == min(n, 100), f"{gallery.count()} digits in the gallery of {n}"
    shot(page, "selection_01_lasso_on_the_vae_map")

    with page.expect_download(timeout=SLOW) as download:
        page.get_by_role("button", name="Download selection (CSV)").click()
    assert download.value.suggested_filename == f"latent_map_selection_{n}.csv"
    table = pd.read_csv(download.value.path())
    assert list(table.columns) == COLUMNS  # no anomaly scores: this server has not computed them
    assert len(table) == n and table["test_index"].tolist() == sorted(highlighted[1][1])
    assert np.bincount(table["label"], minlength=10).tolist() == bars
    assert np.isfinite(table[COLUMNS[2:]].to_numpy()).all() and (table[["sigma1", "sigma2"]] > 0).all().all()


def test_the_digits_drawn_on_both_maps_follow_the_selection(page):
    # the previous test's selection is still there
    n = selection_size(page)
    page.get_by_text("Show digits", exact=True).click()
    expect_text(page, re.compile(r"^\d+ digits drawn from the selection"), "show digits with a selection", SLOW)
    wait_idle(page, SLOW)
    page.wait_for_function(f"() => ({PICTURES_JS})().slice(0, 2).every(p => p !== null)", timeout=WAIT)
    for picture in page.evaluate(PICTURES_JS)[:2]:
        assert picture == ["data:image/png;base64,", "pixelated"], picture  # one crisp picture on each map
    drawn = [int(t.split()[0]) for t in page.get_by_text(re.compile(r"^\d+ digits drawn")).all_inner_texts()]
    assert len(drawn) == 2 and all(0 < d <= n for d in drawn), drawn
    page.locator(MAIN_PLOTS).nth(0).scroll_into_view_if_needed()
    shot(page, "selection_02_digits_of_the_selection")

    page.get_by_role("button", name="Clear selection").click()
    expect_text(page, re.compile(r"^\d+ digits drawn, one per cell"), "the whole map's digits after Clear", SLOW)
    wait_idle(page, SLOW)
    assert page.get_by_text(SELECTION).count() == 0, "the selection panel is still shown"
    everywhere = [int(t.split()[0]) for t in page.get_by_text(re.compile(r"^\d+ digits drawn")).all_inner_texts()]
    assert len(everywhere) == 2 and all(300 <= d <= 600 for d in everywhere), everywhere
    assert all(a > b for a, b in zip(everywhere, drawn, strict=True))
    shot(page, "selection_03_digits_on_the_whole_maps")


def test_a_link_with_a_digit_and_the_digits_opens_that_view_in_a_fresh_context(server, browser):
    url = server.url
    fresh = new_page(browser, VIEWPORT)
    try:
        fresh.goto(f"{url}/latent_map?model=default&digit=1234&colour_by=label&show_digits=true")
        expect_text(fresh, "test #1234", "the linked digit", SLOW)
        assert_rendered(fresh, "latent map from a link")
        fresh.wait_for_function(f"() => ({PICTURES_JS})().slice(0, 2).every(p => p !== null)", timeout=WAIT)
        assert fresh.get_by_role("switch", name="Show digits").is_checked()
        fresh.get_by_role("button", name="Copy link").click()
        link = fresh.locator('[data-testid="stPopoverBody"] code').first
        link.wait_for(timeout=WAIT)
        assert link.inner_text().strip() == f"{url}/latent_map?model=default&digit=1234&colour_by=label&show_digits=true"
    finally:
        fresh.context.close()
