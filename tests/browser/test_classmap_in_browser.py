"""The class map in real browsers: a student on a phone-sized touch screen (390 x 844) draws a digit with a finger on
the Draw page and sends it; the presenter, in another browser context on the Class map page, sees its star appear,
with the drawing on hover. One server, one headless Chromium (bench/browser_harness.py)."""
from __future__ import annotations

import math
import re

import pytest

from bench.browser_harness import CHROMIUM, CHROMIUM_ARGS, serve_app
from tests.browser.helpers import SHOTS, SLOW, WAIT

pytestmark = pytest.mark.browser

CANVAS = '[data-testid="stMain"] canvas.upper-canvas'
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def app(tmp_path_factory, real_data):
    """(base url, the presenter's page, the student's page, the database file): two contexts of one browser."""
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("classmap")
    db = tmp / "classmap.sqlite3"
    (tmp / "checkpoints").mkdir()
    env = {"VAE_CLASSMAP_URL": f"sqlite:///{db}", "VAE_CLASSMAP_HOLD_ABOVE": "1e9"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve_app(tmp / "checkpoints", tmp / "streamlit.log", env) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            presenter = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
            student = browser.new_context(**PHONE).new_page()
            for page in (presenter, student):
                page.set_default_timeout(WAIT)
            yield url, presenter, student, db
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


def test_a_digit_drawn_with_a_finger_on_a_phone_appears_as_a_star_on_the_presenters_class_map(app):
    url, presenter, student, db = app
    presenter.goto(f"{url}/class_map")
    presenter.get_by_text("Waiting for you: 0").wait_for(timeout=SLOW)
    assert presenter.locator(".cm-star").count() == 0

    student.goto(f"{url}/draw")
    canvas = student.locator(CANVAS).first
    canvas.wait_for(timeout=SLOW)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the canvas fits the phone's width
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 0.32 * box["width"]
    finger_stroke(student, [(cx + r * math.cos(math.radians(-80 + 170 * t / 20)),
                             cy + r * math.sin(math.radians(-80 + 170 * t / 20))) for t in range(21)])
    send = student.get_by_role("button", name=re.compile("Send to the class map"))
    send.wait_for(timeout=SLOW)
    send.scroll_into_view_if_needed()
    send.tap()
    sent = student.locator('[data-testid="stAlert"]', has_text="Sent — you are here").first
    sent.wait_for(timeout=SLOW)
    drawing_id = int(re.search(r"drawing #(\d+)", sent.inner_text()).group(1))
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
