"""The desktop layout in a real browser (1600 x 1000, on the shared single-user `server`, where everyone is the
presenter): the sidebar's training form shows its buttons' whole labels, and on Draw a digit the canvas's toolbar
covers none of the introduction while the hint reads across the page, not down a narrow column.
Screenshots: artifacts/screenshots/layout_<what>.png."""
from __future__ import annotations

import pytest

from bench.browser_harness import open_page, wait_idle
from tests.browser.helpers import SIDEBAR, SLOW, shot

pytestmark = pytest.mark.browser

VIEWPORT = (1600, 1000)
# Each of the training form's buttons: (its label, the label's width, the width it is shown in)
FORM_BUTTONS_JS = """() => [...document.querySelectorAll('[data-testid=stSidebar] [data-testid=stFormSubmitButton] button')]
  .map(b => { const text = b.querySelector('[data-testid=stMarkdownContainer]') || b;
    return [b.innerText, text.scrollWidth, text.clientWidth]; })"""
# On Draw a digit: the bottom of the introduction's text, the top of the canvas's toolbar (in the component's shadow
# root), and the hint's lines (its text's height over its line height).
DRAW_BOXES_JS = """() => { const main = document.querySelector('[data-testid=stMain]');
  const intro = main.querySelector('[data-testid=stCaptionContainer]').getBoundingClientRect();
  const canvas = main.querySelector('[data-testid=stBidiComponentIsolated]').shadowRoot;
  const hint = main.querySelector('[data-testid=stAlert] p');
  return {intro: intro.bottom, toolbar: canvas.querySelector('.dc-toolbar').getBoundingClientRect().top,
          lines: hint.getBoundingClientRect().height / parseFloat(getComputedStyle(hint).lineHeight)}; }"""
TOOLBAR_DRAWN_JS = """() => {
  const canvas = document.querySelector('[data-testid=stMain] [data-testid=stBidiComponentIsolated]');
  return !!(canvas && canvas.shadowRoot && canvas.shadowRoot.querySelector('.dc-toolbar')); }"""
CANVAS = '[class*="st-key-draw_canvas_"]'


def test_the_training_forms_buttons_show_their_whole_labels(server, page):
    open_page(page, server.url, "film")
    wait_idle(page, SLOW)
    sidebar = page.locator(SIDEBAR)
    sidebar.get_by_text("Train a new model").click()
    sidebar.locator('[data-testid="stForm"]').wait_for()
    for preset in ("Custom", "Quick"):
        sidebar.locator('[data-testid="stRadio"] label').filter(has_text=preset).click()
        wait_idle(page, SLOW)
        buttons = page.evaluate(FORM_BUTTONS_JS)
        shot(page, f"layout_form_{preset.lower()}")
        assert [label for label, _, _ in buttons] == ["Estimate time", "Train"], buttons
        assert all(width <= shown for _, width, shown in buttons), f"{preset}: a label is cut short: {buttons}"


def test_the_canvas_toolbar_covers_none_of_the_introduction_and_the_hint_reads_across_the_page(server, page):
    open_page(page, server.url, "draw")
    page.get_by_text("Draw a digit in the black box").wait_for(timeout=SLOW)
    page.wait_for_function(TOOLBAR_DRAWN_JS, timeout=SLOW)  # the component draws its own toolbar, once loaded
    page.locator(CANVAS).hover()  # the toolbar shows while the pointer is on the canvas
    page.wait_for_timeout(500)  # its fade-in
    boxes = page.evaluate(DRAW_BOXES_JS)
    shot(page, "layout_draw")
    assert boxes["toolbar"] >= boxes["intro"], f"the toolbar covers {boxes['intro'] - boxes['toolbar']:.0f} px of text"
    assert boxes["lines"] <= 2.5, f"the hint wraps over {boxes['lines']:.1f} lines"
