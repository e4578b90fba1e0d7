"""Presentation mode, for a projector: the sidebar and Streamlit's toolbar hidden, the pages listed along the top,
type 1.25x the theme's size on every page. A toggle in the sidebar turns it on; a small "Exit presentation" button in the
page's top-right corner (the sidebar is hidden) turns it off. Remembered for the session (st.session_state).

Imports only Streamlit: navigation.py calls it before the model code is imported."""
from __future__ import annotations

import streamlit as st

PRESENTING = "presentation_on"  # session state: this session presents
TOGGLE = "presentation_toggle"  # the sidebar toggle's widget key
EXIT = "presentation_exit"  # the exit button's widget key (Streamlit gives its container the class st-key-<key>)

SCALE = 1.25  # type size when presenting, relative to the theme's (.streamlit/config.toml: baseFontSize = 18)


def presentation_css() -> str:
    """Streamlit sizes its type in rem from the theme's baseFontSize (the root font): a larger root font enlarges
    every text, heading, widget and metric alike. Plotly figures set their own sizes (explorer/render/figures.py: 18 px,
    already sized for a projector)."""
    root = (st.get_option("theme.baseFontSize") or 16) * SCALE
    return f"""<style>
html {{ font-size: {root:g}px !important; }}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stToolbarActions"], [data-testid="stMainMenu"], [data-testid="stAppDeployButton"],
[data-testid="stStatusWidget"], [data-testid="stDecoration"] {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100%; padding: 3.5rem 3rem 2rem; }}
.st-key-{EXIT} {{ position: fixed; top: 0.5rem; right: 1rem; z-index: 1000000; width: auto !important; }}
</style>"""


def presenting() -> bool:
    return bool(st.session_state.get(PRESENTING, False))


def _set(on: bool) -> None:
    st.session_state[PRESENTING] = on
    st.session_state[TOGGLE] = on


def render_toggle() -> None:
    """The sidebar's switch (written where the caller is)."""
    if st.session_state.get(TOGGLE) != presenting():  # e.g. its widget state was dropped on a run without a sidebar
        st.session_state[TOGGLE] = presenting()
    st.toggle("Presentation mode", key=TOGGLE, on_change=lambda: _set(st.session_state[TOGGLE]),
              help="For a projector: hides this sidebar and the toolbar, lists the pages along the top and enlarges "
                   "the type. Leave it with the button in the top-right corner.")


def render_presentation() -> None:
    """When presenting: the page-wide styles, and the button that ends it (pinned top-right by the styles)."""
    if not presenting():
        return
    st.html(presentation_css())
    st.button("Exit presentation", key=EXIT, on_click=_set, args=(False,), icon=":material/close_fullscreen:")
