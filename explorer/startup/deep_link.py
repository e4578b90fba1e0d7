"""A bookmarked or shared page link (/latent_map) on a fresh server must still run through navigation.py.

The page files sit in pages/, where Streamlit also looks for a legacy multipage app: until a script calls
st.navigation, a fresh server runs the first request in that legacy mode. For the root URL that runs navigation.py,
which calls st.navigation and ends the mode; but a deep link to /latent_map would run pages/latent_map.py alone -- no
sidebar, narrow layout, its file names as navigation. A page that finds itself run that way ends the legacy mode
and reruns, so navigation.py runs and shows the requested page. (The flag is Streamlit's own, set by st.navigation;
it is read here because Streamlit has no public switch for it. tests/browser checks a fresh server's deep link.)

Every page calls `ensure_navigation()` first, before importing torch (tests/app/test_import_order.py): on a deep
link the rerun then costs nothing, instead of a torch import (seconds) that the rerun throws away.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_navigation() -> None:
    """Rerun through navigation.py if Streamlit ran this page file directly (legacy pages/ mode)."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation in navigation.py would have set
        st.rerun()
