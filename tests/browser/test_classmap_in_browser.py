"""The class map in real browsers: a student on a phone-sized touch screen (390 x 844) draws a digit with a finger on
the Draw page and sends it; the presenter, in another browser context on the Class map page, sees its star appear,
with the drawing on hover. Once the presenter shows the map, a student on a phone and one on a desktop each find their
own drawing as the larger, red star on top, at its z on the map, over the star everyone sees there. One server in
room mode, one headless Chromium (bench/browser_harness.py)."""
from __future__ import annotations

import math
import re
import sqlite3
from pathlib import Path
from typing import NamedTuple

import pytest
from playwright.sync_api import Page

from bench.browser_harness import CHROMIUM, CHROMIUM_ARGS, serve_app, wait_idle
from tests.browser.helpers import SHOTS, SLOW, WAIT
from vae_core.settings import CLASSMAP_HOLD_ENV, CLASSMAP_INTERVAL_ENV, TOKEN_ENV

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stMain"] canvas.upper-canvas'
# A phone's browser: its size, touch, and a mobile user agent (the server builds a phone's map lower by it).
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                       "Version/17.0 Mobile/15E148 Safari/604.1"}
DESKTOP = {"viewport": {"width": 1600, "height": 1000}}
TOKEN = "classmap-browser-test-token"


class Room(NamedTuple):
    url: str
    presenter: Page  # on a desktop, holding the token
    student: Page  # on a phone
    desk_student: Page  # on a desktop
    db: Path  # the class map's database file


@pytest.fixture(scope="module")
def app(tmp_path_factory, real_data):
    """A room: the presenter's page (holding the token) and two students' pages, three contexts of one browser."""
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("classmap")
    db = tmp / "classmap.sqlite3"
    (tmp / "checkpoints").mkdir()
    env = {"VAE_CLASSMAP_URL": f"sqlite:///{db}", CLASSMAP_HOLD_ENV: "1e9", CLASSMAP_INTERVAL_ENV: "0",
           TOKEN_ENV: TOKEN}
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve_app(tmp / "checkpoints", tmp / "streamlit.log", env) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            presenter = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
            student, desk_student = browser.new_context(**PHONE).new_page(), browser.new_context(**DESKTOP).new_page()
            for page in (presenter, student, desk_student):
                page.set_default_timeout(WAIT)
            presenter.goto(f"{url}/?presenter={TOKEN}")  # the token kept in this browser's cookie
            wait_idle(presenter, SLOW)
            yield Room(url, presenter, student, desk_student, db)
        finally:
            browser.close()


def finger_stroke(page, points) -> None:
    """A one-finger stroke through points (page coordinates), as a phone's touch screen reports it."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind, x, y):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [] if kind == "touchEnd" else
                                              [{"x": x, "y": y, "radiusX": 4, "radiusY": 4, "force": 1, "id": 1}]})

    touch("touchStart", *points[0])
    for x, y in points[1:]:
        touch("touchMove", x, y)
    touch("touchEnd", *points[-1])
    cdp.detach()


def mouse_stroke(page, points) -> None:
    """A stroke with the mouse through points (page coordinates)."""
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=3)
    page.mouse.up()


def send_a_digit(page, url: str, touch: bool) -> int:
    """On the Draw page: a stroke (a finger's on a touch screen, else the mouse's), then Send; the drawing's id."""
    page.goto(f"{url}/draw")
    canvas = page.locator(CANVAS).first
    canvas.wait_for(timeout=SLOW)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]  # the canvas fits the width
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 0.32 * box["width"]
    (finger_stroke if touch else mouse_stroke)(page, [(cx + r * math.cos(math.radians(-80 + 170 * t / 20)),
                                                       cy + r * math.sin(math.radians(-80 + 170 * t / 20)))
                                                      for t in range(21)])
    send = page.get_by_role("button", name=re.compile("Send to the class map"))
    send.wait_for(timeout=SLOW)
    send.scroll_into_view_if_needed()
    send.tap() if touch else send.click()
    sent = page.locator('[data-testid="stAlert"]', has_text="Sent — you are here").first
    sent.wait_for(timeout=SLOW)
    return int(re.search(r"drawing #(\d+)", sent.inner_text()).group(1))


