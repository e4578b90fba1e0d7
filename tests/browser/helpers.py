"""What the browser tests share: waits with a named failure, screenshots, and the app's sidebar controls (model picker,
training form). Streamlit- and Plotly-specific page driving lives in bench/browser_harness.py."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.browser_harness import EXCEPTION, GL_PIXELS_JS, ROOT, rerun_of, wait_idle

SHOTS = ROOT / "artifacts" / "screenshots"  # gitignored
SLOW = 90_000  # ms: the first view of a page computes encodings/PCA/metrics on a shared 2-core machine
WAIT = 30_000  # ms: a click or slider move (a fragment rerun)
SIDEBAR = '[data-testid="stSidebar"]'
PICKER = f'{SIDEBAR} input[aria-label="Model"]'
ERROR_ALERT = '[data-testid="stMain"] [data-testid="stAlertContentError"]'


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))  # the viewport: Streamlit scrolls inside its own container
    return path


def failure_shot(page, what: str) -> Path:
    """A screenshot named for the step that failed."""
    return shot(page, f"FAILED_{re.sub(r'[^a-z0-9]+', '_', what.lower())}")


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
        raise AssertionError(f"{what}: {text!r} did not appear within {timeout / 1000:.0f} s "
                             f"(screenshot {failure_shot(page, what)})") from e


# the sidebar's training progress line: "Epoch 5/8 · loss 201.2" (the loss of the epoch so far), then "Saving…"
PROGRESS = re.compile(r"Epoch \d+/\d+ · (?:loss [\d.]+|starting…)|Saving…")


def expect_training_end(page, text, what: str, stall: float = SLOW) -> None:
    """Wait until `text` (the message a finished training shows) is visible, for as long as the sidebar's progress
    line keeps moving: a training on a busy machine is slow, not stuck; it fails once the line has not changed for
    `stall` ms."""
    def progress() -> str:
        found = PROGRESS.search(page.locator(SIDEBAR).inner_text())
        return found.group(0) if found else ""

    last = progress()
    while True:
        try:
            page.get_by_text(text).first.wait_for(state="visible", timeout=stall)
            return
        except PlaywrightTimeout as e:
            now = progress()
            if now == last:
                raise AssertionError(f"{what}: {text!r} did not appear, and the training stayed at "
                                     f"{now or 'no progress line'!r} for {stall / 1000:.0f} s "
                                     f"(screenshot {failure_shot(page, what)})") from e
            last = now


def wait_gl_drawn(page, chart: int, what: str, min_pixels: int = 2000) -> None:
    """Until the WebGL layer of the chart has drawn points (not just an empty canvas)."""
    try:
        page.wait_for_function(f"([i, n]) => ({GL_PIXELS_JS})(i) >= n",
                               arg=[chart, min_pixels], timeout=SLOW, polling=250)
    except PlaywrightTimeout as e:
        path = failure_shot(page, what)
        raise AssertionError(f"{what}: the WebGL scatter #{chart} drew no points (screenshot {path})") from e


def image_sources(page) -> list[str]:
    return page.locator('[data-testid="stMain"] [data-testid="stImage"] img').evaluate_all("els => els.map(e => e.src)")


def picked_model(page) -> str:
    return page.locator(PICKER).input_value()


def open_picker(page) -> None:
    """Open the sidebar's model picker, scrolled into view first, as a presenter who sees it does: after a training
    the sidebar ends scrolled past the picker (the open form above), and a click that had to scroll it back left
    BaseWeb's list closed (no option after 30 s, three runs of three)."""
    picker = page.locator(PICKER)
    picker.scroll_into_view_if_needed()
    picker.click()
    page.locator('[role="option"]').first.wait_for()


def pick_model(page, name: str) -> None:
    """Pick the model called `name` in the sidebar and wait for the rerun that shows it: the picker says so at once,
    the page only once a run started by the pick has finished."""
    with rerun_of(page, SLOW):
        open_picker(page)
        page.locator('[role="option"]').filter(has_text=re.compile(rf"^{re.escape(name)}\b")).first.click()
    shown = picked_model(page)
    assert shown == name or shown.startswith(f"{name} ("), f"picked {name!r}, the picker shows {shown!r}"


def start_training(page, fields: dict[str, str], form_text: str | None = None, screenshot: str | None = None) -> None:
    """Open the sidebar's training form (the one holding `form_text`, if given), fill `fields` (label -> value; each
    checked as typed), take the screenshot if named, and press Train."""
    sidebar = page.locator(SIDEBAR)
    sidebar.get_by_text("Train a new model").click()
    form = sidebar.locator('[data-testid="stForm"]')
    if form_text:
        form = form.filter(has_text=form_text)
    form.wait_for()
    for label, value in fields.items():
        field = form.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
        assert field.input_value() == value, f"training form: {label} holds {field.input_value()!r}, not {value!r}"
    if screenshot:
        shot(page, screenshot)
    form.get_by_role("button", name="Train", exact=True).click()


def query(page) -> dict[str, str]:
    """The page's address's query, one value a name."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query, keep_blank_values=True).items()}


def grid_sliders(page) -> list[float]:
    """The decoder grid's four sliders (G, a, z1, z2), once all four are drawn."""
    found = page.locator('[data-testid="stMain"] [data-testid="stSlider"] input[type="range"]')
    found.nth(3).wait_for(state="attached")
    return [float(v) for v in found.evaluate_all("els => els.map(e => e.value)")]
