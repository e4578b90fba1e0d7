"""The Draw a digit page in a real browser: a stroke drawn with the mouse on the canvas puts the star on the map where
the encoder puts the digit, Clear and a second stroke move it, and the drawn digit can then be repaired on the Repair
page. Runs on the shared `server` with one page for the module (tests/browser/conftest.py); screenshots in
artifacts/screenshots/."""
from __future__ import annotations

import math
import re

import pytest

from bench.browser_harness import NAV, wait_idle
from explorer.page.url_state import DEFAULT_REPAIR
from tests.browser.helpers import SLOW, WAIT, assert_rendered, expect_text, shot, wait_gl_drawn

pytestmark = pytest.mark.browser
VIEWPORT = (1600, 1400)

CANVAS = '[data-testid="stMain"] canvas.upper-canvas'  # fabric.js takes the mouse on the upper of its two canvases
# The star's centre on screen, and where the map (the page's only Plotly chart) draws the z the star says it is at.
STAR_JS = """() => { const s = document.querySelector('[data-testid=stMain] .map-star');
  if (!s) return null;
  const r = s.getBoundingClientRect(), [zx, zy] = s.dataset.z.split(',').map(Number);
  const el = document.querySelector('[data-testid=stMain] .js-plotly-plot'), fl = el._fullLayout;
  const b = el.getBoundingClientRect();
  return {x: r.x + r.width / 2, y: r.y + r.height / 2, z: [zx, zy],
          mapX: b.left + fl.xaxis._offset + fl.xaxis.l2p(zx), mapY: b.top + fl.yaxis._offset + fl.yaxis.l2p(zy)}; }"""


def follow_sidebar_link(page, slug: str) -> None:
    """Once the current page's run is over, click the sidebar's link to /slug and wait for the address (which may
    carry ?model=...)."""
    wait_idle(page, SLOW)
    page.locator(f'{NAV} a[href*="/{slug}"]').click()
    page.wait_for_url(re.compile(rf"/{slug}(\?|$)"), timeout=SLOW)


def draw_arc(page, start_deg: float, sweep_deg: float) -> None:
    """Press, drag along an arc of the canvas's inscribed circle (radius 32% of its width), release."""
    box = page.locator(CANVAS).first.bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 0.32 * box["width"]
    points = [(cx + r * math.cos(math.radians(start_deg + sweep_deg * t / 15)),
               cy + r * math.sin(math.radians(start_deg + sweep_deg * t / 15))) for t in range(16)]
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=3)
    page.mouse.up()


def star(page, old: dict | None = None, timeout: float = WAIT) -> dict:
    """The star, once it is shown (and, given old, has moved away from it)."""
    moved = "true" if old is None else f"Math.hypot(s.x - {old['x']}, s.y - {old['y']}) > 3"
    page.wait_for_function(f"() => {{ const s = ({STAR_JS})(); return !!s && {moved}; }}", timeout=timeout,
                           polling="raf")
    return page.evaluate(STAR_JS)


def test_a_stroke_drawn_with_the_mouse_puts_the_star_where_the_encoder_puts_the_digit(server, page):
    url = server.url
    page.goto(url)
    page.wait_for_selector(NAV, timeout=SLOW)
    follow_sidebar_link(page, "draw")
    expect_text(page, "Draw a digit in the black box", "draw page prompt", SLOW)
    page.locator(CANVAS).first.wait_for(timeout=SLOW)
    wait_gl_drawn(page, 0, "draw page map")
    assert page.evaluate(STAR_JS) is None
    draw_arc(page, -80, 170)  # a right-hand bracket, like a 1 or a 7's stem
    s = star(page)
    expect_text(page, "what the model sees (28×28)", "the 28x28 shown")
    expect_text(page, "Its 5 nearest test digits in the latent space", "neighbours")
    assert_rendered(page, "draw page after a stroke")
    # the star sits on the map's own pixel for its z (the overlay and Plotly's equal-scale plot area agree)
    assert abs(s["x"] - s["mapX"]) < 2 and abs(s["y"] - s["mapY"]) < 2, s
    shot(page, "draw_stroke")


def test_clear_removes_the_star_and_a_new_stroke_moves_it(page):
    first = page.evaluate(STAR_JS)
    assert first is not None, "no star left by the previous test"
    page.get_by_role("button", name="Clear").click()
    page.wait_for_function(f"() => ({STAR_JS})() === null", timeout=WAIT)
    wait_idle(page, WAIT)
    draw_arc(page, 200, 300)  # most of a circle: a 0
    s = star(page, old=first)
    assert math.dist(s["z"], first["z"]) > 0.3, (s, first)
    assert abs(s["x"] - s["mapX"]) < 2 and abs(s["y"] - s["mapY"]) < 2, s
    assert_rendered(page, "draw page after a second stroke")
    shot(page, "draw_second_stroke")


def test_the_drawn_digit_can_be_repaired_on_the_repair_page(page):
    follow_sidebar_link(page, "repair")
    expect_text(page, f"Repairing test #{DEFAULT_REPAIR[0]} ", "repair page", SLOW)
    page.get_by_text("Your digit from the Draw page").click()
    expect_text(page, "Repairing your drawing", "the drawn digit on the repair page", SLOW)
    assert_rendered(page, "repair page with the drawn digit")
    shot(page, "repair_drawn_digit")