def test_a_digit_drawn_with_a_finger_on_a_phone_appears_as_a_star_on_the_presenters_class_map(app):
    url, presenter, student = app.url, app.presenter, app.student
    presenter.goto(f"{url}/class_map")
    presenter.get_by_text("Waiting for you: 0").wait_for(timeout=SLOW)
    assert presenter.locator(".cm-star").count() == 0

    drawing_id = send_a_digit(student, url, touch=True)
    student.screenshot(path=str(SHOTS / "classmap_student_phone.png"), full_page=False)

    star = presenter.locator(f'.cm-star[data-id="{drawing_id}"]')
    star.wait_for(timeout=SLOW)  # polled by the page's fragment, served from the shared database
    star.hover()
    card = star.locator(".cm-card")
    card.wait_for(state="visible", timeout=WAIT)
    assert f"#{drawing_id}" in card.inner_text()
    assert card.locator("img").first.evaluate("img => img.complete && img.naturalWidth") == 28
    assert presenter.get_by_text(re.compile(r"1\s+drawing on the map")).count() == 1
    presenter.screenshot(path=str(SHOTS / "classmap_presenter.png"), full_page=False)


# The map's plot area and where Plotly draws a z on it, and the stars of one drawing: the student's own (red) and the
# one everyone sees; for each its centre, colour, size, and whether it is what the screen shows at its centre.
STARS_JS = """([id, zx, zy]) => {
  const el = document.querySelector('.st-key-classmap_map .js-plotly-plot'), fl = el._fullLayout;
  const b = el.getBoundingClientRect(), x0 = b.left + fl.xaxis._offset, y0 = b.top + fl.yaxis._offset;
  const star = s => { if (!s) return null;
    const r = s.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2, css = getComputedStyle(s);
    return {x, y, colour: css.color, px: parseFloat(css.fontSize), on_top: s.contains(document.elementFromPoint(x, y))};
  };
  return {plot: [x0, y0, x0 + fl.xaxis._length, y0 + fl.yaxis._length],
          at: [x0 + fl.xaxis.l2p(zx), y0 + fl.yaxis.l2p(zy)],
          own: star(document.querySelector(`.cm-star.cm-mine[data-id="${id}"]`)),
          shared: star(document.querySelector(`.cm-star:not(.cm-mine)[data-id="${id}"]`))}; }"""


def reveal(presenter, url: str) -> None:
    """The presenter shows the class map to the students (once: it stays shown)."""
    if "/class_map" not in presenter.url:
        presenter.goto(f"{url}/class_map")
    toggle = presenter.get_by_role("button", name=re.compile("(Show it to|Hide it from) students"))
    toggle.wait_for(timeout=SLOW)
    if "Show" in toggle.inner_text():
        toggle.click()
    presenter.get_by_role("button", name=re.compile("Hide it from students")).wait_for(timeout=WAIT)


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_a_students_own_drawing_is_the_larger_red_star_at_its_place_on_the_class_map(app, device):
    reveal(app.presenter, app.url)
    page = app.student if device == "phone" else app.desk_student
    drawing_id = send_a_digit(page, app.url, touch=device == "phone")
    (z,) = sqlite3.connect(app.db).execute("SELECT z1, z2 FROM drawings WHERE id = ?", (drawing_id,)).fetchall()
    page.goto(f"{app.url}/class_map")
    page.locator(f'.cm-star.cm-mine[data-id="{drawing_id}"]').wait_for(timeout=SLOW)
    page.wait_for_function("() => { const el = document.querySelector('.st-key-classmap_map .js-plotly-plot');"
                           " return !!(el && el._fullLayout && el._fullLayout.xaxis._length); }", timeout=SLOW)
    page.locator(".st-key-classmap_map").scroll_into_view_if_needed()
    s = page.evaluate(STARS_JS, [drawing_id, *z])
    page.screenshot(path=str(SHOTS / f"classmap_own_star_{device}.png"), full_page=False)
    (left, top, right, bottom), (x, y) = s["plot"], s["at"]
    for which in ("own", "shared"):  # both on the map's own pixel for the drawing's z
        star = s[which]
        assert left <= star["x"] <= right and top <= star["y"] <= bottom, (which, s)
        assert abs(star["x"] - x) < 2 and abs(star["y"] - y) < 2, (which, s)
    own, shared = s["own"], s["shared"]
    assert own["on_top"] and own["colour"] != shared["colour"] and own["px"] > shared["px"], s  # seen, and told apart
