"""The desktop layout in a real browser (1600 x 1000, on the shared single-user `server`, where everyone is the
presenter): the sidebar's training form shows its buttons' whole labels.
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

