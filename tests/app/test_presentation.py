"""Presentation mode in AppTest: off by default; the sidebar toggle injects the page-wide styles (no sidebar or
toolbar, larger type) and the exit button, on every rerun until the exit button ends it."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.presentation import EXIT, PRESENTATION_CSS, PRESENTING, TOGGLE

HARNESS = str(Path(__file__).with_name("presentation_app.py"))


def styles(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def test_presentation_mode_is_off_until_the_sidebar_toggle_turns_it_on():
    at = AppTest.from_file(HARNESS, default_timeout=60).run()
    assert not at.exception, at.exception
    toggle = at.sidebar.toggle(key=TOGGLE)
    assert toggle.label == "Presentation mode" and toggle.value is False
    assert PRESENTATION_CSS not in styles(at)
    assert all(b.key != EXIT for b in at.button)

    toggle.set_value(True).run()
    assert not at.exception, at.exception
    assert PRESENTATION_CSS in styles(at)
    assert '[data-testid="stSidebar"]' in PRESENTATION_CSS and "font-size: 20px" in PRESENTATION_CSS
    assert at.button(key=EXIT).label == "Exit presentation"
    at.run()  # remembered: any later run of the session keeps presenting
    assert PRESENTATION_CSS in styles(at) and at.session_state[PRESENTING] is True


def test_the_exit_button_ends_presentation_mode():
    at = AppTest.from_file(HARNESS, default_timeout=60).run()
    at.sidebar.toggle(key=TOGGLE).set_value(True).run()
    at.button(key=EXIT).click().run()
    assert not at.exception, at.exception
    assert PRESENTATION_CSS not in styles(at)
    assert all(b.key != EXIT for b in at.button)
    assert at.sidebar.toggle(key=TOGGLE).value is False and at.session_state[PRESENTING] is False
