"""Presentation mode in AppTest: off by default; the sidebar toggle injects the page-wide styles (no sidebar or
toolbar, larger type) and the exit button, on every rerun until the exit button ends it."""
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer.shell.presentation import EXIT, PRESENTING, TOGGLE, presentation_css

HARNESS = str(Path(__file__).with_name("presentation_app.py"))
css = presentation_css()


def styles(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def test_presentation_mode_is_off_until_the_sidebar_toggle_turns_it_on():
    at = AppTest.from_file(HARNESS, default_timeout=60).run()
    assert not at.exception, at.exception
    toggle = at.sidebar.toggle(key=TOGGLE)
    assert toggle.label == "Presentation mode" and toggle.value is False
    assert css not in styles(at)
    assert all(b.key != EXIT for b in at.button)

    toggle.set_value(True).run()
    assert not at.exception, at.exception
    assert css in styles(at)
    base = st.get_option("theme.baseFontSize") or 16  # .streamlit/config.toml: 18
    assert '[data-testid="stSidebar"]' in css and f"html {{ font-size: {1.25 * base:g}px !important; }}" in css
    assert at.button(key=EXIT).label == "Exit presentation"
    at.run()  # remembered: any later run of the session keeps presenting
    assert css in styles(at) and at.session_state[PRESENTING] is True


def test_the_exit_button_ends_presentation_mode():
    at = AppTest.from_file(HARNESS, default_timeout=60).run()
    at.sidebar.toggle(key=TOGGLE).set_value(True).run()
    at.button(key=EXIT).click().run()
    assert not at.exception, at.exception
    assert css not in styles(at)
    assert all(b.key != EXIT for b in at.button)
    assert at.sidebar.toggle(key=TOGGLE).value is False and at.session_state[PRESENTING] is False
